"""Editing shared entries: drafts, conflicts, withdrawal, history."""

import re

import pytest
from conftest import csrf_from, public_rows

FORM = {
    "title": "Travaux",
    "type": "object",
    "required": ["rue", "jours"],
    "properties": {
        "rue": {"type": "string", "title": "Rue", "x-purpose": "Localiser."},
        "jours": {
            "type": "integer",
            "minimum": 1,
            "title": "Durée (jours)",
            "x-purpose": "Prévenir les riverains.",
        },
        "note": {"type": "string", "title": "Note", "x-purpose": "Précisions."},
    },
}


def sign_in(app, email, password="mot-de-passe-long", role="agent", org_code="75056"):
    from dnt_forms.auth import create_user, find_org
    from dnt_forms.db import db
    from dnt_forms.models import Organisation

    with app.app_context():
        org = find_org(org_code) if org_code else None
        if org_code and org is None:
            org = Organisation(code=org_code, name=org_code)
            db.session.add(org)
            db.session.commit()
        forms = ["travaux"] if role == "manager" else None
        create_user(email, role, org, password=password, forms=forms)
    client = app.test_client()
    page = client.get("/connexion").text
    response = client.post(
        "/connexion",
        data={"email": email, "password": password, "csrf_token": csrf_from(page)},
    )
    assert response.status_code == 302
    return client


@pytest.fixture
def people(app, make_form):
    make_form(FORM, "travaux")
    return {
        "alice": sign_in(app, "alice@paris.fr"),
        "bruno": sign_in(app, "bruno@paris.fr"),
        "marseille": sign_in(app, "m@marseille.fr", org_code="13055"),
        "manager": sign_in(app, "gestion@paris.fr", role="manager", org_code=None),
    }


def post_new(client, data):
    page = client.get("/formulaires/travaux/").text
    return client.post(
        "/formulaires/travaux/", data={"csrf_token": csrf_from(page), **data}
    )


def entry_page(client, entry_id=1):
    return client.get(f"/formulaires/travaux/entrees/{entry_id}")


def post_edit(client, page_html, data, entry_id=1):
    revision = re.search(r'name="revision" value="(\d+)"', page_html)[1]
    return client.post(
        f"/formulaires/travaux/entrees/{entry_id}",
        data={"csrf_token": csrf_from(page_html), "revision": revision, **data},
    )


def stored(app, entry_id=1):
    from dnt_forms.db import db
    from dnt_forms.models import Entry

    with app.app_context():
        entry = db.session.get(Entry, entry_id)
        return entry.state, entry.revision, entry.data


def test_two_agents_editing_the_same_entry_lose_nothing(app, people):
    alice, bruno = people["alice"], people["bruno"]
    assert (
        post_new(
            alice, {"rue": "Rue Haute", "jours": "3", "action": "envoyer"}
        ).status_code
        == 302
    )

    alice_page = entry_page(alice).text
    bruno_page = entry_page(bruno).text  # both read revision 1

    saved = post_edit(
        alice, alice_page, {"rue": "Rue Haute", "jours": "5", "action": "enregistrer"}
    )
    assert saved.status_code == 302
    assert stored(app)[1:] == (2, {"rue": "Rue Haute", "jours": 5})

    # Bruno saves on top of revision 1: nothing is overwritten, he must choose.
    conflict = post_edit(
        bruno,
        bruno_page,
        {"rue": "Rue Haute", "jours": "4", "note": "Nuit", "action": "enregistrer"},
    )
    assert conflict.status_code == 409
    html = conflict.text
    assert "<title>Erreur" in html
    assert stored(app)[1:] == (2, {"rue": "Rue Haute", "jours": 5})
    jours = html[html.index("Durée (jours)</legend>") :]
    jours = jours[: jours.index("</fieldset>")]
    assert "Votre version : 4" in jours and "Version enregistrée : 5" in jours
    assert "checked" not in jours  # both changed it: no side is picked for him
    note = html[html.index("Note</legend>") :]
    note = note[: note.index("</fieldset>")]
    assert re.search(r'value="mine" checked', note)  # only he changed it

    mine = re.search(r'name="mine" value="([^"]*)"', html)[1]
    form = {
        "csrf_token": csrf_from(html),
        "revision": "2",
        "action": "enregistrer",
        "mine": mine.replace("&#34;", '"').replace("&quot;", '"'),
    }
    incomplete = bruno.post("/formulaires/travaux/entrees/1/conflit", data=form)
    assert incomplete.status_code == 409  # the choice for "jours" is missing
    form["choix-champ-1"] = "theirs"  # jours
    form["choix-champ-2"] = "mine"  # note
    resolved = bruno.post("/formulaires/travaux/entrees/1/conflit", data=form)
    assert resolved.status_code == 302
    assert stored(app)[1:] == (3, {"rue": "Rue Haute", "jours": 5, "note": "Nuit"})

    history = entry_page(alice).text
    assert "alice@paris.fr" in history and "bruno@paris.fr" in history
    assert "Durée (jours) : 3 → 5" in history
    assert "Note : (vide) → Nuit" in history
    assert public_rows(app, "travaux")[0]["note"] == "Nuit"


def test_draft_is_private_until_submitted(app, people):
    alice = people["alice"]
    typed_wrong = post_new(alice, {"rue": "", "jours": "trois", "action": "brouillon"})
    assert typed_wrong.status_code == 422  # a draft is still checked for types

    draft = post_new(alice, {"rue": "", "jours": "2", "action": "brouillon"})
    assert draft.status_code == 302
    assert stored(app)[0] == "draft"
    assert public_rows(app, "travaux") == []
    assert entry_page(people["marseille"]).status_code == 404
    assert entry_page(people["bruno"]).status_code == 200  # same organisation

    page = entry_page(alice).text
    refused = post_edit(alice, page, {"rue": "", "jours": "2", "action": "deposer"})
    assert refused.status_code == 422
    assert public_rows(app, "travaux") == []
    submitted = post_edit(
        alice, page, {"rue": "Quai", "jours": "2", "action": "deposer"}
    )
    assert submitted.status_code == 302
    assert stored(app)[0] == "submitted"
    assert [r["rue"] for r in public_rows(app, "travaux")] == ["Quai"]
    assert public_rows(app, "travaux")[0]["_state"] == "submitted"


def test_withdrawal_leaves_publication_and_a_manager_restores(app, people):
    alice = people["alice"]
    post_new(alice, {"rue": "Rue Basse", "jours": "1", "action": "envoyer"})
    page = entry_page(alice).text
    revision = re.search(r'name="revision" value="(\d+)"', page)[1]
    withdrawn = alice.post(
        "/formulaires/travaux/entrees/1/retrait",
        data={"csrf_token": csrf_from(page), "revision": revision},
    )
    assert withdrawn.status_code == 302
    assert stored(app)[0] == "withdrawn"
    assert public_rows(app, "travaux") == []
    assert "retrait" in entry_page(alice).text

    # The agent cannot restore; the form's manager can.
    page = entry_page(people["manager"]).text
    assert "Rétablir" in page
    own_token = csrf_from(entry_page(alice).text)
    assert (
        alice.post(
            "/formulaires/travaux/entrees/1/retablissement",
            data={"csrf_token": own_token, "revision": "2"},
        ).status_code
        == 403
    )
    restored = people["manager"].post(
        "/formulaires/travaux/entrees/1/retablissement",
        data={"csrf_token": csrf_from(page), "revision": "2"},
    )
    assert restored.status_code == 302
    assert stored(app)[0] == "submitted"
    assert [r["rue"] for r in public_rows(app, "travaux")] == ["Rue Basse"]


def test_api_edit_needs_if_match_and_never_overwrites(app, people):
    from dnt_forms.auth import create_token, find_user

    with app.app_context():
        token = create_token(find_user("alice@paris.fr"))
        other = create_token(find_user("m@marseille.fr"))
    headers = {"Authorization": f"Bearer {token}"}
    client = app.test_client()
    url = "/api/v1/forms/travaux/entries"
    created = client.post(url, json={"rue": "A", "jours": 1}, headers=headers)
    entry = f"{url}/{created.get_json()['id']}"

    body = {"rue": "B", "jours": 2}
    assert client.put(entry, json=body, headers=headers).status_code == 428
    stale = client.put(entry, json=body, headers={**headers, "If-Match": '"7"'})
    assert stale.status_code == 412 and stale.get_json()["revision"] == 1
    ok = client.put(entry, json=body, headers={**headers, "If-Match": '"1"'})
    assert ok.status_code == 200 and ok.headers["ETag"] == '"2"'
    again = client.put(
        entry, json={"rue": "C", "jours": 3}, headers={**headers, "If-Match": "1"}
    )
    assert again.status_code == 412
    assert client.get(entry, headers=headers).get_json()["data"] == body
    invalid = client.put(entry, json={"rue": "C"}, headers={**headers, "If-Match": "2"})
    assert invalid.status_code == 422

    foreign = {"Authorization": f"Bearer {other}", "If-Match": "2"}
    assert client.put(entry, json=body, headers=foreign).status_code == 404
    assert client.delete(entry, headers=foreign).status_code == 404

    assert client.delete(entry, headers=headers).status_code == 428
    gone = client.delete(entry, headers={**headers, "If-Match": "2"})
    assert gone.status_code == 200 and gone.get_json()["state"] == "withdrawn"
    assert public_rows(app, "travaux") == []
    assert client.get(entry, headers=headers).get_json()["state"] == "withdrawn"
    assert (
        client.put(entry, json=body, headers={**headers, "If-Match": "3"}).status_code
        == 403
    )


def test_entry_list_search_sort_and_scope(app, people):
    alice = people["alice"]
    for rue in ("Rue Alpha", "Rue Beta", "Avenue Gamma"):
        post_new(alice, {"rue": rue, "jours": "1", "action": "envoyer"})
    post_new(
        people["marseille"], {"rue": "Rue Canebière", "jours": "1", "action": "envoyer"}
    )

    listing = alice.get("/formulaires/travaux/entrees/?q=Rue&tri=id").text
    assert "2 entrées" in listing
    assert listing.index("Rue Alpha") < listing.index("Rue Beta")
    assert "Canebière" not in listing
    everything = people["manager"].get("/formulaires/travaux/entrees/").text
    assert "4 entrées" in everything and "Canebière" in everything
