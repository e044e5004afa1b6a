"""Every Table Schema type, and bounds on dates, times and months.

One schema with each type and format, a valid file and a file that breaks
the schema: frictionless's own verdict on each file is the reference, the
import must agree with it cell for cell, and the export must pass it.
Bounds (`formatMinimum` and kin, see dnt_forms/bounds.py) are also
checked for JSON Schema forms, in the API, the HTML form and the schema
checker.
"""

from __future__ import annotations

import csv
import json

import pytest
from conftest import csrf_from, public_rows
from frictionless import Resource, Schema

from dnt_forms.errors import InvalidSchemaError
from dnt_forms.fastcheck import compile_check
from dnt_forms.schemas import load_text
from dnt_forms.validation import _validator

TABLE = {
    "name": "types-ts",
    "title": "Tous les types",
    "primaryKey": ["code"],
    "fields": [
        {"name": "code", "type": "string", "constraints": {"required": True}},
        {"name": "courriel", "type": "string", "format": "email"},
        {"name": "site", "type": "string", "format": "uri"},
        {"name": "montant", "type": "number", "decimalChar": ","},
        {"name": "nombre", "type": "integer", "constraints": {"minimum": 0}},
        {
            "name": "actif",
            "type": "boolean",
            "trueValues": ["Oui"],
            "falseValues": ["Non"],
        },
        {
            "name": "jour",
            "type": "date",
            "format": "%d/%m/%Y",
            "constraints": {"minimum": "01/01/2000", "maximum": "31/12/2030"},
        },
        {"name": "jour_iso", "type": "date", "constraints": {"minimum": "2000-01-01"}},
        {
            "name": "instant",
            "type": "datetime",
            "constraints": {"maximum": "2030-01-01T00:00:00Z"},
        },
        {
            "name": "heure",
            "type": "time",
            "constraints": {"minimum": "08:00:00", "maximum": "20:00:00"},
        },
        {"name": "annee", "type": "year", "constraints": {"minimum": 1900}},
        {"name": "mois", "type": "yearmonth", "constraints": {"minimum": "2000-01"}},
        {"name": "duree", "type": "duration"},
        {"name": "point", "type": "geopoint"},
        {"name": "point_tab", "type": "geopoint", "format": "array"},
        {"name": "point_obj", "type": "geopoint", "format": "object"},
        {"name": "liste", "type": "array"},
        {"name": "objet", "type": "object"},
        {"name": "libre", "type": "any"},
    ],
}
for _field in TABLE["fields"]:
    _field["description"] = f"Réutilisé par les tests ({_field['name']})."

HEADER = (
    "code,courriel,site,montant,nombre,actif,jour,jour_iso,instant,heure,annee,"
    "mois,duree,point,point_tab,point_obj,liste,objet,libre\n"
)
VALID = HEADER + (
    'A1,a@b.fr,https://x.fr,"12,5",3,Oui,01/02/2020,2020-02-01,'
    '2020-01-01T10:00:00Z,10:30:00,2020,2020-05,P1DT2H,"2.35,48.85",'
    '"[2.35, 48.85]","{""lon"": 2.35, ""lat"": 48.85}","[""a"", ""b""]",'
    '"{""k"": 1}",quoi\n'
    "A2,,,,,Non,31/12/2030,2000-01-01,2029-12-31T23:00:00+01:00,20:00:00,1900,"
    "2000-01,PT30M,,,,,,\n"
)
INVALID = HEADER + (
    "B1,,,,,,01/01/1999,1999-12-31,2031-01-01T00:00:00Z,07:00:00,1800,1999-12,"
    ",,,,,,\n"
    "B2,,,,,,2020-01-01,,,25:00:00,,2020-13,P1X,,,,,,\n"
    "B3,,,,,,01/01/2031,,2030-01-01T01:00:01+01:00,20:00:01,,,,,,,,,\n"
)


@pytest.fixture
def types_form(app, make_form, tmp_path):
    path = tmp_path / "schema.json"
    path.write_text(json.dumps(TABLE), encoding="utf-8")
    make_form(path, "types-ts")
    return path


def _frictionless_flags(schema_path, csv_path) -> set[tuple[int, str]]:
    schema = Schema.from_descriptor(json.loads(schema_path.read_text("utf-8")))
    resource = Resource(
        path=csv_path.name, basepath=str(csv_path.parent), schema=schema
    )
    report = resource.validate()
    assert all(hasattr(e, "row_number") for t in report.tasks for e in t.errors)
    return {(e.row_number, e.field_name) for t in report.tasks for e in t.errors}


def _import(app, path):
    from dnt_forms.entries import form_for_admin
    from dnt_forms.imports import import_file

    with app.app_context():
        return import_file(form_for_admin("types-ts"), path, None)


def test_every_type_imports_and_exports_as_frictionless_reads_it(
    app, types_form, tmp_path
):
    source = tmp_path / "valid.csv"
    source.write_text(VALID, encoding="utf-8")
    assert _frictionless_flags(types_form, source) == set()

    assert _import(app, source).created == 2
    first, second = public_rows(app, "types-ts")
    assert first["mois"] == "2020-05"
    assert first["duree"] == "P1DT2H"
    assert first["jour"] == "2020-02-01"
    assert first["montant"] == 12.5
    assert json.loads(first["point_obj"]) == [2.35, 48.85]
    assert second["mois"] == "2000-01"
    assert second["duree"] == "PT30M"
    # Bounds are inclusive, and an instant compares as an instant.
    assert second["instant"] == "2029-12-31T23:00:00+01:00"

    from dnt_forms.entries import form_for_admin
    from dnt_forms.exports import write_csv

    exported = tmp_path / "export.csv"
    with app.app_context(), open(exported, "w", encoding="utf-8", newline="") as out:
        write_csv(form_for_admin("types-ts"), out)
    assert _frictionless_flags(types_form, exported) == set()
    with open(exported, encoding="utf-8", newline="") as handle:
        written = list(csv.DictReader(handle))
    assert written[0]["jour"] == "01/02/2020"
    assert written[0]["montant"] == "12,5"
    assert (written[0]["mois"], written[0]["duree"]) == ("2020-05", "P1DT2H")


def test_a_spreadsheet_number_in_a_text_field_is_its_digits(app, make_form, tmp_path):
    """Excel makes numbers of a SIRET or a code: the XLSX imports as the CSV of
    the same sheet would (the message said « ne se lit pas comme string »)."""
    from datetime import datetime

    import openpyxl

    schema = {
        "fields": [
            {"name": "siret", "type": "string", "constraints": {"pattern": r"\d{14}"}},
            {"name": "code", "type": "string"},
            {"name": "maj", "type": "string"},
        ]
    }
    path = tmp_path / "schema.json"
    path.write_text(json.dumps(schema), encoding="utf-8")
    make_form(path, "etablissements")
    workbook = openpyxl.Workbook()
    workbook.active.append(["siret", "code", "maj"])
    workbook.active.append([21350238800019, 3.5, datetime(2025, 3, 12)])
    xlsx = tmp_path / "etablissements.xlsx"
    workbook.save(xlsx)

    from dnt_forms.entries import form_for_admin
    from dnt_forms.imports import import_file

    with app.app_context():
        assert import_file(form_for_admin("etablissements"), xlsx, None).created == 1
    [row] = public_rows(app, "etablissements")
    assert (row["siret"], row["code"], row["maj"]) == (
        "21350238800019",
        "3.5",
        "2025-03-12",
    )


def test_cells_frictionless_refuses_are_refused_and_nothing_is_stored(
    app, types_form, tmp_path
):
    from dnt_forms.imports import ImportRefused

    source = tmp_path / "invalid.csv"
    source.write_text(INVALID, encoding="utf-8")
    flagged = _frictionless_flags(types_form, source)
    assert len(flagged) >= 12

    with pytest.raises(ImportRefused) as info:
        _import(app, source)
    problems = info.value.problems
    assert {(p.line, p.column) for p in problems} == flagged
    assert public_rows(app, "types-ts") == []
    by_place = {(p.line, p.column): p.message for p in problems}
    assert by_place[(2, "jour")] == "Ne doit pas être antérieur à 01/01/2000."
    assert by_place[(4, "jour")] == "Ne doit pas être postérieur à 31/12/2030."
    assert by_place[(2, "heure")] == "Ne doit pas être antérieur à 08:00."
    assert by_place[(2, "mois")] == "Ne doit pas être antérieur à 2000-01."
    assert "01/01/2030 01:00 (heure de Paris)" in by_place[(2, "instant")]
    assert "par exemple 10:30:00" in by_place[(3, "heure")]
    assert "une année et un mois" in by_place[(3, "mois")]
    assert "une durée" in by_place[(3, "duree")]


def test_an_unreadable_bound_is_refused_at_load_with_its_path():
    broken = {
        "name": "bornes",
        "fields": [
            {"name": "a", "type": "string"},
            {
                "name": "jour",
                "type": "date",
                "format": "%d/%m/%Y",
                "constraints": {"minimum": "2020-01-01"},
            },
        ],
    }
    with pytest.raises(InvalidSchemaError) as info:
        load_text(json.dumps(broken))
    (problem,) = [p for p in info.value.problems if p.keyword == "minimum"]
    assert problem.path == "/fields/1/constraints/minimum"
    assert "illisible" in problem.message


JSON_FORM = {
    "title": "Réservations",
    "type": "object",
    "required": ["jour"],
    "properties": {
        "jour": {
            "type": "string",
            "format": "date",
            "title": "Jour",
            "x-purpose": "Planifier les salles.",
            "formatMinimum": "2025-01-01",
            "formatExclusiveMaximum": "2026-01-01",
        },
        "debut": {
            "type": "string",
            "format": "time",
            "title": "Début",
            "x-purpose": "Ouvrir la salle.",
            "formatMinimum": "08:00:00",
        },
    },
}


def test_bounds_in_a_json_schema_form(app, make_form, agent, token):
    make_form(JSON_FORM, "reservations")
    url = "/api/v1/forms/reservations/entries"
    headers = {"Authorization": f"Bearer {token}"}
    refused = agent.post(
        url, json={"jour": "2026-01-01", "debut": "07:59:00"}, headers=headers
    )
    assert refused.status_code == 422
    errors = {e["path"]: e["message"] for e in refused.get_json()["errors"]}
    assert errors == {
        "/jour": "Jour : doit être antérieur à 01/01/2026.",
        "/debut": "Début : ne doit pas être antérieur à 08:00.",
    }
    english = agent.post(
        url,
        json={"jour": "2024-12-31"},
        headers={**headers, "Accept-Language": "en"},
    )
    assert english.get_json()["errors"][0]["message"] == (
        "Jour: must not be earlier than 01/01/2025."
    )
    assert (
        agent.post(
            url, json={"jour": "2025-12-31", "debut": "08:00:00"}, headers=headers
        ).status_code
        == 201
    )

    # The form says the bounds, tied to the input, and keeps what was typed.
    page = agent.get("/formulaires/reservations/")
    assert "au plus tôt le 01/01/2025, avant le 01/01/2026" in page.text
    posted = agent.post(
        "/formulaires/reservations/",
        data={"jour": "12/03/2024", "debut": "", "csrf_token": csrf_from(page.text)},
    )
    assert posted.status_code == 422
    assert "<title>Erreur" in posted.text
    assert "Ne doit pas être antérieur à 01/01/2025." in posted.text
    assert 'value="2024-03-12"' in posted.text


def test_quick_check_agrees_with_jsonschema_on_bounds():
    schema = load_text(json.dumps(JSON_FORM)).canonical
    quick = compile_check(schema)
    assert quick is not None
    validator = _validator(json.dumps(schema))
    for day in ("2024-12-31", "2025-01-01", "2025-12-31", "2026-01-01", "2025-02-30"):
        for start in (None, "07:59:59", "08:00:00", "23:00:00"):
            data = {"jour": day} if start is None else {"jour": day, "debut": start}
            if quick(data):
                assert validator.is_valid(data), data
            else:
                assert not validator.is_valid(data), data


@pytest.mark.parametrize(
    "prop, where",
    [
        ({"type": "string", "format": "email", "formatMinimum": "a"}, "formatMinimum"),
        (
            {"type": "string", "format": "date", "formatMaximum": "31/12/2025"},
            "formatMaximum",
        ),
    ],
)
def test_schema_check_refuses_misplaced_or_unreadable_bounds(prop, where):
    schema = {
        "title": "Bornes",
        "type": "object",
        "properties": {"champ": {**prop, "title": "Champ", "x-purpose": "Tester."}},
    }
    with pytest.raises(InvalidSchemaError) as info:
        load_text(json.dumps(schema))
    assert [(p.path, p.keyword) for p in info.value.problems] == [
        (f"/properties/champ/{where}", where)
    ]


@pytest.mark.parametrize(
    "fields, extra, path, keyword, words",
    [
        ([{"name": "a", "type": "dat"}], {}, "/fields/0/type", "type", "type « dat »"),
        (
            [{"name": "a", "type": "integer", "constraints": {"minimun": 1}}],
            {},
            "/fields/0/constraints/minimun",
            "minimun",
            "contrainte « minimun » inconnue",
        ),
        ([{"type": "integer"}], {}, "/fields/0/name", "name", "n'a pas de nom"),
        (
            [{"name": "a"}, {"name": "a"}],
            {},
            "/fields/1/name",
            "name",
            "déjà pris par le champ n° 1",
        ),
        (
            [{"name": "a", "type": "string", "constraints": {"pattern": "[a-"}}],
            {},
            "/fields/0/constraints/pattern",
            "pattern",
            "« [a- » illisible : crochet ouvert jamais fermé",
        ),
        (
            [{"name": "a", "type": "string", "constraints": {"enum": "abc"}}],
            {},
            "/fields/0/constraints/enum",
            "enum",
            "« abc » n'a pas le bon type : attendu une liste",
        ),
        (
            [{"name": "a", "type": "integer", "example": "5.5"}],
            {},
            "/fields/0/example",
            "example",
            "l'exemple « 5.5 » ne se lit pas comme un champ integer",
        ),
        (
            [
                {
                    "name": "a",
                    "type": "integer",
                    "constraints": {"minimum": 10, "maximum": 5},
                }
            ],
            {},
            "/fields/0/constraints/minimum",
            "minimum",
            "ne laissent aucune valeur possible",
        ),
        (
            [{"name": "a"}],
            {"primaryKey": ["id_locale"]},
            "/primaryKey",
            "primaryKey",
            "« id_locale »",
        ),
    ],
)
def test_table_schema_mistakes_are_refused_in_french_at_their_field(
    fields, extra, path, keyword, words
):
    with pytest.raises(InvalidSchemaError) as info:
        load_text(json.dumps({"fields": fields, **extra}))
    [(found_path, found_keyword, message)] = [
        (p.path, p.keyword, p.message) for p in info.value.problems
    ]
    assert (found_path, found_keyword) == (path, keyword)
    assert words in message


@pytest.mark.parametrize(
    "kind, fmt, words",
    [
        ("string", "weird", "format « weird » inconnu pour un champ string"),
        ("geopoint", "lonlat", "utilisez default, array, object"),
        ("date", "%Q", "format « %Q » illisible"),
        # Without the year frictionless would read every date in 1900.
        ("date", "%d/%m", "le jour, le mois et l'année"),
        ("datetime", "%d/%m/%Y", "l'heure"),
        ("time", "%Y-%m-%d", "l'heure"),
        ("date", 12, "doit être un texte"),
    ],
)
def test_a_format_the_type_cannot_read_is_refused(kind, fmt, words):
    with pytest.raises(InvalidSchemaError) as info:
        load_text(json.dumps({"fields": [{"name": "a", "type": kind, "format": fmt}]}))
    [problem] = info.value.problems
    assert (problem.path, problem.keyword) == ("/fields/0/format", "format")
    assert words in problem.message


@pytest.mark.parametrize(
    "kind, fmt",
    [
        ("date", "%d/%m/%Y"),
        ("date", "fmt:%Y%m%d"),
        ("date", "any"),
        ("datetime", "%d/%m/%Y %Hh%M"),
        ("time", "%Hh"),
        ("geopoint", "array"),
        ("string", "uri"),
    ],
)
def test_formats_frictionless_reads_are_accepted(kind, fmt):
    load_text(json.dumps({"fields": [{"name": "a", "type": kind, "format": fmt}]}))


def test_a_broken_regex_in_a_json_schema_is_said_at_its_path():
    """jsonschema refused it through the regex format, which the listing of
    problems did not check: the schema was refused with none said."""
    schema = {"type": "object", "properties": {"a": {"type": "string", "pattern": "("}}}
    with pytest.raises(InvalidSchemaError) as info:
        load_text(json.dumps(schema))
    [problem] = info.value.problems
    assert problem.path == "/properties/a/pattern"
    assert "parenthèse ouverte jamais fermée" in problem.message


@pytest.mark.parametrize(
    "prop, keyword",
    [
        ({"type": "string", "minLength": 3, "maxLength": 2}, "minLength"),
        ({"type": "number", "exclusiveMinimum": 1, "maximum": 1}, "exclusiveMinimum"),
        (
            {
                "type": "array",
                "items": {"type": "string"},
                "minItems": 4,
                "maxItems": 1,
            },
            "minItems",
        ),
        (
            {
                "type": "string",
                "format": "date",
                "formatMinimum": "2025-01-02",
                "formatMaximum": "2025-01-01",
            },
            "formatMinimum",
        ),
    ],
)
def test_bounds_that_leave_no_value_are_refused(prop, keyword):
    """The preview showed « au moins 10, au plus 5 »: a field nobody can fill."""
    schema = {"type": "object", "properties": {"a": {"title": "A", **prop}}}
    with pytest.raises(InvalidSchemaError) as info:
        load_text(json.dumps(schema))
    [problem] = info.value.problems
    assert (problem.path, problem.keyword) == (f"/properties/a/{keyword}", keyword)
    assert "aucune valeur possible" in problem.message


def test_equal_bounds_leave_one_value():
    schema = {
        "type": "object",
        "properties": {"a": {"type": "integer", "minimum": 1, "maximum": 1}},
    }
    load_text(json.dumps(schema))


def test_every_problem_of_a_table_schema_is_listed_in_one_pass():
    """A mistake of shape, one frictionless refuses, and one only the form's
    checks see, in three fields: all three are said at once (the later
    ones came out only after the first were fixed)."""
    fields = [
        {"name": "a", "type": "entier"},
        {"name": "e", "type": "integer", "example": "5.5"},
        {
            "name": "d",
            "type": "integer",
            "constraints": {"minimum": 200, "maximum": 180},
        },
    ]
    with pytest.raises(InvalidSchemaError) as info:
        load_text(json.dumps({"fields": fields}))
    assert [(p.path, p.field) for p in info.value.problems] == [
        ("/fields/0/type", "a"),
        ("/fields/1/example", "e"),
        ("/fields/2/constraints/minimum", "d"),
    ]


def test_every_problem_of_a_json_schema_is_listed_in_one_pass():
    schema = {
        "type": "object",
        "properties": {
            "a": {"type": "strin"},
            "c": {"type": "integer", "minimum": 12, "maximum": 10},
        },
    }
    with pytest.raises(InvalidSchemaError) as info:
        load_text(json.dumps(schema))
    assert [p.path for p in info.value.problems] == [
        "/properties/a/type",
        "/properties/c/minimum",
    ]


def test_a_format_without_effect_is_a_warning():
    loaded = load_text(
        json.dumps({"fields": [{"name": "a", "type": "number", "format": "x"}]})
    )
    [warning] = [w for w in loaded.warnings if w.path == "/fields/0/format"]
    assert "sans effet" in warning.message


def test_table_schema_warnings_point_into_its_fields():
    loaded = load_text(json.dumps({"fields": [{"name": "a"}, {"name": "b"}]}))
    assert {w.path for w in loaded.warnings} == {"/fields/0", "/fields/1"}


def test_a_mistyped_keyword_is_named_with_the_one_meant():
    schema = {
        "title": "Fautes",
        "type": "object",
        "requird": ["a"],
        "properties": {
            "a": {
                "type": "string",
                "title": "A",
                "x-purpose": "Tester.",
                "maxlength": 3,
            }
        },
    }
    messages = {w.path: w.message for w in load_text(json.dumps(schema)).warnings}
    assert messages["/requird"].endswith("vouliez-vous dire « required » ?")
    assert messages["/properties/a/maxlength"].endswith(
        "vouliez-vous dire « maxLength » ?"
    )


def test_an_empty_schema_says_so():
    with pytest.raises(InvalidSchemaError) as info:
        load_text("  \n")
    assert "schéma vide" in info.value.problems[0].message
