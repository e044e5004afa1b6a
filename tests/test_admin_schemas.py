"""Administrators define and evolve forms in the browser: editor with a
preview, versions and diffs, publication that checks the entries, bulk
import with a downloadable report, exports."""

from __future__ import annotations

import io
import json
import re
from html import unescape

import openpyxl
import pytest
from conftest import csrf_from, public_rows
from test_admin import ADMIN, add_user, sign_in

V1 = {
    "title": "Registre des ruchers",
    "type": "object",
    "required": ["nom"],
    "properties": {
        "nom": {"type": "string", "title": "Nom du rucher", "x-purpose": "Identifier."},
        "ruches": {
            "type": "integer",
            "title": "Ruches",
            "x-purpose": "Suivi sanitaire.",
        },
    },
}


@pytest.fixture
def admin(app):
    add_user(app, ADMIN[0], "admin", password=ADMIN[1])
    return sign_in(app.test_client(), *ADMIN)


def _post(client, page, data, files=None):
    token = csrf_from(client.get(page).text)
    payload = {**data, "csrf_token": token}
    if files:
        payload.update(files)
    return client.post(page, data=payload, content_type="multipart/form-data")


def test_new_form_is_checked_and_previewed_before_saving(admin, app):
    page = "/admin/formulaires/nouveau"
    response = _post(admin, page, {"schema": json.dumps(V1), "action": "verifier"})
    assert response.status_code == 200
    html = unescape(response.text)
    assert "Aperçu du formulaire" in html
    assert '<label for="champ-0">Nom du rucher' in html
    assert "Suivi sanitaire." in html

    bad = dict(V1, properties={"nom": {"type": "strin"}})
    response = _post(admin, page, {"schema": json.dumps(bad), "action": "verifier"})
    assert response.status_code == 422
    html = unescape(response.text)
    assert "<title>Erreur" in html
    assert "/properties/nom/type" in html
    assert 'href="#schema"' in html
    # What the admin typed stays in the text area.
    assert '"strin"' in html

    response = _post(
        admin,
        page,
        {"schema": json.dumps(V1), "slug": "ruchers", "action": "brouillon"},
    )
    assert response.status_code == 302
    settings = admin.get("/admin/formulaires/ruchers").text
    assert "Brouillon" in settings and "Publier la version 1" in settings


def test_publication_checks_entries_and_asks_before_to_complete(admin, app, make_form):
    make_form(V1, "ruchers")
    with app.app_context():
        from dnt_forms.entries import form_for_admin, save_new_entry

        for name in ("A", "B"):
            save_new_entry(form_for_admin("ruchers"), {"nom": name, "ruches": 3}, None)

    v2 = json.loads(json.dumps(V1))
    v2["required"].append("commune")
    v2["properties"]["commune"] = {
        "type": "string",
        "title": "Commune",
        "x-purpose": "Déclaration.",
    }
    page = "/admin/formulaires/ruchers/schema"
    response = _post(admin, page, {"schema": json.dumps(v2), "action": "publier"})
    assert response.status_code == 409
    html = unescape(response.text)
    assert "2 ne la respecte(nt) pas" in html
    assert "« Commune » (commune) : ajouté — obligatoire" in html
    assert all(row["_form_version"] == 1 for row in public_rows(app, "ruchers"))

    # The check page offers to publish with those entries "to complete".
    assert 'name="a_completer" value="oui"' in html
    token = csrf_from(html)
    response = admin.post(
        "/admin/formulaires/ruchers/publier",
        data={"csrf_token": token, "a_completer": "oui"},
    )
    assert response.status_code == 302
    rows = public_rows(app, "ruchers")
    assert [r["_state"] for r in rows] == ["to_complete", "to_complete"]
    assert [r["nom"] for r in rows] == ["A", "B"]

    # Once published, the check page has nothing left to offer.
    check = unescape(admin.get("/admin/formulaires/ruchers/verification").text)
    assert "Rien à publier" in check and "la version 2, est déjà publiée" in check
    assert "/publier" not in check

    versions = unescape(admin.get("/admin/formulaires/ruchers/versions").text)
    assert "Version 2 (en usage)" in versions
    assert "« Commune » (commune) : ajouté" in versions
    source = admin.get("/admin/formulaires/ruchers/versions/2").text
    assert "commune" in source


def test_a_refused_schema_file_comes_back_in_the_text_area(admin):
    """A browser never sends a file input back: the file's text is kept in the
    text area, so that the admin fixes it there instead of choosing it again."""
    import io

    bad = json.dumps({"fields": [{"name": "a", "type": "entier"}]})
    response = _post(
        admin,
        "/admin/formulaires/nouveau",
        {"schema": "", "action": "verifier"},
        {"fichier": (io.BytesIO(bad.encode()), "bad.json")},
    )
    assert response.status_code == 422
    textarea = re.search(r"<textarea[^>]*>(.*?)</textarea>", response.text, re.S)[1]
    assert json.loads(unescape(textarea)) == json.loads(bad)


def test_bulk_import_page_with_report(admin, app, make_form):
    import io

    make_form(V1, "ruchers")
    page = "/admin/formulaires/ruchers/import"
    bad = (io.BytesIO(b"nom;ruches\nA;trois\n"), "ruchers.csv")
    response = _post(admin, page, {}, {"fichier": bad})
    assert response.status_code == 422
    html = unescape(response.text)
    assert "<title>Erreur" in html
    link = re.search(r'href="(/admin/rapports/[^"]+)"', html)[1]
    report = admin.get(link)
    assert report.status_code == 200
    assert "ligne;colonne;champ;erreur" in report.data.decode("utf-8-sig")
    assert public_rows(app, "ruchers") == []

    good = (io.BytesIO("Nom du rucher;ruches\nA;3\nB;4\n".encode("cp1252")), "r.csv")
    response = _post(admin, page, {}, {"fichier": good})
    assert response.status_code == 302
    assert len(public_rows(app, "ruchers")) == 2

    # A spreadsheet passes the 2 MB limit of other posts (not an entry).
    lines = "".join(
        f"Rucher numéro {i:06d} du plateau;{i % 90}\n" for i in range(80_000)
    )
    big = io.BytesIO(("nom;ruches\n" + lines).encode("utf-8"))
    assert big.getbuffer().nbytes > 2 * 1024 * 1024
    response = _post(admin, page, {}, {"fichier": (big, "gros.csv")})
    assert response.status_code == 302
    assert len(public_rows(app, "ruchers")) == 80_002


def test_an_imported_file_belongs_to_the_chosen_organisation(admin, app, make_form):
    """Entries an administrator loads from an organisation's old file are that
    organisation's: its agents see and edit them (with no organisation, no
    agent ever could)."""
    import io

    from dnt_forms.db import db
    from dnt_forms.models import Organisation

    make_form(V1, "ruchers")
    with app.app_context():
        db.session.add(Organisation(code="75056", name="Paris"))
        db.session.commit()
    page = "/admin/formulaires/ruchers/import"
    form = unescape(admin.get(page).text)
    assert '<select id="organisation" name="organisation"' in form
    assert '<option value="75056">Paris (75056)</option>' in form

    unknown = (io.BytesIO(b"nom;ruches\nA;3\n"), "r.csv")
    response = _post(admin, page, {"organisation": "99999"}, {"fichier": unknown})
    assert response.status_code == 422
    assert 'href="#organisation"' in response.text
    assert public_rows(app, "ruchers") == []

    good = (io.BytesIO(b"nom;ruches\nA;3\nB;4\n"), "r.csv")
    response = _post(admin, page, {"organisation": "75056"}, {"fichier": good})
    assert response.status_code == 302
    assert [r["_organisation"] for r in public_rows(app, "ruchers")] == [
        "75056",
        "75056",
    ]

    bad = (io.BytesIO(b"nom;ruches\nA;trois\n"), "r.csv")
    html = unescape(
        _post(admin, page, {"organisation": "75056"}, {"fichier": bad}).text
    )
    assert "Fichier refusé : rien n'a été importé" in html
    assert '<option value="75056" selected>' in html


def test_exports_are_public_and_all_fields_are_for_managers(
    app, client, make_form, admin
):
    schema = json.loads(json.dumps(V1))
    schema["properties"]["contact"] = {
        "type": "string",
        "title": "Contact",
        "x-publish": False,
        "x-purpose": "Appeler.",
    }
    make_form(schema, "ruchers")
    with app.app_context():
        from dnt_forms.entries import form_for_admin, save_new_entry

        save_new_entry(
            form_for_admin("ruchers"), {"nom": "A", "contact": "joindre-secret"}, None
        )
    public = client.get("/formulaires/ruchers/export.csv")
    assert public.status_code == 200
    assert public.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert public.headers["Content-Disposition"] == "attachment; filename=ruchers.csv"
    assert "nom" in public.text and "joindre-secret" not in public.text
    assert client.get("/formulaires/ruchers/export.json").get_json()[0]["nom"] == "A"
    sheet = client.get("/formulaires/ruchers/export.xlsx")
    assert sheet.status_code == 200
    workbook = openpyxl.load_workbook(io.BytesIO(sheet.data), read_only=True)
    assert "A" in [
        cell for row in workbook.active.iter_rows(values_only=True) for cell in row
    ]
    assert client.get("/formulaires/ruchers/export.csv?tous=oui").status_code == 403
    full = admin.get("/formulaires/ruchers/export.csv?tous=oui")
    assert full.status_code == 200 and "joindre-secret" in full.text
    assert full.headers["Cache-Control"] == "no-store"
    assert client.get("/formulaires/ruchers/export.exe").status_code == 404


def test_live_preview_fragment(admin):
    from urllib.parse import unquote

    token = csrf_from(admin.get("/admin/formulaires/nouveau").text)
    good = admin.post(
        "/admin/formulaires/apercu",
        data={"schema": json.dumps(V1)},
        headers={"X-CSRFToken": token},
    )
    assert good.status_code == 200
    assert '<label for="champ-0">Nom du rucher' in unescape(good.text)
    assert unquote(good.headers["X-Apercu-Etat"]).endswith("schéma valide.")
    bad = admin.post(
        "/admin/formulaires/apercu",
        data={"schema": '{"type": "object", "properties": {"a": {"type": "strin"}}}'},
        headers={"X-CSRFToken": token},
    )
    assert "/properties/a/type" in bad.text
    assert "1 problème(s)" in unquote(bad.headers["X-Apercu-Etat"])
    # Without the token, refused like every other post.
    assert (
        admin.post("/admin/formulaires/apercu", data={"schema": "{}"}).status_code
        == 400
    )


def test_a_stale_editor_page_keeps_the_pasted_schema_and_saves_nothing(admin, app):
    """The session's token expired while the admin worked on a schema: the
    page comes back with the schema and a fresh token (a bare 400 lost it)."""
    from dnt_forms.db import db
    from dnt_forms.models import Form

    schema = json.dumps(V1)
    response = admin.post(
        "/admin/formulaires/nouveau",
        data={"schema": schema, "action": "publier", "csrf_token": "périmé"},
    )
    assert response.status_code == 400
    html = unescape(response.text)
    assert "<title>Erreur" in html and "session expirée" in html
    textarea = re.search(r"<textarea[^>]*>(.*?)</textarea>", response.text, re.S)[1]
    assert json.loads(unescape(textarea)) == V1
    with app.app_context():
        assert db.session.execute(db.select(Form)).scalars().all() == []
    # The page's fresh token works.
    again = _post(admin, "/admin/formulaires/nouveau", {"schema": schema})
    assert again.status_code == 200


def test_a_table_schema_form_links_the_schema_its_csv_follows(admin, app, make_form):
    make_form(
        {
            "name": "bornes",
            "fields": [
                {"name": "id", "type": "string", "constraints": {"required": True}},
                {"name": "ouverture", "type": "date", "format": "%d/%m/%Y"},
            ],
        },
        "bornes",
    )
    settings = admin.get("/admin/formulaires/bornes").text
    link = "/formulaires/bornes/schema-tableschema.json"
    assert f'href="{link}"' in settings
    served = admin.get(link)
    assert served.status_code == 200
    assert "bornes.schema.json" in served.headers["Content-Disposition"]
    [_, ouverture] = served.get_json()["fields"]
    assert ouverture["format"] == "%d/%m/%Y"


def test_a_draft_form_hands_out_no_file(app, client):
    # Drafts are invisible to agents: to the public files as well.
    from dnt_forms.schemas import load_text
    from dnt_forms.schemas.versions import install

    with app.app_context():
        install(
            load_text(json.dumps({"fields": [{"name": "id", "type": "string"}]})),
            "brouillon",
            draft=True,
        )
    for path in ("export.csv", "export.json", "schema-tableschema.json"):
        assert client.get(f"/formulaires/brouillon/{path}").status_code == 404, path
