"""The example forms of form_schemas/: valid, purposeful, rendered accessibly, usable.

Every file of form_schemas/ (except those starting with "_", which hold shared
definitions) must load without a warning, give every field a title and a
purpose, render as an HTML form where each input has a label (or a fieldset and
its legend for grouped inputs) and its purpose tied to it, and accept the entry
given as the schema's root "examples" through the HTML form.
"""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from conftest import ROOT, csrf_from
from jsonschema import Draft202012Validator

from dnt_forms.auth import create_user
from dnt_forms.compiler import NO_PURPOSE, FieldSpec, compile_schema
from dnt_forms.db import db
from dnt_forms.models import Entry, Form, Organisation
from dnt_forms.schemas import load_file
from dnt_forms.schemas.drafts import DRAFT_2020
from dnt_forms.schemas.naming import is_valid_slug
from dnt_forms.schemas.versions import install
from dnt_forms.validation import format_checker

FOLDER = ROOT / "form_schemas"
FILES = sorted(p for p in FOLDER.glob("*.json") if not p.name.startswith("_"))

ORG_CODE = "35238"
EMAIL = "agent@commune-test.fr"
PASSWORD = "mot-de-passe-agent"


def _id(path: Path) -> str:
    return path.stem


@pytest.fixture(params=FILES, ids=_id)
def schema_file(request) -> Path:
    return request.param


def test_there_are_example_forms():
    assert len(FILES) >= 3, f"form_schemas/ should hold example forms, has {FILES}"


def test_slugs_are_distinct():
    slugs = [load_file(path).slug(stem=path.stem) for path in FILES]
    assert len(set(slugs)) == len(slugs), slugs


# --- (a) the schema loads with no warning ------------------------------------


def test_loads_without_warnings(schema_file):
    loaded = load_file(schema_file)
    assert [str(w) for w in loaded.warnings] == []
    assert loaded.kind == "jsonschema"
    schema = loaded.canonical
    assert schema["$schema"] == DRAFT_2020
    assert schema.get("title", "").strip(), "the form needs a title"
    assert schema.get("description", "").strip(), "the form needs a description"
    assert is_valid_slug(loaded.slug(stem=schema_file.stem))
    license_ = schema.get("x-license")
    assert license_ and license_.get("title") and license_.get("url")


# --- (b) every field has a title and a purpose -------------------------------


def test_every_field_has_title_and_purpose(schema_file):
    schema = load_file(schema_file).canonical
    specs = compile_schema(schema)
    assert len(specs) == len(schema["properties"])
    for spec in specs:
        # The compiler falls back on the property name: demand a real title.
        assert spec.prop.get("title", "").strip(), f"{spec.name}: no title"
        assert spec.title == spec.prop["title"]
        assert spec.purpose and spec.purpose.strip(), f"{spec.name}: no purpose"
        assert spec.purpose_text != NO_PURPOSE
        # Purposes are written as x-purpose, not left to a description.
        assert spec.prop.get("x-purpose") == spec.purpose, f"{spec.name}: no x-purpose"


def test_unpublished_fields_say_so_in_their_purpose(schema_file):
    for spec in compile_schema(load_file(schema_file).canonical):
        if not spec.published:
            assert "publi" in spec.purpose, (
                f"{spec.name}: an unpublished field should tell the agent it "
                "is never published"
            )


def test_examples_and_defaults_are_valid(schema_file):
    schema = load_file(schema_file).canonical
    for name, prop in schema["properties"].items():
        validator = Draft202012Validator(prop, format_checker=format_checker)
        for example in prop.get("examples", []):
            errors = [e.message for e in validator.iter_errors(example)]
            assert not errors, f"{name}: example {example!r}: {errors}"
        if "default" in prop:
            errors = [e.message for e in validator.iter_errors(prop["default"])]
            assert not errors, f"{name}: default {prop['default']!r}: {errors}"

    entries = schema.get("examples") or []
    assert entries, "the schema should give one full example entry in its root examples"
    validator = Draft202012Validator(schema, format_checker=format_checker)
    for entry in entries:
        errors = [
            f"{list(e.absolute_path)}: {e.message}"
            for e in validator.iter_errors(entry)
        ]
        assert not errors, errors


# --- (c) the generated HTML form ---------------------------------------------


VOID = {
    "area",
    "base",
    "br",
    "col",
    "embed",
    "hr",
    "img",
    "input",
    "link",
    "meta",
    "source",
    "track",
    "wbr",
}
CONTROLS = ("input", "select", "textarea")


class Node:
    def __init__(self, tag: str, attrs, parent: Node | None):
        self.tag = tag
        self.attrs = {k: (v or "") for k, v in attrs}
        self.parent = parent
        self.children: list = []

    def iter(self):
        yield self
        for child in self.children:
            if isinstance(child, Node):
                yield from child.iter()

    @property
    def text(self) -> str:
        parts = []
        for child in self.children:
            parts.append(child.text if isinstance(child, Node) else child)
        return " ".join(" ".join(parts).split())

    def ancestor(self, tag: str) -> Node | None:
        node = self.parent
        while node is not None and node.tag != tag:
            node = node.parent
        return node


class TreeBuilder(HTMLParser):
    """A small DOM from the standard library's parser (entities decoded)."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.root = Node("#document", [], None)
        self.current = self.root

    def handle_starttag(self, tag, attrs):
        node = Node(tag, attrs, self.current)
        self.current.children.append(node)
        if tag not in VOID:
            self.current = node

    def handle_startendtag(self, tag, attrs):
        self.current.children.append(Node(tag, attrs, self.current))

    def handle_endtag(self, tag):
        node = self.current
        while node is not None and node.tag != tag:
            node = node.parent
        if node is not None and node.parent is not None:
            self.current = node.parent

    def handle_data(self, data):
        self.current.children.append(data)


def parse(html: str) -> Node:
    builder = TreeBuilder()
    builder.feed(html)
    builder.close()
    return builder.root


def _install(app, path: Path) -> str:
    with app.app_context():
        loaded = load_file(path)
        slug = loaded.slug(stem=path.stem)
        install(loaded, slug, origin=f"form_schemas/{path.name}")
        org = Organisation(code=ORG_CODE, name="Ville de Rennes")
        db.session.add(org)
        db.session.commit()
        create_user(EMAIL, "agent", org, password=PASSWORD)
    return slug


def _sign_in(client) -> None:
    page = client.get("/connexion")
    response = client.post(
        "/connexion",
        data={"email": EMAIL, "password": PASSWORD, "csrf_token": csrf_from(page.text)},
    )
    assert response.status_code == 302, response.text


@pytest.fixture
def opened(app, client, schema_file):
    """(slug, schema, specs) of the schema installed, with an agent signed in."""
    slug = _install(app, schema_file)
    _sign_in(client)
    schema = load_file(schema_file).canonical
    return slug, schema, compile_schema(schema)


def _controls(root: Node, spec: FieldSpec) -> list[Node]:
    return [
        node
        for node in root.iter()
        if node.tag in CONTROLS
        and (
            node.attrs.get("name") == spec.name
            or node.attrs.get("name", "").startswith(spec.name + ".")
        )
    ]


def test_form_renders_with_labels_and_purposes(client, opened):
    slug, schema, specs = opened
    response = client.get(f"/formulaires/{slug}/")
    assert response.status_code == 200
    html = response.text
    root = parse(html)

    h1 = [n for n in root.iter() if n.tag == "h1"]
    assert h1 and h1[0].text == schema["title"]
    assert " ".join(schema["description"].split()) in root.text

    by_id = {n.attrs["id"]: n for n in root.iter() if n.attrs.get("id")}
    labels_for = {}
    for label in (n for n in root.iter() if n.tag == "label"):
        if label.attrs.get("for"):
            labels_for.setdefault(label.attrs["for"], []).append(label.text)

    for spec in specs:
        where = f"{slug}/{spec.name}"
        controls = _controls(root, spec)
        assert controls, f"{where}: no input named {spec.name!r}"

        for control in controls:
            control_id = control.attrs.get("id")
            assert control_id, f"{where}: an input has no id"
            assert labels_for.get(control_id), f"{where}: no <label for={control_id!r}>"
            assert all(t.strip() for t in labels_for[control_id]), (
                f"{where}: empty label"
            )

        fieldsets = {id(c.ancestor("fieldset")) for c in controls}
        fieldset = controls[0].ancestor("fieldset")
        if spec.is_list:
            # A list of groups: its own fieldset holds a fieldset per row.
            fieldset = by_id[spec.html_id]
            assert fieldset.tag == "fieldset", f"{where}: a list needs a fieldset"
        if fieldset is not None:
            if not spec.is_list:
                assert len(fieldsets) == 1, f"{where}: inputs split across fieldsets"
            legends = [
                c
                for c in fieldset.children
                if isinstance(c, Node) and c.tag == "legend"
            ]
            assert legends, f"{where}: fieldset without legend"
            name_text = legends[0].text
        else:
            assert len(controls) == 1, f"{where}: grouped inputs need a fieldset"
            name_text = " ".join(labels_for[controls[0].attrs["id"]])
        assert spec.title in name_text, f"{where}: {spec.title!r} not in {name_text!r}"
        if spec.required:
            assert "(obligatoire)" in name_text, f"{where}: not marked as required"

        # The purpose is on the page and tied to the input (or its group).
        described: list[str] = []
        for node in [*controls, fieldset]:
            if node is not None:
                described += node.attrs.get("aria-describedby", "").split()
        notes = [by_id[i].text for i in described if i in by_id]
        purpose = " ".join(spec.purpose.split())
        assert purpose in root.text, f"{where}: purpose not on the page"
        assert any(purpose in note for note in notes), (
            f"{where}: purpose not tied by aria-describedby"
        )
        unpublished_note = any("non publiée" in note for note in notes)
        assert unpublished_note == (not spec.published), (
            f"{where}: the 'non publiée' note should show for unpublished fields only"
        )


def test_form_is_listed_with_its_description(client, opened):
    slug, schema, _ = opened
    page = parse(client.get("/").text)
    assert schema["title"] in page.text
    assert " ".join(schema["description"].split()) in page.text


# --- the example entry goes through the HTML form -----------------------------


def _typed(spec: FieldSpec, value) -> str:
    """What an agent types (or the browser sends) for one value."""
    if spec.json_type == "number":
        return str(value).replace(".", ",")
    if spec.widget == "datetime":
        return value[:16]  # datetime-local: 2025-06-14T07:00
    if spec.widget == "time":
        return value[:5]
    return str(value)


def form_data(specs: list[FieldSpec], entry: dict, csrf: str) -> dict:
    data: dict = {"csrf_token": csrf}
    for spec in specs:
        if spec.name not in entry:
            continue
        value = entry[spec.name]
        if spec.widget == "geopoint":
            data[f"{spec.name}.lon"] = str(value[0]).replace(".", ",")
            data[f"{spec.name}.lat"] = str(value[1]).replace(".", ",")
        elif spec.widget == "checkboxes":
            data[spec.name] = [str(v) for v in value]
        elif spec.is_list:
            # One input per field of each row, named list.row.field.
            for i, row in enumerate(value):
                for child in spec.children:
                    if child.name in row:
                        typed = _typed(child, row[child.name])
                        data[f"{spec.name}.{i}.{child.name}"] = typed
        elif spec.json_type == "boolean":
            if spec.required:
                data[spec.name] = "oui" if value else "non"
            elif value:
                data[spec.name] = "oui"  # an unticked checkbox sends nothing
        elif spec.widget == "repeated":
            for i, item in enumerate(value):
                number = spec.item_type == "number"
                data[f"{spec.name}.{i}"] = (
                    str(item).replace(".", ",") if number else str(item)
                )
        else:
            data[spec.name] = _typed(spec, value)
    return data


def _page_errors(html: str) -> list[str]:
    root = parse(html)
    return [n.text for n in root.iter() if "message-erreur" in n.attrs.get("class", "")]


def _entries(app, slug: str) -> list[dict]:
    with app.app_context():
        form = db.session.execute(db.select(Form).filter_by(slug=slug)).scalar_one()
        rows = db.session.execute(db.select(Entry).filter_by(form_id=form.id)).scalars()
        return [json.loads(e.data_json) for e in rows]


def test_example_entry_is_accepted_and_published(app, client, opened):
    slug, schema, specs = opened
    example = schema["examples"][0]

    page = client.get(f"/formulaires/{slug}/")
    data = form_data(specs, example, csrf_from(page.text))
    response = client.post(f"/formulaires/{slug}/", data=data)
    assert response.status_code == 302, _page_errors(response.text)
    assert re.search(rf"/formulaires/{slug}/entrees/\d+$", response.headers["Location"])

    stored = _entries(app, slug)
    assert stored == [example]

    public = app.extensions["dnt_public"].db[slug]
    columns = {c.name for c in public.columns}
    rows = list(public.rows)
    assert len(rows) == 1
    for spec in specs:
        if spec.is_list:
            # A list of groups has its child table, a row per list row.
            child = app.extensions["dnt_public"].db[f"{slug}__{spec.name}"]
            assert child.count == len(example.get(spec.name, [])), spec.name
        elif spec.published:
            assert spec.name in columns, f"{spec.name} not published"
        else:
            assert spec.name not in columns, f"{spec.name} must never be published"
            published_text = json.dumps(rows, ensure_ascii=False)
            assert str(example.get(spec.name, "\0")) not in published_text


def _has_natural_key(path: Path) -> bool:
    schema = json.loads(path.read_text(encoding="utf-8"))
    props = schema.get("properties", {}).values()
    return bool(schema.get("x-unique")) or any(p.get("x-unique") for p in props)


@pytest.mark.parametrize(
    "keyed_file", [p for p in FILES if _has_natural_key(p)], ids=_id
)
def test_natural_key_refuses_a_second_entry(app, client, keyed_file):
    slug = _install(app, keyed_file)
    _sign_in(client)
    schema = load_file(keyed_file).canonical
    specs = compile_schema(schema)
    example = schema["examples"][0]
    for _ in range(2):
        page = client.get(f"/formulaires/{slug}/")
        data = form_data(specs, example, csrf_from(page.text))
        response = client.post(f"/formulaires/{slug}/", data=data)
    assert response.status_code == 422
    assert _page_errors(response.text), "the duplicate should be reported at its fields"
    assert len(_entries(app, slug)) == 1
