"""Export a form's published entries as CSV, XLSX or JSON.

A public export holds what public.db holds: published entries (submitted
or to complete) and published fields. With `all_fields`, for the form's
managers, the unpublished fields are added.

A form imported from a Table Schema exports a CSV that follows that schema
(its fields only, in its order, written by frictionless's own cell writers:
formats, decimal characters, true/false words), so that the national
validators accept it; its entries to complete, which break the schema,
are left out of it (and counted by `left_out`). Other forms use INTERFACE.md's representation: ISO
dates, dot decimals, true/false, lists as JSON text, `parent__child`
columns. Lists of groups go in child tables: other files (CSV) or sheets
(XLSX) named `<slug>__<field>`.
"""

from __future__ import annotations

import csv
import json
import logging
from collections.abc import Iterator
from datetime import date, datetime, time
from decimal import Decimal
from pathlib import Path
from typing import IO, NamedTuple

from sqlalchemy import func, select

from .compiler import FieldSpec, leaves, lists_of, remove_at, value_at
from .db import db
from .entries import OpenForm
from .models import PUBLISHED_STATES, Entry, Organisation
from .publish import RESERVED_COLUMNS, ChildTable, public_row, to_column
from .tabular import frictionless_schema

logger = logging.getLogger(__name__)

FORMATS = ("csv", "xlsx", "json")
MEDIA_TYPES = {
    "csv": "text/csv",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "json": "application/json",
}


class _Point(NamedTuple):
    lon: float
    lat: float


def _entries(opened: OpenForm, states=PUBLISHED_STATES) -> Iterator:
    """Published entries, streamed from the private store in id order."""
    table = Entry.__table__
    return db.session.execute(
        select(table)
        .where(table.c.form_id == opened.form.id, table.c.state.in_(states))
        .order_by(table.c.id)
        .execution_options(yield_per=1000)
    )


def _org_codes() -> dict:
    return dict(db.session.execute(select(Organisation.id, Organisation.code)).all())


def _fields(opened: OpenForm, all_fields: bool) -> list[FieldSpec]:
    """The exported fields: the form's, then the removed ones still published."""
    from .schemas.versions import publication_specs

    specs = publication_specs(opened.form, opened.version)
    return [s for s in leaves(specs) if s.published or all_fields]


def _children(opened: OpenForm, all_fields: bool) -> list[ChildTable]:
    return [
        ChildTable(opened.slug, spec)
        for spec in lists_of(opened.specs)
        if spec.published or all_fields
    ]


def table_rows(opened: OpenForm, all_fields: bool = False):
    """(columns, rows): each entry as the public table shows it."""
    fields = _fields(opened, all_fields)
    columns = list(RESERVED_COLUMNS) + [s.column for s in fields]
    codes = _org_codes()

    def rows():
        for stored in _entries(opened):
            data = json.loads(stored.data_json)
            row = public_row(stored, fields, codes, data)
            for spec in fields:
                if not spec.published:
                    row[spec.column] = to_column(spec, value_at(data, spec.path))
            yield row, data

    return columns, rows()


# -- CSV ------------------------------------------------------------------------


def write_csv(opened: OpenForm, out: IO[str], all_fields: bool = False) -> int:
    """The main table as CSV; returns the number of entries."""
    schema = frictionless_schema(opened.version)
    if schema is not None:
        return _write_tableschema_csv(opened, schema, out, all_fields)
    columns, rows = table_rows(opened, all_fields)
    # Yes/no as Table Schema's default words, not public.db's 0/1.
    booleans = {
        s.column for s in _fields(opened, all_fields) if s.json_type == "boolean"
    }
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(columns)
    count = 0
    for row, _data in rows:
        for column in booleans:
            if row[column] is not None:
                row[column] = bool(row[column])
        writer.writerow([_csv_cell(row[c]) for c in columns])
        count += 1
    return count


def write_child_csv(opened: OpenForm, child: ChildTable, out: IO[str]) -> None:
    writer = csv.writer(out, lineterminator="\n")
    columns = list(child.columns())
    writer.writerow(columns)
    for stored in _entries(opened):
        for row in child.rows_of(stored.id, json.loads(stored.data_json)):
            writer.writerow([_csv_cell(row[c]) for c in columns])


def _csv_cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _write_tableschema_csv(opened, schema, out: IO[str], all_fields: bool) -> int:
    by_name = {spec.name: spec for spec in leaves(opened.specs)}
    fields = [
        f
        for f in schema.fields
        if f.name in by_name and (by_name[f.name].published or all_fields)
    ]
    writers = [f.create_cell_writer() for f in fields]
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow([f.name for f in fields])
    count = 0
    # Entries to complete break the schema (that is why they are to
    # complete): a file that follows it leaves them out, the others keep them.
    for stored in _entries(opened, ("submitted",)):
        data = json.loads(stored.data_json)
        cells = []
        for ts_field, write in zip(fields, writers, strict=True):
            value = _native(ts_field, data.get(ts_field.name))
            text, _notes = write(value)
            cells.append("" if value is None else text)
        writer.writerow(cells)
        count += 1
    return count


def left_out(opened: OpenForm, fmt: str) -> int:
    """How many published entries the export in `fmt` leaves out: those to
    complete, from the CSV of a form that follows a Table Schema."""
    if fmt != "csv" or frictionless_schema(opened.version) is None:
        return 0
    return db.session.scalar(
        select(func.count())
        .select_from(Entry)
        .where(Entry.form_id == opened.form.id, Entry.state == "to_complete")
    )


def left_out_note(count: int) -> str | None:
    """What to tell whoever takes the file, if `left_out` left any out."""
    if not count:
        return None
    return (
        f"{count} entrée(s) « à compléter » laissée(s) de côté : le CSV suit le "
        "schéma, qu'elles ne respectent pas encore (elles sont dans les exports "
        "XLSX et JSON)"
    )


def _native(ts_field, value):
    """An API value as the Python value frictionless writes for its type."""
    if value is None:
        return None
    kind = ts_field.type
    if kind == "date":
        return date.fromisoformat(value)
    if kind == "datetime":
        return datetime.fromisoformat(value)
    if kind == "time":
        return time.fromisoformat(value)
    if kind == "number":
        return Decimal(str(value))
    if kind == "geopoint" and isinstance(value, list):
        return _Point(*value)
    if kind in ("yearmonth", "duration"):
        # Stored as the ISO text that the default reader takes.
        return ts_field.create_value_reader()(value)
    return value


# -- XLSX and JSON --------------------------------------------------------------


def write_xlsx(opened: OpenForm, path_or_file, all_fields: bool = False) -> int:
    """One sheet for the entries, one per list of groups; streamed (write-only)."""
    import openpyxl

    workbook = openpyxl.Workbook(write_only=True)
    sheet = workbook.create_sheet(opened.slug[:31])
    columns, rows = table_rows(opened, all_fields)
    sheet.append(columns)
    # Each sheet of a write-only workbook streams to its own temporary
    # file, so the lists' sheets are written along with the main one.
    children = []
    for child in _children(opened, all_fields):
        child_sheet = workbook.create_sheet(child.table[-31:])
        child_columns = list(child.columns())
        child_sheet.append(child_columns)
        children.append((child, child_sheet, child_columns))
    # Yes/no as the sheet's own TRUE/FALSE, not public.db's 1/0.
    booleans = {
        s.column for s in _fields(opened, all_fields) if s.json_type == "boolean"
    }
    count = 0
    for row, data in rows:
        for column in booleans:
            if row[column] is not None:
                row[column] = bool(row[column])
        sheet.append([_xlsx_cell(row[c]) for c in columns])
        for child, child_sheet, child_columns in children:
            for child_row in child.rows_of(row["_id"], data):
                child_sheet.append([_xlsx_cell(child_row[c]) for c in child_columns])
        count += 1
    workbook.save(path_or_file)
    return count


def _xlsx_cell(value):
    # A text starting with "=" would become a formula in the reader's sheet.
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@") and len(value) > 1:
        return "'" + value
    return value


def write_json(opened: OpenForm, out: IO[str], all_fields: bool = False) -> int:
    """A JSON array: the reserved columns, then the entry's data, nested."""
    hidden = [s for s in leaves(opened.specs) if not (s.published or all_fields)]
    hidden_lists = [
        s for s in lists_of(opened.specs) if not (s.published or all_fields)
    ]
    # Removed fields stay published (migrate.py): their values, kept apart
    # from the entry's data, come under their column's name.
    from .schemas.versions import publication_specs

    retired = [
        s.column
        for s in publication_specs(opened.form, opened.version)
        if s.retired and (s.published or all_fields)
    ]
    codes = _org_codes()
    out.write("[")
    count = 0
    for stored in _entries(opened):
        data = json.loads(stored.data_json)
        for spec in hidden + hidden_lists:
            remove_at(data, spec.path)
        record = public_row(stored, [], codes, data)
        record.update(data)
        if retired and stored.retired_json:
            kept = json.loads(stored.retired_json)
            record.update((c, kept[c]) for c in retired if c in kept)
        out.write(
            ("," if count else "") + "\n" + json.dumps(record, ensure_ascii=False)
        )
        count += 1
    out.write("\n]\n")
    return count


def export(opened: OpenForm, fmt: str, target: Path, all_fields: bool = False) -> int:
    """Write an export file (and, for CSV, one more per list of groups)."""
    target = Path(target)
    if fmt == "xlsx":
        return write_xlsx(opened, target, all_fields)
    with open(target, "w", encoding="utf-8", newline="") as out:
        if fmt == "json":
            return write_json(opened, out, all_fields)
        count = write_csv(opened, out, all_fields)
    for child in _children(opened, all_fields):
        child_path = target.with_name(
            f"{target.stem}__{child.spec.column}{target.suffix}"
        )
        with open(child_path, "w", encoding="utf-8", newline="") as out:
            write_child_csv(opened, child, out)
    return count
