"""Loading and checking schemas: refusals name the keyword and the path."""

import json

import pytest

from conftest import run_cli
from dnt_forms.errors import InvalidSchemaError
from dnt_forms.schemas import load_text
from dnt_forms.schemas.check import DRAFT_07, detect_draft


def schema_with(prop: dict, name="champ", **root) -> str:
    return json.dumps(
        {"type": "object", "properties": {name: prop}, **root}, ensure_ascii=False
    )


def problems_of(text: str) -> list[str]:
    with pytest.raises(InvalidSchemaError) as info:
        load_text(text)
    return [str(p) for p in info.value.problems]


@pytest.mark.parametrize(
    "prop, path, keyword",
    [
        ({"$ref": "#/$defs/x"}, "/properties/champ/$ref", "$ref"),
        ({"type": "object", "properties": {"a": {"type": "string"}}},
         "/properties/champ/type", "objets imbriqués"),
        ({"type": "array", "items": {"type": "object"}}, "/properties/champ/items",
         "listes d'objets"),
        ({"type": "string", "if": {}, "then": {}}, "/properties/champ/if", "if/then"),
        ({"oneOf": [{"const": 1}]}, "/properties/champ/oneOf", "oneOf"),
        ({"type": "string", "const": "x"}, "/properties/champ/const", "const"),
        ({"type": "string", "minimum": 3}, "/properties/champ/minimum", "minimum"),
    ],
)
def test_unsupported_keyword_is_refused_with_its_path(prop, path, keyword):
    problems = problems_of(schema_with(prop))
    assert any(p.startswith(path) and keyword in p for p in problems), problems


def test_root_level_conditions_are_refused():
    text = schema_with({"type": "string"}, allOf=[{"required": ["champ"]}])
    assert any(p.startswith("/allOf") for p in problems_of(text))


def test_meta_schema_error_names_path_and_keyword():
    problems = problems_of(schema_with({"type": "string", "minLength": "trois"}))
    assert any("/properties/champ/minLength" in p and "type" in p for p in problems)


def test_unreadable_json_names_line_and_column():
    problems = problems_of('{"type": "object",\n "properties": }')
    assert "ligne 2" in problems[0]


@pytest.mark.parametrize(
    "name", ["_id", "_secret", "a__b", "", " espace"]
)
def test_reserved_or_bad_field_names_are_refused(name):
    assert problems_of(schema_with({"type": "string", "title": "x"}, name=name))


def test_names_differing_only_by_case_are_refused():
    text = json.dumps(
        {"type": "object", "properties": {"ID": {"type": "string"}, "id": {"type": "string"}}}
    )
    assert any("casse" in p for p in problems_of(text))


def test_missing_purpose_and_title_are_warnings_not_inventions():
    loaded = load_text(schema_with({"type": "string"}))
    messages = " ".join(str(w) for w in loaded.warnings)
    assert "finalité non renseignée" in messages
    assert "title" in messages


def test_draft07_keywords_without_schema_mean_draft07():
    assert detect_draft({"definitions": {}, "properties": {}}) == DRAFT_07
    assert detect_draft({"properties": {"a": {"items": [{}]}}}) == DRAFT_07
    assert detect_draft({"properties": {}}).endswith("2020-12/schema")


def test_schema_check_cli_exit_codes(tmp_path):
    good = tmp_path / "bon.json"
    good.write_text(schema_with({"type": "string", "title": "A", "x-purpose": "B"}))
    bad = tmp_path / "mauvais.json"
    bad.write_text(schema_with({"$ref": "#/x"}))

    ok = run_cli(tmp_path / "i", "schema", "check", str(good))
    assert "Schéma valide" in ok.stdout

    refused = run_cli(tmp_path / "i", "schema", "check", str(bad), check=False)
    assert refused.returncode == 1
    assert "/properties/champ/$ref" in refused.stderr


def test_table_schema_repairs_are_listed():
    descriptor = {
        "name": "Mon Schéma",
        "fields": [
            {"name": "lat", "type": "number", "title": "Latitude",
             "description": "Où.", "constraints": {"minimum": "-90"}},
            {"name": "etat", "type": "string", "title": "État", "description": "Quoi.",
             "required": True, "enum": ["a", "b"]},
        ],
        "custom_checks": [{"name": "x"}],
    }
    loaded = load_text(json.dumps(descriptor))
    messages = [str(w) for w in loaded.warnings]
    assert loaded.canonical["properties"]["lat"]["minimum"] == -90
    assert loaded.canonical["required"] == ["etat"]
    assert loaded.canonical["properties"]["etat"]["enum"] == ["a", "b"]
    assert loaded.slug() == "mon-schema"
    assert any("custom_checks" in m for m in messages)
    assert any("/name" in m for m in messages)
    assert loaded.canonical["x-tableschema"]["custom_checks"] == [{"name": "x"}]
