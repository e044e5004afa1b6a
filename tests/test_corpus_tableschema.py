"""The corpus of real Table Schemas, end to end on a real server.

Each schema is imported with the CLI; every row of its valid example, typed by
frictionless (the reference reader of Table Schema), is posted to the API and
read back from Datasette; every row frictionless flags in an invalid example is
refused at exactly the fields frictionless flags, and nothing of it is stored.
"""

from __future__ import annotations

import copy
import json
import re
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import requests
from conftest import corpus_path, last_line
from frictionless import Resource, Schema

from dnt_forms.schemas.tableschema import repair
from dnt_forms.tabular import api_value

PARIS = ZoneInfo("Europe/Paris")
CELL_ERRORS = {"type-error", "constraint-error"}
# A header frictionless can still read by the schema's field names: columns
# missing at the end (an example older than the schema) leave those fields
# empty; renamed, swapped or extra columns make the rows unreadable.
READABLE_HEADER_ERRORS = {"missing-label"}
EXPECTED_SCHEMAS = 15


def _folders() -> list[str]:
    base = corpus_path() / "tableschema"
    names = sorted(p.parent.name for p in base.glob("*/schema.json"))
    # Without the corpus, one case remains so that the `corpus` fixture
    # reports the skip instead of the test silently vanishing.
    return names or ["corpus-absent"]


@pytest.fixture(scope="module")
def tableschemas(corpus):
    return corpus / "tableschema"


def test_corpus_holds_every_table_schema(tableschemas):
    assert len(list(tableschemas.glob("*/schema.json"))) == EXPECTED_SCHEMAS


@pytest.mark.parametrize("folder", _folders())
def test_corpus_table_schema(folder, tableschemas, server, api):
    source = tableschemas / folder
    raw = json.loads((source / "schema.json").read_text(encoding="utf-8-sig"))
    repairs = []
    descriptor = repair(copy.deepcopy(raw), repairs)
    schema = Schema.from_descriptor(descriptor)
    slug = f"corpus-{folder}"

    result = server.cli("schema", "import", str(source / "schema.json"), "--slug", slug)
    _check_import_output(result, slug, raw, repairs)
    _check_served_schema(server, api, slug, raw, schema)
    assert _datasette_rows(server, slug) == []

    created = {}
    if (source / "valid.csv").exists():
        created = _post_valid_rows(server, api, slug, source, schema)

    rows = _datasette_rows(server, slug)
    assert sorted(row["_id"] for row in rows) == sorted(created)
    for row in rows:
        expected = created[row["_id"]]
        for field in schema.fields:
            _assert_same(row[field.name], expected[field.name], field, row["_id"])

    for path in sorted(source.glob("invalid*.csv")):
        _post_invalid_rows(server, api, slug, path, schema)

    # Refused rows leave no trace, neither published nor in the private store.
    rows = _datasette_rows(server, slug)
    assert sorted(row["_id"] for row in rows) == sorted(created)
    listed = api.get(server.url(f"/api/v1/forms/{slug}/entries"))
    assert listed.status_code == 200, listed.text
    assert listed.json()["next"] is None
    assert sorted(e["id"] for e in listed.json()["entries"]) == sorted(created)


def _check_import_output(result, slug, raw, repairs) -> None:
    assert last_line(result) == slug
    lines = result.stdout.strip().splitlines()
    assert re.match(r"^Formulaire installé, version \d+ \(publié\) :$", lines[-2])
    warnings = lines[:-2]
    assert all(line.startswith("avertissement : ") for line in warnings), warnings
    from dnt_forms.schemas import named

    for problem in named(repairs, raw):
        assert f"avertissement : {problem}" in warnings
    if "custom_checks" in raw:
        ignored = "avertissement : /custom_checks :"
        assert any(line.startswith(ignored) for line in warnings), warnings


def _check_served_schema(server, api, slug, raw, schema) -> None:
    """The form keeps every field, its required ones and its examples."""
    response = api.get(server.url(f"/api/v1/forms/{slug}/schema"))
    assert response.status_code == 200, response.text
    served = response.json()
    # In the schema's own order: a client builds its form from it.
    assert list(served["properties"]) == [field.name for field in schema.fields]
    required = {
        field.name
        for field in schema.fields
        if field.required or field.name in schema.primary_key
    }
    assert set(served["required"]) == required
    for field in raw["fields"]:
        # Real schemas write `examples` as a list or as one bare value.
        if "examples" in field:
            examples = field["examples"]
        else:
            examples = [field["example"]] if "example" in field else []
        if not isinstance(examples, list):
            examples = [examples]
        prop = served["properties"][field["name"].strip()]
        got = [str(e) for e in prop.get("examples", [])]
        assert got == [str(e) for e in examples], field["name"]


def _post_valid_rows(server, api, slug, source, schema) -> dict[int, dict]:
    """Post each row; return {entry id: the row as Datasette should give it}."""
    created = {}
    with Resource(path="valid.csv", basepath=str(source), schema=schema) as resource:
        for row in resource.row_stream:
            assert row.valid, f"row {row.row_number}: {row.errors}"
            payload = {}
            expected = {}
            for field in schema.fields:
                value = row[field.name]
                expected[field.name] = _datasette_value(field, value)
                if value is not None:
                    payload[field.name] = _api_value(field, value)
            response = api.post(
                server.url(f"/api/v1/forms/{slug}/entries"), json=payload
            )
            assert response.status_code == 201, (row.row_number, response.text)
            entry_id = response.json()["id"]
            created[entry_id] = expected

            back = api.get(server.url(f"/api/v1/forms/{slug}/entries/{entry_id}"))
            assert back.status_code == 200, back.text
            assert back.json()["data"] == {
                name: _api_read_back(schema.get_field(name), value)
                for name, value in payload.items()
            }, f"row {row.row_number}"
    assert created, "valid.csv has no rows"
    return created


def _post_invalid_rows(server, api, slug, path, schema) -> None:
    """Post each row frictionless flags at cell level, expecting a 422."""
    tried = 0
    resource = Resource(path=path.name, basepath=str(path.parent), schema=schema)
    with resource:
        if not all(e.type in READABLE_HEADER_ERRORS for e in resource.header.errors):
            # Renamed or swapped columns: frictionless cannot tell which
            # value belongs to which field, so neither could a test.
            return
        for row in resource.row_stream:
            flagged = {}
            for error in row.errors:
                if error.type in CELL_ERRORS:
                    flagged[error.field_name] = error.cell
            if not flagged:
                continue
            tried += 1
            wanted = {"/" + name for name in flagged}
            payload = {}
            for field in schema.fields:
                if field.name in flagged:
                    payload[field.name] = flagged[field.name]
                elif row[field.name] is not None:
                    payload[field.name] = _api_value(field, row[field.name])
            _assert_refused(server, api, slug, payload, wanted, path, row)

            # The same cells typed where frictionless can type them, so that
            # the constraints themselves (not only the types) are checked.
            typed = dict(payload)
            for name, cell in flagged.items():
                field = schema.get_field(name)
                value, _ = field.read_cell(cell)
                if value is None:
                    typed.pop(name, None)
                else:
                    typed[name] = _api_value(field, value)
            if typed != payload:
                _assert_refused(server, api, slug, typed, wanted, path, row)
    assert tried, f"{path.name}: frictionless flags no cell, nothing was tried"


def _assert_refused(server, api, slug, payload, wanted, path, row) -> None:
    response = api.post(server.url(f"/api/v1/forms/{slug}/entries"), json=payload)
    where = f"{path.name} row {row.row_number}"
    assert response.status_code == 422, (where, response.status_code, response.text)
    body = response.json()
    assert body["ok"] is False and body["status"] == 422
    assert {e["path"] for e in body["errors"]} == wanted, (where, body["errors"])
    assert all(e["message"] for e in body["errors"])


def _api_value(field, value):
    """A frictionless value in INTERFACE.md's API JSON representation."""
    return api_value(field, value)


def _api_read_back(field, value):
    """What the API gives back: a naive date-time gets the Paris offset."""
    if field.type == "datetime" and not re.search(r"(Z|[+-]\d\d:\d\d)$", value):
        return datetime.fromisoformat(value).replace(tzinfo=PARIS).isoformat()
    return value


def _datasette_value(field, value):
    """A frictionless value as Datasette's JSON should give it back."""
    if value is None:
        return None
    if field.type == "boolean":
        return int(value)
    return _api_read_back(field, _api_value(field, value))


def _assert_same(got, expected, field, entry_id) -> None:
    where = f"entry {entry_id}, field {field.name} ({field.type})"
    if expected is None:
        assert got is None, where
    elif field.type in ("geopoint", "array"):
        # Datasette gives these as JSON text, decoded here to compare values.
        assert isinstance(got, str), where
        assert json.loads(got) == expected, where
    elif field.type in ("integer", "year", "boolean"):
        assert type(got) is int and got == expected, (where, got, expected)
    elif field.type == "number":
        assert type(got) in (int, float) and got == expected, (where, got, expected)
    else:
        assert got == expected, (where, got, expected)


def _datasette_rows(server, slug) -> list[dict]:
    url = server.url(f"/data/public/{slug}.json?_shape=array&_size=max")
    rows = []
    while url:
        response = requests.get(url)
        assert response.status_code == 200, response.text
        rows.extend(response.json())
        url = response.links.get("next", {}).get("url")
    return rows


def test_examples_written_as_one_value_are_one_example():
    # scdl-budget and others write "examples": "2018"; a list of characters
    # would then show "Exemple : « 2 », « 0 »…" in hints and error messages.
    warnings = []
    desc = repair({"fields": [{"name": "annee", "examples": "2018"}]}, warnings)
    assert desc["fields"][0]["examples"] == ["2018"]
    assert [w.path for w in warnings] == ["/fields/0/examples"]
