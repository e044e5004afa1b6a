"""Bulk import of real French files, export, and backup, on a JSON Schema form."""

from __future__ import annotations

import csv
import io
import json
import sqlite3
import zipfile

import pytest
from conftest import public_rows, run_cli

FORM = {
    "title": "Salles communales",
    "type": "object",
    "required": ["nom", "capacite"],
    "x-unique": ["nom"],
    "properties": {
        "nom": {
            "type": "string",
            "title": "Nom de la salle",
            "x-purpose": "Identifier.",
        },
        "capacite": {
            "type": "integer",
            "minimum": 1,
            "title": "Capacité",
            "x-purpose": "Sécurité.",
        },
        "surface": {"type": "number", "title": "Surface (m²)", "x-purpose": "Tarifs."},
        "ouverture": {
            "type": "string",
            "format": "date",
            "title": "Date d'ouverture",
            "x-purpose": "Historique.",
        },
        "accessible": {
            "type": "boolean",
            "title": "Accessible PMR",
            "x-purpose": "Accueil.",
        },
        "usage": {
            "title": "Usage",
            "x-purpose": "Orienter les demandes.",
            "oneOf": [
                {"const": "fete", "title": "Fêtes familiales"},
                {"const": "sport", "title": "Sport"},
            ],
        },
        "gestion": {
            "type": "object",
            "title": "Gestion",
            "x-purpose": "Savoir qui appeler.",
            "properties": {
                "service": {
                    "type": "string",
                    "title": "Service",
                    "x-purpose": "Appeler.",
                },
                "telephone": {
                    "type": "string",
                    "title": "Téléphone",
                    "x-purpose": "Appeler.",
                    "x-publish": False,
                },
            },
        },
    },
}

GOOD = (
    "Nom de la salle;capacite;surface;ouverture;accessible;usage;gestion__service;"
    "gestion__telephone\n"
    "Salle des fêtes;250;1 234,5;12/03/2025;oui;Fêtes familiales;Culture;0102030405\n"
    "Gymnase Jean Moulin;80;450;2020-01-31;non;sport;Sports;\n"
    '"Salle ""polyvalente""";30;;;;;;\n'
)


@pytest.fixture
def salles(app, make_form):
    make_form(FORM, "salles")
    return "salles"


def _import(app, path, slug="salles"):
    from dnt_forms.entries import form_for_admin
    from dnt_forms.imports import import_file

    with app.app_context():
        return import_file(form_for_admin(slug), path, None)


def _refused(app, path, slug="salles"):
    from dnt_forms.imports import ImportRefused

    with pytest.raises(ImportRefused) as info:
        _import(app, path, slug)
    return info.value.problems


@pytest.mark.parametrize(
    "encoding, separator",
    [("utf-8", ";"), ("utf-8-sig", ";"), ("cp1252", ";"), ("utf-8", ",")],
)
def test_french_file_imports_typed(app, salles, tmp_path, encoding, separator):
    text = GOOD
    if separator == ",":
        rows = list(csv.reader(io.StringIO(GOOD), delimiter=";"))
        out = io.StringIO()
        csv.writer(out, lineterminator="\n").writerows(rows)
        text = out.getvalue()
    path = tmp_path / "salles.csv"
    path.write_bytes(text.encode(encoding))
    assert _import(app, path).created == 3

    rows = public_rows(app, "salles")
    first = rows[0]
    assert first["nom"] == "Salle des fêtes"
    assert first["capacite"] == 250 and first["surface"] == 1234.5
    assert first["ouverture"] == "2025-03-12"
    assert first["accessible"] == 1 and first["usage"] == "fete"
    assert first["gestion__service"] == "Culture"
    assert "gestion__telephone" not in first  # unpublished, yet stored privately
    assert rows[1]["ouverture"] == "2020-01-31" and rows[1]["accessible"] == 0
    assert rows[2]["nom"] == 'Salle "polyvalente"'
    assert rows[2]["surface"] is None


def test_bad_rows_are_reported_by_line_and_column_and_nothing_is_stored(
    app, salles, tmp_path
):
    path = tmp_path / "salles.csv"
    path.write_text(
        "nom;capacite;ouverture;usage\n"
        "A;10;12/03/2025;sport\n"
        "B;dix;31/02/2025;danse\n"
        "\n"
        "A;0;;\n",
        encoding="utf-8",
    )
    problems = _refused(app, path)
    found = {(p.line, p.column) for p in problems}
    assert found == {
        (3, "capacite"),
        (3, "ouverture"),
        (3, "usage"),
        (5, "capacite"),
        (5, "nom"),
    }
    assert all(p.message for p in problems)
    assert public_rows(app, "salles") == []


def test_header_problems(app, salles, tmp_path):
    path = tmp_path / "salles.csv"
    path.write_text("nom;capacite;couleur\nA;1;bleu\n", encoding="utf-8")
    (problem,) = _refused(app, path)
    assert problem.line == 1 and problem.column == "couleur"
    assert "inconnue" in problem.message

    path.write_text("nom;surface\nA;12\n", encoding="utf-8")
    (problem,) = _refused(app, path)
    assert problem.line == 1 and "Capacité" in problem.column
    # A missing optional column is fine.
    path.write_text("capacite;nom\n12;A\n", encoding="utf-8")
    assert _import(app, path).created == 1


def test_existing_key_is_refused(app, salles, tmp_path):
    path = tmp_path / "salles.csv"
    path.write_text("nom;capacite\nA;1\n", encoding="utf-8")
    _import(app, path)
    path.write_text("nom;capacite\nB;1\nA;2\n", encoding="utf-8")
    (problem,) = _refused(app, path)
    assert problem.line == 3 and "déjà pris" in problem.message
    assert len(public_rows(app, "salles")) == 1


def test_repeated_keys_are_found_across_batches_in_file_order(app, salles, tmp_path):
    from dnt_forms.imports import BATCH

    path = tmp_path / "salles.csv"
    path.write_text("nom;capacite\nExistante;1\n", encoding="utf-8")
    _import(app, path)
    names = [f"Salle {i}" for i in range(BATCH + 100)]
    names[10] = "Salle 3"  # line 12 repeats line 5, in the same batch
    names[BATCH + 50] = "Salle 7"  # a later batch repeats line 9
    names[BATCH + 60] = "Existante"  # and an entry already stored
    names[BATCH + 70] = "Salle 3"  # a third "Salle 3"
    lines = "".join(
        f"{name};{'x' if i == BATCH + 5 else 1}\n" for i, name in enumerate(names)
    )
    path.write_text("nom;capacite\n" + lines, encoding="utf-8")
    problems = _refused(app, path)
    found = [(p.line, p.column, p.message) for p in problems]
    assert found == [
        (12, "nom", "« Salle 3 » déjà pris par la ligne 5 (clé « nom »)"),
        (BATCH + 7, "capacite", found[1][2]),
        (BATCH + 52, "nom", "« Salle 7 » déjà pris par la ligne 9 (clé « nom »)"),
        (BATCH + 62, "nom", "« Existante » déjà pris par l'entrée n° 1 (clé « nom »)"),
        (BATCH + 72, "nom", "« Salle 3 » déjà pris par la ligne 5 (clé « nom »)"),
    ]
    assert [r["nom"] for r in public_rows(app, "salles")] == ["Existante"]
    # Nothing of the refused file is held: the same names import afterwards.
    path.write_text("nom;capacite\nSalle 3;1\nSalle 7;2\n", encoding="utf-8")
    assert _import(app, path).created == 2
    assert len(public_rows(app, "salles")) == 3


def test_import_rebuilds_a_public_table_removed_by_hand(app, salles, tmp_path):
    path = tmp_path / "salles.csv"
    path.write_text("nom;capacite\nA;1\n", encoding="utf-8")
    _import(app, path)
    conn = sqlite3.connect(f"{app.instance_path}/public.db")
    conn.execute('drop table "salles"')
    conn.commit()
    conn.close()
    path.write_text("nom;capacite\nB;2\n", encoding="utf-8")
    _import(app, path)
    assert [r["nom"] for r in public_rows(app, "salles")] == ["A", "B"]


def test_closed_form_takes_no_import(app, salles, tmp_path, instance):
    from conftest import run_cli

    run_cli(instance, "schema", "close", "salles")
    path = tmp_path / "salles.csv"
    path.write_text("nom;capacite\nA;1\n", encoding="utf-8")
    (problem,) = _refused(app, path)
    assert "clos" in problem.message


def test_xlsx_with_typed_cells(app, salles, tmp_path):
    from datetime import datetime

    import openpyxl

    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(["nom", "capacite", "surface", "ouverture", "accessible", "usage"])
    sheet.append(["Salle A", 120, 99.5, datetime(2025, 3, 12), True, "Sport"])
    sheet.append(["Salle B", "45", "12,5", "12/03/2025", "non", None])
    path = tmp_path / "salles.xlsx"
    workbook.save(path)
    assert _import(app, path).created == 2
    first, second = public_rows(app, "salles")
    assert (first["capacite"], first["surface"], first["ouverture"]) == (
        120,
        99.5,
        "2025-03-12",
    )
    assert (first["accessible"], first["usage"]) == (1, "sport")
    assert (second["capacite"], second["surface"], second["accessible"]) == (
        45,
        12.5,
        0,
    )


def test_hostile_xlsx_is_refused(app, salles, tmp_path):
    path = tmp_path / "bombe.xlsx"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(
            "xl/worksheets/sheet1.xml", b"<a>" + b" " * 50_000_000 + b"</a>"
        )
    (problem,) = _refused(app, path)
    assert "décompresse" in problem.message
    path.write_bytes(b"PK not really a zip")
    (problem,) = _refused(app, path)
    assert "illisible" in problem.message


def test_cli_import_export_and_backup(app, salles, tmp_path, instance):
    path = tmp_path / "salles.csv"
    path.write_text(GOOD, encoding="utf-8")
    result = run_cli(instance, "import", "salles", str(path))
    assert "3 entrée(s) importée(s)" in result.stdout

    bad = tmp_path / "bad.csv"
    bad.write_text("nom;capacite\nX;zéro\n", encoding="utf-8")
    report = tmp_path / "rapport.csv"
    failed = run_cli(
        instance, "import", "salles", str(bad), "--report", str(report), check=False
    )
    assert failed.returncode == 1
    assert "ligne 2, colonne « capacite »" in failed.stderr
    assert failed.stderr.strip().splitlines()[-1].startswith("Erreur : import refusé")
    assert "ligne;colonne;champ;erreur" in report.read_text(encoding="utf-8-sig")

    public = run_cli(instance, "export", "salles").stdout
    rows = list(csv.DictReader(io.StringIO(public)))
    assert len(rows) == 3 and rows[0]["surface"] == "1234.5"
    assert rows[0]["accessible"] == "true" and rows[1]["accessible"] == "false"
    assert "gestion__telephone" not in rows[0]
    full = run_cli(instance, "export", "salles", "--all-fields").stdout
    assert "0102030405" in full

    exported = json.loads(
        run_cli(instance, "export", "salles", "--format", "json").stdout
    )
    assert exported[0]["gestion"] == {"service": "Culture"}
    assert exported[0]["_id"] and exported[0]["capacite"] == 250

    xlsx = tmp_path / "salles.xlsx"
    run_cli(instance, "export", "salles", "--format", "xlsx", "-o", str(xlsx))
    import openpyxl

    sheet = openpyxl.load_workbook(xlsx).active
    assert [c.value for c in sheet[1]][:8] == [
        "_id",
        "_revision",
        "_form_version",
        "_state",
        "_organisation",
        "_created_at",
        "_updated_at",
        "nom",
    ]
    assert sheet.max_row == 4
    header = [c.value for c in sheet[1]]
    accessible = [row[header.index("accessible")].value for row in sheet.iter_rows(2)]
    assert accessible == [True, False, None]

    copy_dir = tmp_path / "copie"
    run_cli(instance, "backup", str(copy_dir))
    conn = sqlite3.connect(copy_dir / "private.db")
    assert conn.execute("select count(*) from entries").fetchone()[0] == 3
    conn.close()


LISTS = {
    "title": "Subventions",
    "type": "object",
    "required": ["dossier"],
    "properties": {
        "dossier": {"type": "string", "title": "Dossier", "x-purpose": "Suivi."},
        "beneficiaires": {
            "type": "array",
            "title": "Bénéficiaires",
            "x-purpose": "Contrôle des aides.",
            "items": {
                "type": "object",
                "required": ["nom"],
                "properties": {
                    "nom": {"type": "string", "title": "Nom", "x-purpose": "Contrôle."},
                    "montant": {
                        "type": "number",
                        "title": "Montant",
                        "x-purpose": "Contrôle.",
                    },
                },
            },
        },
    },
}


def test_lists_of_groups_import_and_export_to_their_own_sheet(app, make_form, tmp_path):
    """A list is one JSON column in the file; in the XLSX export it has its
    own sheet, one row per item, written along with the entries' sheet."""
    import openpyxl

    from dnt_forms.entries import form_for_admin
    from dnt_forms.exports import write_xlsx

    make_form(LISTS, "subv")
    path = tmp_path / "subv.csv"
    path.write_text(
        "dossier;beneficiaires\n"
        'D1;"[{""nom"": ""A"", ""montant"": 10.5}, {""nom"": ""B""}]"\n'
        "D2;\n"
        'D3;"[{""nom"": ""C"", ""montant"": 3}]"\n',
        encoding="utf-8",
    )
    assert _import(app, path, "subv").created == 3
    children = public_rows(app, "subv__beneficiaires")
    assert [(r["nom"], r["montant"]) for r in children] == [
        ("A", 10.5),
        ("B", None),
        ("C", 3),
    ]

    out = tmp_path / "subv.xlsx"
    with app.app_context():
        assert write_xlsx(form_for_admin("subv"), out) == 3
    workbook = openpyxl.load_workbook(out, read_only=True)
    main, items = workbook.worksheets
    assert [r[7] for r in main.iter_rows(min_row=2, values_only=True)] == [
        "D1",
        "D2",
        "D3",
    ]
    rows = list(items.iter_rows(values_only=True))
    assert rows[0] == ("_entry_id", "_position", "nom", "montant")
    first = children[0]["_entry_id"]
    assert rows[1:] == [
        (first, 0, "A", 10.5),
        (first, 1, "B"),  # a sheet row ends at its last value
        (first + 2, 0, "C", 3),
    ]


def test_only_a_table_schema_form_hands_out_a_table_schema(app, salles):
    # The CSV of a JSON Schema form follows no Table Schema.
    page = app.test_client().get("/formulaires/salles/schema-tableschema.json")
    assert page.status_code == 404


def test_an_export_imports_back(app, salles, make_form, tmp_path):
    """The service's own CSV export (reserved columns, ISO dates, true/false,
    lists as JSON) loads into a form of the same schema."""
    from dnt_forms.entries import form_for_admin
    from dnt_forms.exports import write_csv

    path = tmp_path / "salles.csv"
    path.write_text(GOOD, encoding="utf-8")
    _import(app, path)
    exported = tmp_path / "export.csv"
    with app.app_context(), open(exported, "w", encoding="utf-8", newline="") as out:
        write_csv(form_for_admin("salles"), out)
    make_form(FORM, "copie")
    assert _import(app, exported, "copie").created == 3
    fields = ["nom", "capacite", "surface", "ouverture", "accessible", "usage"]
    copies = [{k: r[k] for k in fields} for r in public_rows(app, "copie")]
    assert copies == [{k: r[k] for k in fields} for r in public_rows(app, "salles")]


def test_list_cells_take_semicolons_or_json(app, make_form, tmp_path):
    form = {
        "type": "object",
        "properties": {
            "nom": {"type": "string", "title": "Nom"},
            "equipements": {
                "type": "array",
                "title": "Équipements",
                "uniqueItems": True,
                "items": {
                    "oneOf": [
                        {"const": "sono", "title": "Sonorisation"},
                        {"const": "cuisine", "title": "Cuisine"},
                    ]
                },
            },
        },
    }
    make_form(form, "lieux")
    path = tmp_path / "lieux.csv"
    path.write_text(
        'nom;equipements\nA;"Sonorisation ; cuisine"\nB;"[""sono""]"\nC;sono, cuisine\n',
        encoding="utf-8",
    )
    (problem,) = _refused(app, path, "lieux")
    assert (
        problem.line == 4 and "plusieurs choix se séparent par « ; »" in problem.message
    )
    path.write_text(
        'nom;equipements\nA;"Sonorisation ; cuisine"\nB;"[""sono""]"\n',
        encoding="utf-8",
    )
    assert _import(app, path, "lieux").created == 2
    rows = public_rows(app, "lieux")
    assert [json.loads(r["equipements"]) for r in rows] == [
        ["sono", "cuisine"],
        ["sono"],
    ]


def test_list_items_lose_the_space_after_the_separator(app, make_form, tmp_path):
    form = {
        "type": "object",
        "properties": {
            "mots": {"type": "array", "title": "Mots", "items": {"type": "string"}}
        },
    }
    make_form(form, "mots")
    path = tmp_path / "mots.csv"
    path.write_text('mots\n"bon; tagué ;  propre"\n', encoding="utf-8")
    assert _import(app, path, "mots").created == 1
    [row] = public_rows(app, "mots")
    assert json.loads(row["mots"]) == ["bon", "tagué", "propre"]


@pytest.mark.parametrize(
    "typed, stored",
    [
        ("17h", "17:00:00"),
        ("8h30", "08:30:00"),
        ("10:30", "10:30:00"),
        ("9:05:07", "09:05:07"),
    ],
)
def test_french_times(typed, stored):
    from dnt_forms.french import InputError, parse_time

    assert parse_time(typed) == stored
    with pytest.raises(InputError):
        parse_time("25h")
