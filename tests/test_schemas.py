"""Loading and checking schemas: refusals name the keyword and the path."""

import json

import pytest
from conftest import run_cli

from dnt_forms.errors import InvalidSchemaError
from dnt_forms.schemas import load_text
from dnt_forms.schemas.drafts import DRAFT_07, detect_draft


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
        ({"$ref": "#/$defs/x"}, "/properties/champ/$ref", "introuvable"),
        ({"type": "object"}, "/properties/champ/properties", "x-type"),
        (
            {"type": "object", "properties": {"a": {"$ref": "#/nulle"}}},
            "/properties/champ/properties/a/$ref",
            "introuvable",
        ),
        (
            {"type": "array", "items": {"type": "object"}},
            "/properties/champ/items",
            "groupes de champs",
        ),
        ({"type": "string", "if": {}, "then": {}}, "/properties/champ/if", "if/then"),
        (
            {"oneOf": [{"type": "string"}, {"type": "integer"}]},
            "/properties/champ/oneOf",
            "oneOf",
        ),
        ({"type": "string", "not": {"const": "x"}}, "/properties/champ/not", "not"),
        ({"type": "string", "minimum": 3}, "/properties/champ/minimum", "minimum"),
    ],
)
def test_unsupported_keyword_is_refused_with_its_path(prop, path, keyword):
    problems = problems_of(schema_with(prop))
    assert any(p.startswith(path) and keyword in p for p in problems), problems


def test_root_level_conditions_are_refused():
    text = schema_with(
        {"type": "string"}, allOf=[{"properties": {"champ": {"minLength": 2}}}]
    )
    assert any(p.startswith("/allOf") for p in problems_of(text))


def test_meta_schema_error_names_path_and_keyword():
    problems = problems_of(schema_with({"type": "string", "minLength": "trois"}))
    assert any("/properties/champ/minLength" in p and "type" in p for p in problems)


def test_unreadable_json_names_line_and_column():
    problems = problems_of('{"type": "object",\n "properties": }')
    assert "ligne 2" in problems[0]


@pytest.mark.parametrize("name", ["_id", "_secret", "a__b", "", " espace"])
def test_reserved_or_bad_field_names_are_refused(name):
    assert problems_of(schema_with({"type": "string", "title": "x"}, name=name))


def test_names_differing_only_by_case_are_refused():
    text = json.dumps(
        {
            "type": "object",
            "properties": {"ID": {"type": "string"}, "id": {"type": "string"}},
        }
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
            {
                "name": "lat",
                "type": "number",
                "title": "Latitude",
                "description": "Où.",
                "constraints": {"minimum": "-90"},
            },
            {
                "name": "etat",
                "type": "string",
                "title": "État",
                "description": "Quoi.",
                "required": True,
                "enum": ["a", "b"],
            },
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


def test_local_refs_are_inlined_with_their_siblings():
    text = json.dumps(
        {
            "$defs": {
                "code": {
                    "type": "string",
                    "pattern": "^[0-9]{5}$",
                    "x-purpose": "Code postal.",
                }
            },
            "type": "object",
            "properties": {"cp": {"$ref": "#/$defs/code", "title": "Code postal"}},
        }
    )
    loaded = load_text(text)
    assert loaded.canonical["properties"]["cp"] == {
        "type": "string",
        "pattern": "^[0-9]{5}$",
        "x-purpose": "Code postal.",
        "title": "Code postal",
    }
    assert "$defs" not in loaded.canonical


def test_recursive_ref_is_refused_naming_it():
    text = json.dumps(
        {
            "definitions": {
                "node": {
                    "type": "object",
                    "properties": {"child": {"$ref": "#/definitions/node"}},
                }
            },
            "type": "object",
            "properties": {"tree": {"$ref": "#/definitions/node"}},
        }
    )
    problems = problems_of(text)
    assert any(
        "/properties/tree/properties/child/$ref" in p and "récursive" in p
        for p in problems
    ), problems


def test_shared_dictionary_next_to_the_schema(tmp_path):
    from dnt_forms.schemas import load_file

    (tmp_path / "_dico.json").write_text(
        json.dumps(
            {
                "$defs": {
                    "insee": {
                        "type": "string",
                        "title": "Code INSEE",
                        "x-purpose": "Identifier la commune.",
                    }
                }
            }
        )
    )
    form = tmp_path / "form.json"
    form.write_text(
        json.dumps(
            {
                "type": "object",
                "properties": {"commune": {"$ref": "_dico.json#/$defs/insee"}},
            }
        )
    )
    loaded = load_file(form)
    assert loaded.canonical["properties"]["commune"]["title"] == "Code INSEE"


def test_draft07_dependencies_keep_their_meaning():
    from dnt_forms.schemas.resolve import canonical_schema

    schema = {
        "type": "object",
        "properties": {
            "a": {"type": "string"},
            "b": {"type": "string"},
            "t": {
                "type": "array",
                "items": [{"type": "string"}],
                "additionalItems": {"type": "number"},
            },
        },
        "dependencies": {"a": ["b"], "b": {"required": ["a"]}},
    }
    canonical = canonical_schema(schema)
    assert canonical["dependentRequired"] == {"a": ["b"]}
    assert canonical["dependentSchemas"] == {"b": {"required": ["a"]}}
    assert canonical["properties"]["t"]["prefixItems"] == [{"type": "string"}]
    assert canonical["properties"]["t"]["items"] == {"type": "number"}
