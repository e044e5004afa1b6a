"""The JSON Schema samples of the corpus that the compiler takes today.

Each accepted sample's data goes in through the API and comes back equal,
and column by column from public.db (nested fields as parent__child).
Schemas using what the compiler does not handle yet are refused naming the
keyword and its path.
"""

from __future__ import annotations

import json
import re

import pytest
from conftest import corpus_path, public_rows

from dnt_forms.compiler import compile_schema, leaves, value_at
from dnt_forms.errors import InvalidSchemaError
from dnt_forms.publish import child_tables
from dnt_forms.schemas import load_file

# Samples whose data are stored and read back; the others must be refused.
ROUND_TRIP = [
    "jsonforms-dates",
    "jsonforms-person",
    "rjsf-alternatives",
    "rjsf-nullable",
    "rjsf-numbers",
    "rjsf-widgets",
    "rjsf-nested",
    "rjsf-arrays",
    "rjsf-simple",
    "rjsf-schema-dependencies",
    "rjsf-enum-objects",
]


# Accepted samples that ship no data.
WITHOUT_DATA = ["rjsf-date", "rjsf-validation", "rjsf-if-then-else"]


def _names() -> list[str]:
    base = corpus_path() / "jsonschema"
    return sorted(
        p.name[: -len(".schema.json")] for p in base.glob("*.schema.json")
    ) or ["(absent)"]


@pytest.mark.parametrize("name", _names())
def test_sample_is_accepted_or_refused_with_a_path(corpus, name):
    path = corpus / "jsonschema" / f"{name}.schema.json"
    try:
        load_file(path)
    except InvalidSchemaError as exc:
        assert name not in ROUND_TRIP, [str(p) for p in exc.problems]
        assert all(p.path.startswith("/") for p in exc.problems)
        assert all(p.keyword for p in exc.problems)
        return
    assert name in ROUND_TRIP or name in WITHOUT_DATA


@pytest.mark.parametrize("name", ROUND_TRIP)
def test_sample_data_round_trips(corpus, app, agent, token, make_form, name):
    schema_path = corpus / "jsonschema" / f"{name}.schema.json"
    data = json.loads((corpus / "jsonschema" / f"{name}.data.json").read_text())
    slug = "js-" + name
    make_form(schema_path, slug)
    headers = {"Authorization": f"Bearer {token}"}

    created = agent.post(f"/api/v1/forms/{slug}/entries", json=data, headers=headers)
    invalid = _invalid_paths(json.loads(schema_path.read_text()), data)
    if invalid:
        # The sample breaks its own schema: refused, at exactly those fields.
        assert created.status_code == 422
        assert {e["path"] for e in created.get_json()["errors"]} == invalid
        assert public_rows(app, slug) == []
        return
    assert created.status_code == 201, created.get_json()

    back = agent.get(
        f"/api/v1/forms/{slug}/entries/{created.get_json()['id']}", headers=headers
    ).get_json()["data"]
    # A read-only field the client leaves out takes the form's value.
    expected = dict(data)
    for name, prop in json.loads(schema_path.read_text())["properties"].items():
        if prop.get("readOnly") and "default" in prop and name not in data:
            expected[name] = prop["default"]
    assert back == expected

    row = public_rows(app, slug)[0]
    specs = compile_schema(load_file(schema_path).canonical)
    for spec in leaves(specs):
        _assert_column(row[spec.column], value_at(expected, spec.path), spec.column)

    # Each list of objects is a child table, one row per item, in order.
    for child in child_tables(slug, specs):
        items = value_at(expected, child.spec.path) or []
        rows = public_rows(app, child.table)
        assert [r["_position"] for r in rows] == list(range(len(items)))
        for item, child_row in zip(items, rows):
            assert child_row["_entry_id"] == row["_id"]
            for column, leaf in child.leaves():
                value = value_at(item, leaf.path[child.depth :])
                _assert_column(child_row[column], value, column)


def _assert_column(column, value, name):
    if isinstance(value, bool):
        assert column == int(value), name
    elif isinstance(value, (list, dict)):
        assert json.loads(column) == value, name
    else:
        assert column == value, name


def _invalid_paths(schema: dict, data: dict) -> set[str]:
    """Where jsonschema itself finds the sample invalid (a missing required
    field is placed at the field)."""
    from jsonschema import FormatChecker

    from dnt_forms.schemas.drafts import validator_class

    # The draft as INTERFACE.md reads it: draft-07 keywords mean draft-07.
    cls = validator_class(schema)
    paths = set()
    for error in cls(schema, format_checker=FormatChecker()).iter_errors(data):
        parts = [str(p) for p in error.absolute_path]
        if error.validator == "required":
            parts.append(error.message.split("'")[1])
        paths.add("".join(f"/{p}" for p in parts))
    return paths


@pytest.mark.parametrize("name", ROUND_TRIP + WITHOUT_DATA)
def test_sample_form_renders_every_field(corpus, agent, make_form, name):
    from markupsafe import escape

    from dnt_forms.compiler import NO_PURPOSE, instantiate, walk
    from dnt_forms.forms import row_counts

    schema_path = corpus / "jsonschema" / f"{name}.schema.json"
    slug = "html-" + name
    make_form(schema_path, slug)
    html = agent.get(f"/formulaires/{slug}/").text
    specs = compile_schema(load_file(schema_path).canonical)
    # The page shows each list with its starting rows.
    for spec in walk(instantiate(specs, None, row_counts(specs, None))):
        assert str(escape(spec.purpose or NO_PURPOSE)) in html, spec.html_name
        assert (
            f'for="{spec.html_id}"' in html or f"<legend>{escape(spec.title)}" in html
        ), spec.html_name


def test_labelled_choices_show_labels_and_store_values(corpus, agent, make_form, app):
    from conftest import csrf_from

    make_form(corpus / "jsonschema" / "rjsf-alternatives.schema.json", "alt")
    page = agent.get("/formulaires/alt/").text
    assert ">Multiply</label>" in page and 'value="multiply"' in page
    assert ">Red</label>" in page and 'value="#ff0000"' in page
    response = agent.post(
        "/formulaires/alt/",
        data={
            "csrf_token": csrf_from(page),
            "currentColor": "#00ff00",
            "colorMask": ["#ff0000", "#0000ff"],
            "blendMode": "multiply",
        },
    )
    assert response.status_code == 302, response.text[:3000]
    row = public_rows(app, "alt")[0]
    assert row["blendMode"] == "multiply" and row["currentColor"] == "#00ff00"
    assert json.loads(row["colorMask"]) == ["#ff0000", "#0000ff"]


def test_if_then_else_is_exact_on_the_server(corpus, client, token, make_form, agent):
    make_form(corpus / "jsonschema" / "rjsf-if-then-else.schema.json", "animaux")
    url = "/api/v1/forms/animaux/entries"
    headers = {"Authorization": f"Bearer {token}"}

    def paths(body):
        response = client.post(url, json=body, headers=headers)
        if response.status_code == 201:
            return set()
        return {e["path"] for e in response.get_json()["errors"]}

    # JSON Schema's own reading: an `if` on an absent field holds, so with no
    # animal both branches apply. The server is exact, not "helpful".
    assert paths({}) == {"/animal", "/food", "/water"}
    assert paths({"animal": "Cat"}) == {"/food"}
    assert paths({"animal": "Cat", "food": "meat"}) == set()
    assert paths({"animal": "Fish", "food": "insect"}) == {"/water"}
    assert paths({"animal": "Fish", "food": "meat", "water": "sea"}) == {"/food"}
    html = agent.get("/formulaires/animaux/").text
    assert "Obligatoire si « animal » vaut « Fish »." in html
    # Without the script every food shows: the hint says which goes with
    # which animal, and each choice says it to the script.
    assert (
        "Choix si « animal » vaut « Cat » : « meat », « grass », « fish » ; "
        "si « animal » vaut « Fish » : « insect », « worms »." in html
    )
    assert re.search(
        r'<div class="option" data-conditions="[^"]*Fish[^"]*">\s*'
        r'<input type="radio"[^>]*value="worms"',
        html,
    )


@pytest.mark.parametrize("name", ROUND_TRIP)
def test_sample_data_round_trips_through_the_html_form(
    corpus, app, agent, token, make_form, name
):
    """An agent opens the entry and saves it unchanged: the data stay equal."""
    from htmlform import posted_pairs

    schema_path = corpus / "jsonschema" / f"{name}.schema.json"
    data = json.loads((corpus / "jsonschema" / f"{name}.data.json").read_text())
    if _invalid_paths(json.loads(schema_path.read_text()), data):
        pytest.skip("the sample's data break its own schema (422 tested above)")
    slug = "web-" + name
    make_form(schema_path, slug)
    headers = {"Authorization": f"Bearer {token}"}
    created = agent.post(f"/api/v1/forms/{slug}/entries", json=data, headers=headers)
    url = f"/api/v1/forms/{slug}/entries/{created.get_json()['id']}"
    before = agent.get(url, headers=headers).get_json()["data"]

    page_url = f"/formulaires/{slug}/entrees/{created.get_json()['id']}"
    pairs = posted_pairs(agent.get(page_url).text, page_url)
    from werkzeug.datastructures import MultiDict

    posted = MultiDict([*pairs, ("action", "enregistrer")])
    response = agent.post(page_url, data=posted)
    assert response.status_code == 302, response.text[:3000]
    after = agent.get(url, headers=headers).get_json()
    assert after["data"] == before
