"""Bulk import and export against the corpus of real Table Schemas.

Every `valid.csv` imports whole (and its XLSX copy the same); its export
validates against the schema, as the import repaired it, with frictionless
and zero errors. Every `invalid*.csv` is refused whole, the report naming
the lines and fields frictionless flags, and nothing is stored.
"""

from __future__ import annotations

import copy
import csv
import io
import json

import pytest
from conftest import corpus_path, public_rows
from frictionless import Resource, Schema

from dnt_forms.schemas.tableschema import repair

CELL_ERRORS = {"type-error", "constraint-error"}
ROW_ERRORS = {"primary-key", "unique-error"}


def _folders(pattern: str) -> list[str]:
    base = corpus_path() / "tableschema"
    names = sorted({p.parent.name for p in base.glob(f"*/{pattern}")})
    return names or ["corpus-absent"]


def _invalid_files() -> list[str]:
    base = corpus_path() / "tableschema"
    found = sorted(f"{p.parent.name}/{p.name}" for p in base.glob("*/invalid*.csv"))
    return found or ["corpus-absent/invalid.csv"]


def _schema(source) -> Schema:
    raw = json.loads((source / "schema.json").read_text(encoding="utf-8-sig"))
    return Schema.from_descriptor(repair(copy.deepcopy(raw), []))


def _install(app, make_form, source, slug):
    make_form(source / "schema.json", slug)
    from dnt_forms.entries import form_for_admin

    return form_for_admin(slug)


def _stored(app, slug) -> list[dict]:
    from dnt_forms.db import db
    from dnt_forms.models import Entry, Form

    form = db.session.execute(db.select(Form).filter_by(slug=slug)).scalar_one()
    entries = db.session.execute(
        db.select(Entry).filter_by(form_id=form.id).order_by(Entry.id)
    ).scalars()
    return [e.data for e in entries]


@pytest.mark.parametrize("folder", _folders("valid.csv"))
def test_valid_file_imports_whole_and_exports_valid(
    corpus, app, make_form, tmp_path, folder, agent
):
    from dnt_forms.exports import export
    from dnt_forms.imports import import_file

    source = corpus / "tableschema" / folder
    schema = _schema(source)
    with Resource(path="valid.csv", basepath=str(source), schema=schema) as resource:
        expected = sum(1 for _ in resource.row_stream)

    with app.app_context():
        opened = _install(app, make_form, source, f"csv-{folder}")
        result = import_file(opened, source / "valid.csv", None)
        assert result.created == expected
        from_csv = _stored(app, f"csv-{folder}")
        assert len(public_rows(app, f"csv-{folder}")) == expected

        target = tmp_path / "export.csv"
        assert export(opened, "csv", target) == expected
    report = Resource(
        path=target.name, basepath=str(tmp_path), schema=schema
    ).validate()
    errors = [e.message for task in report.tasks for e in task.errors]
    assert report.valid, errors[:10]
    # The schema the service hands out with the export is that one.
    served = app.test_client().get(f"/formulaires/csv-{folder}/schema-tableschema.json")
    assert served.status_code == 200
    assert served.get_json() == schema.to_descriptor()
    listing = agent.get(f"/formulaires/csv-{folder}/entrees/").text
    assert f'href="/formulaires/csv-{folder}/schema-tableschema.json"' in listing

    # The same rows in an XLSX sheet import the same.
    import openpyxl

    workbook = openpyxl.Workbook()
    sheet = workbook.active
    with open(source / "valid.csv", encoding="utf-8-sig", newline="") as handle:
        sample = handle.read()
    dialect = (
        ";"
        if sample.splitlines()[0].count(";") > sample.splitlines()[0].count(",")
        else ","
    )
    for cells in csv.reader(io.StringIO(sample), delimiter=dialect):
        sheet.append([c if c != "" else None for c in cells])
    xlsx = tmp_path / "valid.xlsx"
    workbook.save(xlsx)
    with app.app_context():
        opened = _install(app, make_form, source, f"xlsx-{folder}")
        assert import_file(opened, xlsx, None).created == expected
        assert _stored(app, f"xlsx-{folder}") == from_csv


def _flagged(path, schema) -> set[tuple[int, str]]:
    """(line, field) of each cell frictionless flags; (1, "") for the header.

    frictionless matches columns by position; a header it refuses makes
    it read each cell under another column. The import matches them by
    name, so the cells are then flagged as frictionless reads them by name
    (fieldsMatch "subset").
    """
    flagged = set()
    with Resource(path=path.name, basepath=str(path.parent), schema=schema) as resource:
        header_errors = [e for e in resource.header.errors if e.type != "missing-label"]
    if header_errors:
        flagged.add((1, ""))
        # "subset": what schema_sync did, columns read by their names.
        schema = Schema.from_descriptor(
            {**schema.to_descriptor(), "fieldsMatch": "subset"}
        )
    with Resource(path=path.name, basepath=str(path.parent), schema=schema) as resource:
        for row in resource.row_stream:
            for error in row.errors:
                if error.type in CELL_ERRORS | ROW_ERRORS:
                    flagged.add((row.row_number, getattr(error, "field_name", "")))
    return flagged


@pytest.mark.parametrize("name", _invalid_files())
def test_invalid_file_is_refused_whole(corpus, app, make_form, name):
    from dnt_forms.imports import ImportRefused, import_file

    folder, file_name = name.split("/")
    source = corpus / "tableschema" / folder
    path = source / file_name
    schema = _schema(source)
    flagged = _flagged(path, schema)
    assert flagged, "frictionless flags nothing in this file"

    slug = f"bad-{folder}"
    with app.app_context():
        opened = _install(app, make_form, source, slug)
        with pytest.raises(ImportRefused) as refused:
            import_file(opened, path, None)
        assert _stored(app, slug) == []
    assert public_rows(app, slug) == []

    problems = refused.value.problems
    assert all(p.message for p in problems)
    # The header's problems, then, as for any file, the cells at exactly the
    # flagged fields and a repeated key on its line.
    assert ((1, "") in flagged) == any(p.line == 1 for p in problems)
    flagged.discard((1, ""))
    reported = {(p.line, p.field) for p in problems if p.kind == "cell" and p.line > 1}
    assert reported == {f for f in flagged if f[1]}, (sorted(reported), sorted(flagged))
    key_lines = {p.line for p in problems if p.kind == "key"}
    assert key_lines == {line for line, name in flagged if not name}
    # The downloadable report says the same, one line per problem.
    lines = list(csv.reader(io.StringIO(refused.value.report_csv()), delimiter=";"))
    assert lines[0] == ["ligne", "colonne", "champ", "erreur"]
    assert len(lines) == len(problems) + 1
