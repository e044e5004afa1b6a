"""A form changes while it has entries: nothing is lost.

The scripted scenario of issue 5, on a real corpus Table Schema (arbres)
and a real server: import v1, enter 20 entries, publish v2 adding a
required field, removing one, renaming one and changing a type; then count
and compare every value, in the API and in Datasette.
"""

from __future__ import annotations

import copy
import csv
import json
import re
from html import unescape

import pytest
import requests
from conftest import last_line

from dnt_forms.migrate import diff


def _v2(v1: dict) -> dict:
    v2 = copy.deepcopy(v1)
    fields = v2["fields"]
    # Removed: "remarque".
    v2["fields"] = fields = [f for f in fields if f["name"] != "remarque"]
    for f in fields:
        if f["name"] == "matricule":  # renamed
            f["name"] = "numero_inventaire"
            f["title"] = "Numéro d'inventaire"
            f["x-renamed-from"] = "matricule"
        if f["name"] == "diametre_couronne":  # number -> integer
            f["type"] = "integer"
    fields.append(
        {
            "name": "essence_locale",
            "title": "Essence locale",
            "description": "Savoir si l'essence est adaptée au climat local.",
            "type": "boolean",
            "constraints": {"required": True},
        }
    )
    return v2


def _rows(source) -> list[dict]:
    with open(source / "valid.csv", encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(handle, delimiter=";"))


def _entry(row: dict, number: int) -> dict:
    """A valid.csv row as API JSON, with its own id."""
    out = {"id": number}
    for name, text in row.items():
        if text == "" or name == "id":
            continue
        if name in (
            "longitude",
            "latitude",
            "hauteur",
            "diametre",
            "circonference",
            "diametre_couronne",
        ):
            out[name] = float(text) if "." in text else int(text)
        elif name == "allergie":
            out[name] = int(text)
        elif name in ("remarquable", "protege", "eclairage"):
            out[name] = text == "Oui"
        else:
            out[name] = text
    return out


def test_new_version_keeps_every_value(corpus, server, api, tmp_path):
    source = corpus / "tableschema" / "arbres"
    v1 = json.loads((source / "schema.json").read_text(encoding="utf-8-sig"))
    slug = last_line(
        server.cli(
            "schema", "import", str(source / "schema.json"), "--slug", "arbres-v"
        )
    )
    url = server.url(f"/api/v1/forms/{slug}/entries")
    rows = _rows(source)
    sent = {}
    for number in range(1, 21):
        data = _entry(rows[number % len(rows)], number)
        # Booleans as the schema writes them in files; JSON takes true/false.
        response = api.post(url, json=data)
        assert response.status_code == 201, response.text
        sent[response.json()["id"]] = data
    assert any(
        "diametre_couronne" in d
        and d["diametre_couronne"] != int(d["diametre_couronne"])
        for d in sent.values()
    ), "the scenario needs a non-integer value"

    v2_path = tmp_path / "arbres-v2.json"
    v2_path.write_text(json.dumps(_v2(v1), ensure_ascii=False), encoding="utf-8")
    # Without the option, the publication is refused and nothing changes.
    refused = server.cli("schema", "import", str(v2_path), "--slug", slug, check=False)
    assert refused.returncode == 1
    assert "20 entrée(s) sur 20" in refused.stderr
    # Every error of each entry, and how to publish anyway.
    assert "(+" not in refused.stderr
    assert "La version 2 reste en brouillon" in refused.stderr
    assert f"dnt-forms schema publish {slug} --to-complete" in refused.stderr
    assert (
        requests.get(
            server.url(f"/data/public/{slug}.json?_shape=array&_size=max")
        ).json()[0]["_form_version"]
        == 1
    )

    done = server.cli("schema", "publish", slug, "--to-complete")
    assert "version 2 publiée" in done.stdout
    again = server.cli("schema", "publish", slug)
    assert "version 2 déjà en usage, rien à publier" in again.stdout

    public = requests.get(
        server.url(f"/data/public/{slug}.json?_shape=array&_size=max")
    ).json()
    assert len(public) == 20
    for row in public:
        data = sent[row["_id"]]
        # Every entry lacks the new required field: to complete, still
        # published, last valid under version 1.
        assert row["_state"] == "to_complete"
        assert row["_form_version"] == 1
        assert row["essence_locale"] is None
        assert row["numero_inventaire"] == data.get("matricule")
        assert "matricule" not in row
        # Removed from the form, kept and published.
        assert row["remarque"] == data.get("remarque")
        # Never cast: 1.5 stays 1.5 in what is now an integer field.
        assert row["diametre_couronne"] == data.get("diametre_couronne")
        for name, value in data.items():
            if name in ("matricule", "remarque"):
                continue
            expected = int(value) if isinstance(value, bool) else value
            assert row[name] == expected, (row["_id"], name)

    back = api.get(f"{url}/{next(iter(sent))}").json()
    first = sent[back["id"]]
    assert back["state"] == "to_complete"
    assert back["data"].get("numero_inventaire") == first.get("matricule")
    assert "remarque" not in back["data"]

    # Datasette describes the new columns and the removed one.
    fields = requests.get(
        server.url(
            f"/data/public/_champs.json?_shape=array&formulaire={slug}&_size=max"
        )
    ).json()
    by_column = {f["champ"]: f for f in fields}
    assert "adaptée au climat" in by_column["essence_locale"]["finalite"]
    assert "numero_inventaire" in by_column
    assert "retiré" in by_column["remarque"]["finalite"]


def test_diff_lists_each_kind_of_change(corpus):
    from dnt_forms.schemas import load_text

    source = corpus / "tableschema" / "arbres"
    v1 = json.loads((source / "schema.json").read_text(encoding="utf-8-sig"))
    old = load_text(json.dumps(v1)).canonical
    new = load_text(json.dumps(_v2(v1))).canonical
    changes, renames, removed = diff(old, new)
    kinds = {c.column: c.kind for c in changes}
    assert kinds["essence_locale"] == "added"
    assert kinds["remarque"] == "removed"
    assert kinds["numero_inventaire"] == "renamed"
    assert kinds["diametre_couronne"] == "changed"
    assert renames == {("matricule",): ("numero_inventaire",)}
    assert [s.column for s in removed] == ["remarque"]
    text = str(next(c for c in changes if c.column == "diametre_couronne"))
    assert "type : nombre (number) → nombre entier (integer)" in text
    assert "x-tableschema" not in text


@pytest.mark.parametrize(
    "properties, words",
    [
        ({"a": {}, "b": {"x-renamed-from": "a"}}, "« a » est encore un champ"),
        (
            {"b": {"x-renamed-from": "a"}, "c": {"x-renamed-from": "a"}},
            "« a » est déjà renommé en « b »",
        ),
    ],
)
def test_a_rename_that_would_empty_a_field_is_refused(properties, words):
    """Publishing it moved the values of a field that stays (a unique key
    emptied in every entry)."""
    from dnt_forms.errors import InvalidSchemaError
    from dnt_forms.schemas import load_text

    for prop in properties.values():
        prop.update(type="string", title="T", **{"x-purpose": "P."})
    schema = {"type": "object", "properties": properties}
    with pytest.raises(InvalidSchemaError) as info:
        load_text(json.dumps(schema))
    [problem] = info.value.problems
    assert problem.keyword == "x-renamed-from"
    assert problem.path.endswith("/x-renamed-from") and words in problem.message


def test_a_table_schema_pattern_shows_in_the_diff_as_written():
    from dnt_forms.schemas import load_text

    def canonical(pattern):
        field = {"name": "h", "type": "string", "constraints": {"pattern": pattern}}
        return load_text(json.dumps({"fields": [field]})).canonical

    [change] = diff(canonical("[0-9]+"), canonical("[0-9]+|N/A"))[0]
    assert 'pattern : "[0-9]+" → "[0-9]+|N/A"' in str(change)


def test_a_rename_from_nowhere_is_said_in_the_diff():
    v1 = {"type": "object", "properties": {"a": {"type": "string"}}}
    v2 = copy.deepcopy(v1)
    v2["properties"]["b"] = {"type": "string", "x-renamed-from": "inexistant"}
    [change] = diff(v1, v2)[0]
    assert change.kind == "added" and "qui n'existait pas" in str(change)


@pytest.mark.parametrize("to_complete", [False, True])
def test_a_valid_change_needs_no_option(app, make_form, to_complete):
    """Adding an optional field migrates every entry to the new version."""
    from dnt_forms.db import db
    from dnt_forms.models import Entry
    from dnt_forms.schemas import load_text
    from dnt_forms.schemas.versions import install

    v1 = {"type": "object", "properties": {"a": {"type": "string", "title": "A"}}}
    make_form(v1, "simple")
    with app.app_context():
        from dnt_forms.entries import form_for_admin, save_new_entry

        save_new_entry(form_for_admin("simple"), {"a": "x"}, None)
        v2 = copy.deepcopy(v1)
        v2["properties"]["b"] = {"type": "integer", "title": "B"}
        installed = install(
            load_text(json.dumps(v2)), "simple", to_complete=to_complete
        )
        assert installed.version.number == 2
        entry = db.session.execute(db.select(Entry)).scalar_one()
        assert entry.form_version == 2 and entry.state == "submitted"
        assert entry.data == {"a": "x"}


def _entry_then_removed(make_form, v1: dict, slug: str, entry: dict, field: str):
    """A form `v1` holding `entry`, then a version without `field` (called
    in an app context); returns what install gave."""
    from dnt_forms.entries import form_for_admin, save_new_entry
    from dnt_forms.schemas import load_text
    from dnt_forms.schemas.versions import install

    make_form(v1, slug)
    save_new_entry(form_for_admin(slug), entry, None)
    v2 = copy.deepcopy(v1)
    del v2["properties"][field]
    return install(load_text(json.dumps(v2)), slug)


def test_a_removed_list_stays_published_with_its_rows(app, make_form):
    """Removing a list of groups keeps its table in public.db, its rows read
    from the values the entries keep, and says it was removed."""
    import sqlite3

    from dnt_forms.entries import form_for_admin, save_new_entry
    from dnt_forms.publish import sync_all, sync_form

    v1 = {
        "type": "object",
        "properties": {
            "dossier": {"type": "string", "title": "Dossier"},
            "lignes": {
                "type": "array",
                "title": "Lignes",
                "x-purpose": "Détail des dépenses.",
                "items": {
                    "type": "object",
                    "properties": {
                        "poste": {"type": "string", "title": "Poste"},
                        "montant": {"type": "number", "title": "Montant"},
                    },
                },
            },
        },
    }
    entry = {"dossier": "D1", "lignes": [{"poste": "Repas", "montant": 12.5}]}
    with app.app_context():
        installed = _entry_then_removed(make_form, v1, "depenses", entry, "lignes")
        # As the CLI and the admin pages do after a publication.
        sync_form(app.extensions["dnt_public"], installed.form)
        save_new_entry(form_for_admin("depenses"), {"dossier": "D2"}, None)

    def published():
        conn = sqlite3.connect(f"{app.instance_path}/public.db")
        try:
            rows = conn.execute(
                "select _entry_id, _position, poste, montant from depenses__lignes"
            ).fetchall()
            (purpose,) = conn.execute(
                "select finalite from _champs where tableau = 'depenses' "
                "and champ = 'lignes'"
            ).fetchone()
            return rows, purpose
        finally:
            conn.close()

    rows, purpose = published()
    assert rows == [(1, 0, "Repas", 12.5)]
    assert "retiré" in purpose and "Détail des dépenses." in purpose
    with app.app_context():
        sync_all(app.extensions["dnt_public"], rebuild=True)
    assert published() == (rows, purpose)


def _text_made_integer(app, make_form, slug, name, value) -> int:
    """A form whose text field becomes an integer over an entry holding
    `value`, published with that entry to complete; returns the entry's id."""
    from dnt_forms.auth import find_user
    from dnt_forms.entries import form_for_admin, save_new_entry
    from dnt_forms.schemas import load_text
    from dnt_forms.schemas.versions import install

    title = name.capitalize()
    v1 = {
        "type": "object",
        "required": [name],
        "properties": {name: {"type": "string", "title": title, "x-purpose": "Accès."}},
    }
    make_form(v1, slug)
    with app.app_context():
        entry_id = save_new_entry(
            form_for_admin(slug), {name: value}, find_user("agent@paris.fr")
        ).id
        v2 = copy.deepcopy(v1)
        v2["properties"][name]["type"] = "integer"
        install(load_text(json.dumps(v2)), slug, to_complete=True)
    return entry_id


def test_a_to_complete_entry_shows_what_to_fix_and_keeps_its_value(
    app, make_form, agent
):
    """A value kept as typed in a field that changed type is shown as it is
    (a number input would show an empty box, and a save would erase it),
    and the entry page says what the new version asks."""
    entry_id = _text_made_integer(app, make_form, "bancs", "places", "deux")

    page = agent.get(f"/formulaires/bancs/entrees/{entry_id}").text
    assert "À compléter pour la version 2" in page
    assert "Places : doit être un nombre entier : « deux » est un texte." in page
    field = re.search(r'<input[^>]* name="places"[^>]*>', page)[0]
    assert 'type="text"' in field and 'value="deux"' in field
    assert 'aria-invalid="true"' in field and "-erreur" in field


def test_a_kept_value_sent_back_as_shown_is_read_in_the_new_type(app, make_form, agent):
    """A value kept as text after a change to integer ("210"): the agent who
    saves the page as shown confirms it, and it is read as the field now reads
    it (it was refused as « un texte », and only a retyped value went in)."""
    from htmlform import posted_pairs
    from werkzeug.datastructures import MultiDict

    from dnt_forms.db import db
    from dnt_forms.models import Entry

    entry_id = _text_made_integer(app, make_form, "parkings", "hauteur", "210")

    url = f"/formulaires/parkings/entrees/{entry_id}"
    saved = agent.post(url, data=MultiDict(posted_pairs(agent.get(url).text, url)))
    assert saved.status_code in (302, 303), saved.text
    with app.app_context():
        entry = db.session.get(Entry, entry_id)
        assert entry.data == {"hauteur": 210}
        assert entry.state != "to_complete"


def test_the_schema_csv_leaves_out_entries_to_complete_and_says_so(
    app, make_form, agent, tmp_path, instance
):
    """Entries to complete break the schema: the CSV that follows it (and
    must pass frictionless) leaves them out, says how many, and the XLSX and
    JSON keep them."""
    from conftest import run_cli
    from frictionless import Resource, Schema

    from dnt_forms.auth import find_user
    from dnt_forms.entries import form_for_admin, save_new_entry
    from dnt_forms.exports import write_csv, write_json
    from dnt_forms.schemas import load_text
    from dnt_forms.schemas.versions import install

    v1 = {
        "fields": [
            {"name": "nom", "type": "string", "title": "Nom"},
            {"name": "places", "type": "integer", "title": "Places"},
        ]
    }
    (tmp_path / "v1.json").write_text(json.dumps(v1))
    make_form(tmp_path / "v1.json", "aires")
    v2 = copy.deepcopy(v1)
    v2["fields"][1]["constraints"] = {"maximum": 100}
    with app.app_context():
        author = find_user("agent@paris.fr")
        for name, places in (("petite", 12), ("grande", 325)):
            save_new_entry(
                form_for_admin("aires"), {"nom": name, "places": places}, author
            )
        install(load_text(json.dumps(v2)), "aires", to_complete=True)
        exported = tmp_path / "aires.csv"
        with open(exported, "w", encoding="utf-8", newline="") as out:
            assert write_csv(form_for_admin("aires"), out) == 1
        with open(tmp_path / "aires.json", "w", encoding="utf-8") as out:
            assert write_json(form_for_admin("aires"), out) == 2

    resource = Resource(
        path=exported.name, basepath=str(tmp_path), schema=Schema.from_descriptor(v2)
    )
    assert resource.validate().valid
    assert exported.read_text().splitlines() == ["nom,places", "petite,12"]

    note = "1 entrée(s) « à compléter » laissée(s) de côté"
    assert note in agent.get("/formulaires/aires/entrees/").text
    result = run_cli(instance, "export", "aires", "-o", str(tmp_path / "cli.csv"))
    assert note in result.stderr
    assert "1 entrée(s) écrite(s)" in result.stderr


def test_every_export_keeps_a_removed_field(app, make_form, tmp_path):
    from dnt_forms.entries import form_for_admin
    from dnt_forms.exports import export

    v1 = {
        "type": "object",
        "properties": {
            "nom": {"type": "string", "title": "Nom"},
            "commentaire": {"type": "string", "title": "Commentaire"},
        },
    }
    with app.app_context():
        _entry_then_removed(
            make_form, v1, "bancs", {"nom": "B1", "commentaire": "Près"}, "commentaire"
        )
        opened = form_for_admin("bancs")
        export(opened, "json", tmp_path / "out.json")
        export(opened, "csv", tmp_path / "out.csv")
    [record] = json.loads((tmp_path / "out.json").read_text(encoding="utf-8"))
    assert (record["nom"], record["commentaire"]) == ("B1", "Près")
    with open(tmp_path / "out.csv", encoding="utf-8", newline="") as handle:
        [row] = list(csv.DictReader(handle))
    assert (row["nom"], row["commentaire"]) == ("B1", "Près")

    # Loaded back, the removed field's column is named and explained, not
    # called unknown, and its values are not dropped unsaid.
    from dnt_forms.imports import ImportRefused, import_file

    with app.app_context(), pytest.raises(ImportRefused) as refused:
        import_file(form_for_admin("bancs"), tmp_path / "out.csv", None)
    [problem] = refused.value.problems
    assert problem.line == 1 and problem.column == "commentaire"
    assert "retiré du formulaire en version 2" in problem.message


def test_a_rename_reads_forward_in_the_history(app, make_form, agent):
    from dnt_forms.auth import find_user
    from dnt_forms.db import db
    from dnt_forms.entries import form_for_admin, save_new_entry
    from dnt_forms.models import Entry
    from dnt_forms.schemas import load_text
    from dnt_forms.schemas.versions import install
    from dnt_forms.store import data_at

    v1 = {
        "type": "object",
        "properties": {"adresse": {"type": "string", "title": "Adresse"}},
    }
    make_form(v1, "bancs")
    with app.app_context():
        entry_id = save_new_entry(
            form_for_admin("bancs"), {"adresse": "1 rue"}, find_user("agent@paris.fr")
        ).id
        v2 = {
            "type": "object",
            "properties": {
                "localisation": {
                    "type": "string",
                    "title": "Localisation",
                    "x-renamed-from": "adresse",
                }
            },
        }
        install(load_text(json.dumps(v2)), "bancs")
        entry = db.session.get(Entry, entry_id)
        assert entry.data == {"localisation": "1 rue"}
        assert data_at(entry, 1) == {"adresse": "1 rue"}
    page = agent.get(f"/formulaires/bancs/entrees/{entry_id}").text
    assert "adresse : 1 rue → (renommé en « localisation »)" in unescape(page)
    assert "Localisation : (vide) → 1 rue" in unescape(page)
    # Times are those of a French clock, not UTC.
    assert "UTC" not in page
