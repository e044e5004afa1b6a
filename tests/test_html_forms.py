"""The generated HTML form: accessible, French, never loses what was typed."""

import re
from html import unescape

import pytest
from conftest import csrf_from, public_rows

FORM = {
    "title": "Demande de salle",
    "description": "Réserver une salle municipale.",
    "type": "object",
    "required": ["association", "participants", "date", "assurance"],
    "properties": {
        "association": {
            "type": "string",
            "title": "Association",
            "x-purpose": "Savoir qui occupe la salle.",
            "examples": ["Club de judo"],
        },
        "participants": {
            "type": "integer",
            "minimum": 1,
            "maximum": 500,
            "title": "Participants",
            "x-purpose": "Sécurité incendie.",
            "default": 20,
        },
        "budget": {"type": "number", "title": "Budget", "x-purpose": "Tarif."},
        "date": {
            "type": "string",
            "format": "date",
            "title": "Date",
            "x-purpose": "Planning.",
        },
        "assurance": {
            "type": "boolean",
            "title": "Assurance",
            "x-purpose": "Obligation légale.",
        },
        "sono": {"type": "boolean", "title": "Sonorisation", "x-purpose": "Matériel."},
        "salle": {
            "type": "string",
            "enum": ["A", "B", "C"],
            "title": "Salle",
            "x-purpose": "Affectation.",
        },
        "telephone": {
            "type": "string",
            "title": "Téléphone",
            "x-publish": False,
            "x-purpose": "Joindre le responsable le jour J.",
        },
        "notes": {"type": "string", "title": "Notes"},
    },
}


@pytest.fixture
def form_page(agent, make_form):
    make_form(FORM, "salle")
    return agent


def test_anonymous_is_sent_to_sign_in(client):
    response = client.get("/formulaires/salle/")
    assert response.status_code == 302
    assert "/connexion" in response.headers["Location"]


def test_page_is_french_and_every_input_is_labelled(form_page):
    html = form_page.get("/formulaires/salle/").text
    assert '<html lang="fr">' in html
    for input_id in re.findall(
        r'<(?:input|select|textarea)[^>]*\bid="(champ-[^"]+)"', html
    ):
        assert f'for="{input_id}"' in html, input_id
    assert "Savoir qui occupe la salle." in html
    assert "finalité non renseignée" in html  # "notes" has no purpose
    assert "Donnée non publiée" in html
    assert 'aria-describedby="champ-0-finalite champ-0-aide"' in html
    assert 'value="20"' in html  # the default pre-fills the form


def test_required_boolean_is_an_unselected_yes_no_choice(form_page):
    html = form_page.get("/formulaires/salle/").text
    group = html[html.index("<legend>Assurance") :]
    group = group[: group.index("</fieldset>")]
    assert 'value="oui"' in group and 'value="non"' in group
    assert "checked" not in group


def _group(html: str, legend: str) -> str:
    group = html[html.index(f"<legend>{legend}") :]
    return group[: group.index("</fieldset>")]


def test_optional_choice_can_be_taken_back_without_javascript(form_page, app):
    # An optional radio group has "Sans réponse": once a choice is clicked,
    # an agent without JavaScript can still leave it unanswered.
    group = _group(form_page.get("/formulaires/salle/").text, "Salle")
    assert re.search(r'value=""\s*checked>\s*<label[^>]*>Sans réponse', group)
    base = {"association": "A", "participants": "2", "date": "01/02/2025"}
    assert (
        post(form_page, {**base, "assurance": "oui", "salle": "B"}).status_code == 302
    )
    page = form_page.get("/formulaires/salle/entrees/1").text
    group = _group(page, "Salle")
    assert re.search(r'value="B"\s*checked', group)
    assert not re.search(r'value=""\s*checked', group)
    revision = re.search(r'name="revision" value="(\d+)"', page)[1]
    data = {**base, "assurance": "oui", "salle": "", "revision": revision}
    response = form_page.post(
        "/formulaires/salle/entrees/1", data={"csrf_token": csrf_from(page), **data}
    )
    assert response.status_code == 302
    assert public_rows(app, "salle")[0]["salle"] is None
    # A required yes/no keeps two choices: an answer is asked for.
    assert "Sans réponse" not in _group(page, "Assurance")


def post(client, data):
    page = client.get("/formulaires/salle/").text
    return client.post(
        "/formulaires/salle/", data={"csrf_token": csrf_from(page), **data}
    )


def test_french_input_is_stored_typed(form_page, app):
    response = post(
        form_page,
        {
            "association": "Judo",
            "participants": "45",
            "budget": "1 234,5",
            "date": "12/03/2025",
            "assurance": "oui",
            "salle": "B",
            "telephone": "0102030405",
            "notes": "ligne 1\r\nligne 2",
        },
    )
    assert response.status_code == 302
    row = public_rows(app, "salle")[0]
    assert row["budget"] == 1234.5
    assert row["date"] == "2025-03-12"
    assert row["assurance"] == 1
    assert row["sono"] == 0  # an unticked optional checkbox means "no"
    assert row["notes"] == "ligne 1\nligne 2"
    assert "telephone" not in row


def test_errors_are_summarised_linked_and_typed_values_kept(form_page, app):
    response = post(
        form_page,
        {
            "association": "Judo <b>&</b>",
            "participants": "mille",
            "budget": "12,5",
            "date": "31/02/2025",
        },
    )
    assert response.status_code == 422
    html = response.text
    title = re.search(r"<title>(.*?)</title>", html, re.DOTALL)[1]
    assert title.startswith("Erreur")
    start = html.index('class="resume-erreurs"')
    summary = html[start : html.index("</ul>", start)]
    assert 'href="#champ-1"' in summary  # participants
    assert 'href="#champ-3"' in summary  # date
    assert 'href="#champ-4"' in summary  # assurance, required
    assert "nombre entier" in unescape(summary)
    # What the agent typed stays, escaped.
    assert 'value="Judo &lt;b&gt;&amp;&lt;/b&gt;"' in html
    assert 'value="mille"' in html
    assert 'value="12,5"' in html
    assert 'value="31/02/2025"' in html
    assert 'aria-invalid="true"' in html
    assert "champ-1-erreur" in html
    assert public_rows(app, "salle") == []


def test_missing_csrf_token_keeps_values_and_stores_nothing(form_page, app):
    response = form_page.post("/formulaires/salle/", data={"association": "Judo"})
    assert response.status_code == 422
    assert "session a expiré" in unescape(response.text)
    assert 'value="Judo"' in response.text
    assert public_rows(app, "salle") == []


def test_unknown_form_is_a_french_404(agent):
    response = agent.get("/formulaires/inexistant/")
    assert response.status_code == 404
    assert "Page introuvable" in response.text


def test_home_links_lead_to_each_form(form_page):
    html = form_page.get("/").text
    assert 'href="/formulaires/salle/"' in html
    assert 'href="/formulaires/salle/entrees/"' in html
    assert 'href="/data/public/salle"' in html
    assert form_page.get("/formulaires/salle/").status_code == 200


def test_readable_date_is_shown_back_as_iso_for_the_date_input(form_page):
    response = post(form_page, {"association": "Judo", "date": "12/03/2025"})
    assert response.status_code == 422
    assert 'value="2025-03-12"' in response.text


def test_entry_page_shows_labels_and_french_values(form_page, app):
    response = post(
        form_page,
        {
            "association": "Judo",
            "participants": "45",
            "budget": "1234,5",
            "date": "12/03/2025",
            "assurance": "oui",
            "salle": "B",
        },
    )
    page = form_page.get(response.headers["Location"]).text
    assert "12/03/2025" in page and "1234,5" in page and "Oui" in page


GROUPED = {
    "title": "Association",
    "type": "object",
    "required": ["nom"],
    "properties": {
        "nom": {"type": "string", "title": "Nom", "x-purpose": "Identifier."},
        "siege": {
            "type": "object",
            "title": "Siège",
            "x-purpose": "Adresser le courrier.",
            "required": ["ville"],
            "properties": {
                "ville": {"type": "string", "title": "Ville", "x-purpose": "Courrier."},
                "pmr": {
                    "type": "boolean",
                    "title": "Accessible",
                    "x-purpose": "Accès.",
                },
            },
        },
    },
}


def test_nested_group_is_a_fieldset_and_is_stored_nested(agent, make_form, app):
    make_form(GROUPED, "asso")
    html = agent.get("/formulaires/asso/").text
    assert "<legend>Siège" in html
    assert 'name="siege.ville"' in html and 'id="champ-1-0"' in html

    def send(data):
        page = agent.get("/formulaires/asso/").text
        return agent.post(
            "/formulaires/asso/", data={"csrf_token": csrf_from(page), **data}
        )

    # The group left blank (its checkbox unticked) is no answer: no error.
    assert send({"nom": "Club"}).status_code == 302
    # Begun but incomplete: the error points into the group.
    response = send({"nom": "Club 2", "siege.pmr": "oui"})
    assert response.status_code == 422
    assert 'href="#champ-1-0"' in response.text
    assert (
        send({"nom": "Club 3", "siege.ville": "Lyon", "siege.pmr": "oui"}).status_code
        == 302
    )
    rows = public_rows(app, "asso")
    assert [(r["nom"], r["siege__ville"], r["siege__pmr"]) for r in rows] == [
        ("Club", None, None),
        ("Club 3", "Lyon", 1),
    ]


LISTED = {
    "title": "Subventions",
    "type": "object",
    "required": ["dispositif"],
    "properties": {
        "dispositif": {"type": "string", "title": "Dispositif", "x-purpose": "Nommer."},
        "beneficiaires": {
            "type": "array",
            "title": "Bénéficiaires",
            "minItems": 1,
            "x-purpose": "Savoir qui reçoit l'aide.",
            "items": {
                "type": "object",
                "required": ["nom", "montant"],
                "properties": {
                    "nom": {"type": "string", "title": "Nom", "x-purpose": "Qui."},
                    "montant": {
                        "type": "number",
                        "minimum": 0,
                        "title": "Montant",
                        "x-purpose": "Combien.",
                    },
                },
            },
        },
    },
}


def test_repeatable_group_without_javascript(agent, make_form, app):
    make_form(LISTED, "subv")
    html = agent.get("/formulaires/subv/").text
    assert 'name="beneficiaires.0.nom"' in html
    assert "beneficiaires.1.nom" not in html

    page = agent.get("/formulaires/subv/").text
    base = {
        "csrf_token": csrf_from(page),
        "dispositif": "Sport",
        "beneficiaires.0.nom": "Club A",
        "beneficiaires.0.montant": "1 200,5",
    }
    # "Add a row": the same page again with a blank second row, nothing saved.
    added = agent.post(
        "/formulaires/subv/", data={**base, "_ajouter_ligne": "beneficiaires"}
    )
    assert added.status_code == 200
    assert 'name="beneficiaires.1.nom"' in added.text
    assert 'value="Club A"' in added.text
    assert public_rows(app, "subv") == []

    # An error in the second row points at that row's field.
    wrong = agent.post(
        "/formulaires/subv/",
        data={**base, "beneficiaires.1.nom": "Club B", "beneficiaires.1.montant": "-3"},
    )
    assert wrong.status_code == 422
    assert 'href="#champ-1-r1-1"' in wrong.text
    # The summary names the row, not only the field.
    assert "Bénéficiaires, ligne 2 › Montant : doit" in unescape(wrong.text)

    # Remove the first row: the second moves up, what was typed is kept.
    removed = agent.post(
        "/formulaires/subv/",
        data={
            **base,
            "beneficiaires.1.nom": "Club B",
            "beneficiaires.1.montant": "30",
            "_retirer_ligne": "beneficiaires.0",
        },
    )
    assert removed.status_code == 200
    assert 'name="beneficiaires.0.nom" value="Club B"' in removed.text
    assert "Club A" not in removed.text
    # The row now in its place takes the focus (a new page starts at the top).
    focused = re.findall(
        r"<fieldset[^>]*autofocus[^>]*>\s*<legend>([^<]*)", removed.text
    )
    assert focused == ["Bénéficiaires : ligne 1"]

    saved = agent.post(
        "/formulaires/subv/",
        data={**base, "beneficiaires.1.nom": "Club B", "beneficiaires.1.montant": "30"},
    )
    assert saved.status_code == 302
    assert public_rows(app, "subv")[0]["dispositif"] == "Sport"
    children = public_rows(app, "subv__beneficiaires")
    assert [(r["_position"], r["nom"], r["montant"]) for r in children] == [
        (0, "Club A", 1200.5),
        (1, "Club B", 30.0),
    ]
    # Read back, each value says its list and row as the form did.
    entry = unescape(agent.get(saved.headers["Location"]).text)
    assert "<dt>Bénéficiaires, ligne 2 › Montant</dt>" in entry
    assert "beneficiaires › " not in entry


def test_api_list_errors_point_at_the_row(client, token, make_form, app):
    make_form(LISTED, "subv")
    headers = {"Authorization": f"Bearer {token}"}
    url = "/api/v1/forms/subv/entries"
    bad = client.post(
        url,
        headers=headers,
        json={
            "dispositif": "X",
            "beneficiaires": [
                {"nom": "A", "montant": 1},
                {"nom": "B", "montant": -1},
                {"montant": 2, "inconnu": 1},
            ],
        },
    )
    assert bad.status_code == 422
    assert {e["path"] for e in bad.get_json()["errors"]} == {
        "/beneficiaires/1/montant",
        "/beneficiaires/2/nom",
        "/beneficiaires/2/inconnu",
    }
    good = client.post(
        url,
        headers=headers,
        json={"dispositif": "X", "beneficiaires": [{"nom": "A", "montant": 1}]},
    )
    assert good.status_code == 201
    entry = f"{url}/{good.get_json()['id']}"
    assert client.get(entry, headers=headers).get_json()["data"]["beneficiaires"] == [
        {"nom": "A", "montant": 1}
    ]
    replaced = client.put(
        entry,
        headers={**headers, "If-Match": "1"},
        json={"dispositif": "X", "beneficiaires": [{"nom": "C", "montant": 5}]},
    )
    assert replaced.status_code == 200
    assert [r["nom"] for r in public_rows(app, "subv__beneficiaires")] == ["C"]
    client.delete(entry, headers={**headers, "If-Match": "2"})
    assert public_rows(app, "subv__beneficiaires") == []


def test_const_is_shown_fixed_and_always_stored(agent, make_form, app, token):
    make_form(
        {
            "title": "Relevés",
            "type": "object",
            "required": ["valeur"],
            "properties": {
                "unite": {
                    "type": "string",
                    "const": "kWh",
                    "title": "Unité",
                    "x-purpose": "Comparer les relevés entre communes.",
                },
                "valeur": {
                    "type": "number",
                    "title": "Valeur",
                    "x-purpose": "Le relevé.",
                },
            },
        },
        "releves",
    )
    page = agent.get("/formulaires/releves/").text
    assert re.search(r'name="unite" value="kWh" readonly', page)
    response = agent.post(
        "/formulaires/releves/",
        data={"csrf_token": csrf_from(page), "unite": "MWh", "valeur": "12,5"},
    )
    assert response.status_code == 302
    assert public_rows(app, "releves")[0]["unite"] == "kWh"

    api = agent.post(
        "/api/v1/forms/releves/entries",
        json={"unite": "MWh", "valeur": 1},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert api.status_code == 422
    assert "kWh" in api.get_json()["errors"][0]["message"]


def test_a_save_while_an_import_holds_the_store_keeps_what_was_typed(
    form_page, app, monkeypatch
):
    """A long bulk import holds private.db's write lock: a save that waits
    beyond the busy timeout gets the page back, values kept, with a 503 that
    says nothing was saved; the same post succeeds once the lock is gone."""
    import importlib
    import sqlite3

    # (The package's `db` attribute is the SQLAlchemy object, not the module.)
    store_db = importlib.import_module("dnt_forms.db")
    # Wait a fraction of a second, not ten, on fresh connections.
    monkeypatch.setattr(store_db, "BUSY_TIMEOUT_MS", 200)
    with app.app_context():
        store_db.db.engine.dispose()
    typed = {
        "association": "Judo",
        "participants": "45",
        "date": "12/03/2025",
        "assurance": "oui",
        "salle": "B",
    }
    page = form_page.get("/formulaires/salle/").text
    blocker = sqlite3.connect(f"{app.instance_path}/private.db")
    blocker.execute("BEGIN IMMEDIATE")
    try:
        busy = form_page.post(
            "/formulaires/salle/", data={"csrf_token": csrf_from(page), **typed}
        )
        assert busy.status_code == 503
        assert busy.headers["Retry-After"] == "60"
        assert "<title>Erreur" in busy.text
        assert "momentanément occupé" in busy.text
        assert 'value="Judo"' in busy.text and 'value="45"' in busy.text
        other = form_page.get("/formulaires/salle/entrees/")
        assert other.status_code == 200  # reading goes on
    finally:
        blocker.rollback()
        blocker.close()
    assert public_rows(app, "salle") == []
    saved = form_page.post(
        "/formulaires/salle/", data={"csrf_token": csrf_from(busy.text), **typed}
    )
    assert saved.status_code == 302
    assert [r["association"] for r in public_rows(app, "salle")] == ["Judo"]


def test_the_saved_message_takes_the_focus(form_page):
    # Already on the page when it loads, a status message is not read out
    # by screen readers: the focus brings them to it.
    base = {"association": "A", "participants": "2", "date": "01/02/2025"}
    response = post(form_page, {**base, "assurance": "oui"})
    page = form_page.get(response.headers["Location"]).text
    assert re.search(r'role="status" tabindex="-1" autofocus><p>Entrée n° 1', page)


def test_a_field_typed_as_json_says_so(agent, make_form):
    make_form(
        {
            "type": "object",
            "properties": {
                "couple": {
                    "type": "array",
                    "title": "Couple",
                    "prefixItems": [{"type": "string"}, {"type": "integer"}],
                    "items": False,
                }
            },
        },
        "couples",
    )
    html = unescape(agent.get("/formulaires/couples/").text)
    assert '<textarea id="champ-0"' in html
    assert (
        'À saisir en JSON : une liste entre crochets, par exemple ["Dupont", 42].'
        in html
    )
