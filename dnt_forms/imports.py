"""Bulk import of a CSV or XLSX file into a form: all rows, or none.

Each row is read, converted and validated exactly as an entry posted by an
agent would be; the report names every faulty row by its line in the file
(the header is line 1) and every faulty field by its column. Rows are
written as they are read, inside one transaction of the private store that
is rolled back at the first error (reading goes on, to report everything),
so memory stays flat however long the file is. Their public rows go into a
transaction of public.db at the same time, committed just after the
private one.

Reading follows the form's origin:
- a form imported from a Table Schema reads cells strictly as that schema
  says, through frictionless's own cell readers (its formats, decimalChar,
  true/false words and missing values): a file that breaks the schema is
  refused, as the national validators would;
- any other form understands real French files: `1 234,5`, `12/03/2025`,
  oui/non, and choices by their value or their label.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import json
import logging
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time
from pathlib import Path

from flask import current_app
from sqlalchemy import select

from . import french
from .compiler import FieldSpec, leaves, set_at
from .db import db
from .entries import OpenForm, reference_errors
from .fastcheck import compile_check
from .forms import convert_text, typed_item
from .models import Organisation, User, utcnow
from .permissions import form_open_to
from .publish import RESERVED_COLUMNS, form_info, sync_form
from .schemas.versions import publication_specs
from .store import key_reader
from .tabular import (
    Table,
    UnreadableFile,
    api_value,
    frictionless_schema,
    open_table,
    sure_cell,
)
from .validation import apply_read_only, validate_data, with_paris_offset

logger = logging.getLogger(__name__)

# Rows written, and keys checked, this many at a time. Speed (issue 5: at
# least half the rows/s of sqlite-utils insert_all, validation included) is
# measured by benchmarks/import_bench.py; per row, the work that does not
# depend on the row (where a column goes, which check a field needs) is
# done once per import, before the first row.
BATCH = 2000
# Beyond this many problems the report stops: the file needs fixing anyway.
MAX_PROBLEMS = 1000
TRUE_WORDS = {"oui", "o", "vrai", "true", "1", "x", "yes", "y"}
FALSE_WORDS = {"non", "n", "faux", "false", "0", "no"}


@dataclass
class Problem:
    line: int
    column: str | None
    message: str
    field: str | None = None
    # "key": the row repeats a natural key (a row-level problem).
    kind: str = "cell"

    def __str__(self) -> str:
        where = f"ligne {self.line}"
        if self.column:
            where += f", colonne « {self.column} »"
        return f"{where} : {self.message}"


@dataclass
class ImportRefused(Exception):
    problems: list[Problem]
    rows: int = 0
    truncated: bool = False

    def __str__(self) -> str:
        count = f"{len(self.problems)} erreur(s)"
        if self.truncated:
            count = f"au moins {len(self.problems)} erreurs (rapport arrêté)"
        return f"import refusé : {count}, aucune ligne enregistrée"

    def report_csv(self) -> str:
        """The report as a CSV file an admin opens in a spreadsheet."""
        out = io.StringIO()
        writer = csv.writer(out, delimiter=";")
        writer.writerow(["ligne", "colonne", "champ", "erreur"])
        for problem in self.problems:
            writer.writerow(
                [
                    problem.line,
                    problem.column or "",
                    problem.field or "",
                    problem.message,
                ]
            )
        if self.truncated:
            writer.writerow(["", "", "", f"… arrêt après {MAX_PROBLEMS} erreurs"])
        return out.getvalue()


@dataclass
class Column:
    index: int
    header: str
    spec: FieldSpec
    # Any cell (None when absent, text, or an XLSX cell's own type).
    read: Callable
    # A text cell that is not blank, when the column reads it apart: the
    # common case of a French file, called without the checks of `read`.
    text: Callable | None = None


@dataclass
class ImportResult:
    created: int
    first_id: int | None
    kind: str
    columns: list[str] = field(default_factory=list)


def importable(specs: list[FieldSpec]) -> list[FieldSpec]:
    """The fields a file's column can fill: every value, groups flattened.

    A repeatable group is one column of JSON text.
    """
    return [spec for spec in leaves(specs) if spec.widget != "const"] + [
        spec for spec in specs if spec.is_list
    ]


def match_columns(header: list[str], opened: OpenForm, strict: bool):
    """(columns, problems): each header cell tied to a field.

    A header names a field by its name (`parent__child` or `parent.child`
    in a group), else by its title, ignoring case and spaces around.
    """
    fields = importable(opened.specs)
    by_key: dict[str, FieldSpec] = {}
    for spec in fields:
        for key in (
            spec.column,
            spec.html_name,
            spec.name if len(spec.path) == 1 else None,
        ):
            if key:
                by_key.setdefault(key.casefold(), spec)
    for spec in fields:
        by_key.setdefault(spec.title.strip().casefold(), spec)

    readers = _strict_readers(opened) if strict else {}
    columns, problems, seen = [], [], {}
    for index, name in enumerate(header):
        if not name or name.strip() in RESERVED_COLUMNS:
            # Reserved columns (an export's `_id`, `_state`…) are the
            # service's own: a new entry gets new ones.
            continue
        spec = by_key.get(name.strip().casefold())
        if spec is None:
            known = ", ".join(s.column for s in fields[:12])
            problems.append(
                Problem(
                    1,
                    name,
                    f"colonne inconnue du formulaire (colonnes attendues : {known}…)",
                )
            )
            continue
        if spec.column in seen:
            problems.append(
                Problem(1, name, f"même champ que la colonne « {seen[spec.column]} »")
            )
            continue
        seen[spec.column] = name
        if spec.column in readers:
            columns.append(Column(index, name, spec, readers[spec.column]))
        else:
            columns.append(Column(index, name, spec, *_lenient_readers(spec)))
    for spec in fields:
        if spec.required and len(spec.path) == 1 and spec.column not in seen:
            problems.append(
                Problem(
                    1, spec.title, f"colonne obligatoire absente (« {spec.column} »)"
                )
            )
    return columns, problems


def _strict_readers(opened: OpenForm) -> dict[str, Callable]:
    """Each field's reader from frictionless: its value reader (formats,
    decimalChar, true/false words) and its missing values. Not its cell
    reader: the constraints are left to the form's validator, which words
    them in French like every other error."""
    schema = frictionless_schema(opened.version)
    missing = set(schema.missing_values)
    readers = {}
    for ts_field in schema.fields:
        value_reader = ts_field.create_value_reader()
        field_missing = (
            set(ts_field.missing_values)
            if ts_field.has_defined("missing_values")
            else missing
        )
        label = f"{ts_field.type}" + (
            f" au format « {ts_field.format} »" if ts_field.format != "default" else ""
        )
        sure = sure_cell(ts_field)

        def read(
            cell,
            value_reader=value_reader,
            ts_field=ts_field,
            label=label,
            field_missing=field_missing,
            sure=sure,
        ):
            if cell is None:
                return None
            if type(cell) is str:
                if cell in field_missing:
                    return None
                if sure is not None and sure(cell):
                    return cell
            elif str(cell) in field_missing:
                return None
            value = value_reader(cell)
            if value is None:
                raise french.InputError(
                    f"« {cell} » ne se lit pas comme {TS_TYPE_NAMES.get(ts_field.type, label)}"
                    f"{_format_hint(ts_field)} (selon le schéma)."
                )
            value = api_value(ts_field, value)
            if ts_field.type == "datetime" and isinstance(value, str):
                value = with_paris_offset(value)
            return value

        readers[ts_field.name] = read
    return readers


TS_TYPE_NAMES = {
    "integer": "un nombre entier",
    "number": "un nombre",
    "boolean": "un booléen",
    "date": "une date",
    "datetime": "une date et heure",
    "time": "une heure",
    "year": "une année",
    "geopoint": "un point (longitude, latitude)",
    "array": "une liste JSON",
    "object": "un objet JSON",
}


def _format_hint(ts_field) -> str:
    if ts_field.type in ("date", "datetime", "time") and ts_field.format not in (
        "default",
        "any",
    ):
        return f" au format « {ts_field.format} »"
    if ts_field.type == "boolean":
        words = [*ts_field.true_values, *ts_field.false_values]
        return " : " + ", ".join(f"« {w} »" for w in words)
    if ts_field.type == "number" and ts_field.decimal_char != ".":
        return f" avec « {ts_field.decimal_char} » comme séparateur décimal"
    if ts_field.type in ("date", "datetime", "time"):
        return " au format ISO (par exemple 2025-03-12)"
    return ""


def _lenient_readers(spec: FieldSpec) -> tuple[Callable, Callable]:
    """How a cell of a real French file becomes the field's value: any
    cell, and a text cell that is not blank."""
    labels = {}
    for choice in spec.choices:
        labels[choice.key.casefold()] = choice.value
        labels[choice.label.strip().casefold()] = choice.value

    several = (
        " ; plusieurs choix se séparent par « ; »"
        if spec.widget == "checkboxes"
        else ""
    )

    def choice(text: str):
        found = labels.get(text.strip().casefold(), _MISSING)
        if found is _MISSING:
            shown = ", ".join(f"« {c.label} »" for c in spec.choices[:12])
            raise french.InputError(
                f"« {text} » n'est pas un choix proposé ({shown}){several}."
            )
        return found

    text_reader = _text_reader(spec, choice)

    def read(cell):
        if cell is None:
            return None
        if type(cell) is str:
            if not cell or cell.isspace():
                return None
            return text_reader(cell)
        return _from_native(spec, cell, choice)

    return read, text_reader


def _text_reader(spec: FieldSpec, choice) -> Callable:
    """The converter of a field's text cells, chosen once per column."""
    if spec.widget in ("select", "radio"):
        return choice
    if spec.widget in ("text", "textarea", "password"):
        # Free text keeps what was typed.
        return str
    if spec.json_type == "boolean" and spec.widget not in ("select", "radio"):
        return _yes_no
    if spec.widget in ("email", "url"):
        # Spaces around an address are never part of it (as in the form).
        return str.strip
    if spec.json_type == "integer" and spec.widget != "checkboxes":
        return french.parse_integer
    if spec.json_type == "number" and spec.widget == "number":
        return french.parse_number
    if spec.widget == "date":
        return french.parse_date
    return lambda text: _from_text(spec, text, choice)


_MISSING = object()


def _from_text(spec: FieldSpec, text: str, choice):
    """A file's text cell: what files write differently from the form's inputs
    (choices by label, lists on one line, yes/no words), else as typed."""
    if spec.widget in ("select", "radio"):
        return choice(text)
    if spec.widget == "checkboxes":
        return [choice(p) for p in _list_cell(text)]
    if spec.json_type == "boolean":
        return _yes_no(text)
    if spec.widget in ("lines", "repeated"):
        return [typed_item(spec, item.strip()) for item in _list_cell(text)]
    if spec.widget == "geopoint":
        return _geopoint(text)
    if spec.is_list:
        spec = dataclasses.replace(spec, widget="json")
    return convert_text(spec, text)


def _list_cell(text: str) -> list[str]:
    """A list in one cell: values separated by ";" or line breaks, or the
    JSON array our own exports write."""
    if text.lstrip().startswith("["):
        try:
            items = json.loads(text)
        except json.JSONDecodeError:
            items = None
        if isinstance(items, list) and all(
            isinstance(i, (str, int, float)) and not isinstance(i, bool) for i in items
        ):
            return [str(i) for i in items]
    return [p for p in text.replace("\n", ";").split(";") if p.strip()]


def _yes_no(text: str) -> bool:
    word = text.strip().casefold()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise french.InputError("Doit être oui ou non.")


def _geopoint(text: str):
    text = text.strip()
    if text.startswith("["):
        try:
            value = json.loads(text)
        except json.JSONDecodeError:
            value = None
        if isinstance(value, list) and len(value) == 2:
            return value
    for separator in (";", ", ", " ", ","):
        parts = [p for p in text.split(separator) if p.strip()]
        if len(parts) == 2:
            return [french.parse_number(parts[0]), french.parse_number(parts[1])]
    raise french.InputError(
        "Doit être une longitude et une latitude, par exemple « 2,35 ; 48,85 »."
    )


def _from_native(spec: FieldSpec, cell, choice):
    """A typed XLSX cell: numbers, dates and booleans as the sheet holds them."""
    if isinstance(cell, datetime):
        if spec.widget == "date":
            return cell.date().isoformat()
        if spec.widget == "datetime":
            return with_paris_offset(cell.isoformat())
        return _from_text(spec, cell.isoformat(), choice)
    if isinstance(cell, (date, time)):
        return cell.isoformat()
    if isinstance(cell, bool):
        if spec.json_type == "boolean":
            return cell
        return _from_text(spec, "oui" if cell else "non", choice)
    if isinstance(cell, (int, float)):
        if spec.json_type == "integer" and float(cell).is_integer():
            return int(cell)
        if spec.json_type == "number":
            return cell
        if spec.json_type == "string" and not spec.choices:
            return str(int(cell)) if float(cell).is_integer() else str(cell)
        text = str(int(cell)) if float(cell).is_integer() else str(cell)
        return _from_text(spec, text, choice)
    return _from_text(spec, str(cell), choice)


def _row_reader(columns: list[Column]) -> Callable:
    """A function reading a row's cells into the entry's data.

    Unreadable cells become problems naming their column, the others are
    read. Each column's place in the data is worked out once.
    """
    # Free text at the top of the entry, the most common column, is kept
    # as typed: it gets a loop of its own, without the general one's checks.
    plain = [
        (column.index, column.spec.path[0], column)
        for column in columns
        if column.text is str and len(column.spec.path) == 1
    ]
    plan = [
        (
            column.index,
            column.text,
            column.read,
            column.spec.path[0] if len(column.spec.path) == 1 else None,
            column,
        )
        for column in columns
        if not (column.text is str and len(column.spec.path) == 1)
    ]

    def read_row(cells: list, line: int, problems: list) -> dict:
        data: dict = {}
        width = len(cells)
        for index, name, column in plain:
            cell = cells[index] if index < width else None
            if type(cell) is str:
                if cell and not cell.isspace():
                    data[name] = cell
            elif cell is not None:
                # A typed XLSX cell (a number in a text column).
                try:
                    value = column.read(cell)
                except french.InputError as exc:
                    problems.append(_cell_problem(column, line, exc))
                    continue
                if value is not None:
                    data[name] = value
        for index, text, read, name, column in plan:
            cell = cells[index] if index < width else None
            try:
                if text is not None and type(cell) is str:
                    if not cell or cell.isspace():
                        continue
                    value = cell if text is str else text(cell)
                else:
                    value = read(cell)
            except french.InputError as exc:
                problems.append(_cell_problem(column, line, exc))
                continue
            if value is None or (type(value) is list and not value):
                continue
            if name is not None:
                data[name] = value
            else:
                set_at(data, column.spec.path, value)
        return data

    return read_row


def _cell_problem(column: Column, line: int, exc: Exception) -> Problem:
    return Problem(line, column.header, str(exc), column.spec.html_name)


def _extra_cells(header: list[str], cells: list, line: int) -> list[Problem]:
    """Values under a column with no name would be lost: they are errors."""
    out = []
    for index, cell in enumerate(cells):
        named = index < len(header) and header[index]
        if not named and cell is not None and str(cell).strip():
            out.append(
                Problem(line, f"n° {index + 1}", "valeur dans une colonne sans en-tête")
            )
    return out


# Entries read from a file hold no cycles: no need to look for them.
_to_json = json.JSONEncoder(ensure_ascii=False, check_circular=False).encode


class _Writer:
    """Entries, keys and their publication written in batches.

    Plain executemany on the session's connection, inside the import's one
    transaction: the ORM would cost more than all the rest of an import.
    The public rows go into public.db's own transaction at the same time,
    committed after this one (see publish.BulkInsert).
    """

    ENTRY_SQL = (
        "INSERT INTO entries (id, form_id, form_version, revision, state, "
        "organisation_id, author_id, data_json, created_at, updated_at) "
        "VALUES (?, ?, ?, 1, 'submitted', ?, ?, ?, ?, ?)"
    )
    KEY_SQL = (
        "INSERT INTO entry_keys (form_id, entry_id, key_name, key_value) "
        "VALUES (?, ?, ?, ?)"
    )
    # One statement for the whole import: each history line says
    # "imported", the values are the entry's own.
    HISTORY_SQL = (
        "INSERT INTO entry_history (entry_id, revision, user_id, action, "
        "changes_json, at) SELECT id, 1, ?, 'import', '{}', ? FROM entries "
        "WHERE form_id = ? AND id BETWEEN ? AND ?"
    )

    def __init__(self, opened: OpenForm, user: User | None):
        self.opened = opened
        # Read once: an ORM attribute costs more than a plain one, per row.
        self.form_id = opened.form.id
        self.version = opened.version.number
        self.conn = db.session.connection()
        # Take the write lock first, so that the ids counted next stay free.
        self.conn.exec_driver_sql("UPDATE entries SET id = id WHERE id = -1")
        last = self.conn.exec_driver_sql("SELECT max(id) FROM entries").scalar()
        self.first_id = (last or 0) + 1
        self.next_id = self.first_id
        now = utcnow()
        # As SQLAlchemy stores a DateTime in SQLite.
        self.now = now.strftime("%Y-%m-%d %H:%M:%S.%f")
        self.org = user.organisation_id if user else None
        self.author = user.id if user else None
        self.entries, self.keys = [], []
        self.count = 0
        self.raw = self.conn.connection.dbapi_connection.cursor()
        self.public = _open_publication(opened, self.org, now)

    def add(self, data: dict, keys: list) -> None:
        entry_id = self.next_id
        self.next_id += 1
        form = self.form_id
        self.entries.append(
            (
                entry_id,
                form,
                self.version,
                self.org,
                self.author,
                _to_json(data),
                self.now,
                self.now,
            )
        )
        for name, value, _ in keys:
            self.keys.append((form, entry_id, name, value))
        self.public.add(entry_id, data)
        self.count += 1

    def flush(self) -> None:
        """Write the rows added since the last call (at most BATCH), once
        their keys are known to be free: the unique index would refuse them."""
        if self.entries:
            self.raw.executemany(self.ENTRY_SQL, self.entries)
        if self.keys:
            self.raw.executemany(self.KEY_SQL, self.keys)
        self.entries, self.keys = [], []

    def finish(self) -> None:
        """Write what is left and the history; the caller commits."""
        self.flush()
        if self.count:
            self.raw.execute(
                self.HISTORY_SQL,
                (
                    self.author,
                    self.now,
                    self.form_id,
                    self.first_id,
                    self.next_id - 1,
                ),
            )


class _KeyCheck:
    """Natural keys checked against the form's entries and the file's rows.

    Claims are checked a batch at a time, in a temporary SQLite table
    rather than in memory, so that memory stays flat: the keys of the form
    and of the file so far (line 0: held by an existing entry).
    """

    def __init__(self, raw: sqlite3.Cursor, form_id: int, by_field: dict):
        self.raw = raw
        self.by_field = by_field
        self.pending: dict[tuple, tuple] = {}
        raw.execute("DROP TABLE IF EXISTS temp.import_keys")
        raw.execute(
            "CREATE TEMP TABLE import_keys (name TEXT, value TEXT, line INTEGER, "
            "PRIMARY KEY (name, value))"
        )
        raw.execute(
            "INSERT INTO temp.import_keys SELECT key_name, key_value, 0 "
            "FROM entry_keys WHERE form_id = ?",
            (form_id,),
        )

    def claim(self, keys: list, line: int) -> list[Problem]:
        """The row's keys taken by an earlier row of the same batch; the
        others are checked by flush(), which the caller calls every BATCH
        rows."""
        found = []
        for name, value, specs in keys:
            first = self.pending.setdefault((name, value), (line, specs[0]))
            if first[0] != line:
                found.append(self._taken(line, name, specs[0], first[0]))
        return found

    def flush(self) -> list[Problem]:
        """The rows of the batch whose keys earlier batches or stored
        entries hold; the batch's keys are then held too."""
        found = []
        if self.pending:
            batch = [(n, v, line) for (n, v), (line, _) in self.pending.items()]
            self.raw.executemany(
                "INSERT OR IGNORE INTO temp.import_keys VALUES (?, ?, ?)", batch
            )
            # Every key was free (the usual case) when every one went in.
            if self.raw.rowcount != len(batch):
                for name, value, line in batch:
                    holder = self.raw.execute(
                        "SELECT line FROM temp.import_keys WHERE name = ? AND value = ?",
                        (name, value),
                    ).fetchone()[0]
                    if holder != line:
                        spec = self.pending[(name, value)][1]
                        found.append(self._taken(line, name, spec, holder))
            self.pending = {}
        return found

    def _taken(self, line: int, name: str, spec: FieldSpec, holder: int) -> Problem:
        return Problem(
            line,
            self.by_field.get(spec.html_name, spec.title),
            f"clé « {name} » déjà prise (ligne {holder})"
            if holder
            else f"clé « {name} » déjà prise par une entrée existante",
            spec.html_name,
            kind="key",
        )

    def drop(self) -> None:
        self.raw.execute("DROP TABLE IF EXISTS temp.import_keys")


def import_file(
    opened: OpenForm,
    path: Path,
    user: User | None,
    progress: Callable[[int], None] | None = None,
    table: Table | None = None,
) -> ImportResult:
    """Load every row of the file into the form, or raise ImportRefused."""
    try:
        table = table or open_table(path)
    except UnreadableFile as exc:
        raise ImportRefused([Problem(1, None, str(exc))]) from None
    if opened.form.status == "closed":
        raise ImportRefused(
            [
                Problem(
                    1, None, "formulaire clos : il n'accepte plus de nouvelles entrées"
                )
            ]
        )
    if user is not None and not form_open_to(opened.form, user):
        why = (
            f"le compte {user.email} est désactivé"
            if not user.active
            else f"le formulaire n'est pas ouvert à l'organisation de {user.email}"
        )
        raise ImportRefused([Problem(1, None, why)])
    strict = frictionless_schema(opened.version) is not None
    columns, problems = match_columns(table.header, opened, strict)
    if problems:
        raise ImportRefused(problems)

    schema_json = opened.version.schema_json
    quick = compile_check(opened.schema)
    readonly = any(spec.readonly for spec in leaves(opened.specs))
    refs = any(spec.ref for spec in leaves(opened.specs))
    by_field = {c.spec.html_name: c.header for c in columns}
    named_width = table.header.index("") if "" in table.header else len(table.header)
    read_row = _row_reader(columns)
    read_keys = key_reader(opened.schema, opened.specs)
    rows = 0
    truncated = False
    writer = None
    try:
        writer = _Writer(opened, user)
        key_check = _KeyCheck(writer.raw, opened.form.id, by_field)
        for line, cells in table.rows:
            rows += 1
            if progress and rows % 1000 == 0:
                progress(1000)
            # Only a row wider than the named header can hold a lost value.
            found: list[Problem] = (
                _extra_cells(table.header, cells, line)
                if len(cells) > named_width
                else []
            )
            data = read_row(cells, line, found)
            if readonly:
                found += _as_problems(
                    apply_read_only(data, opened.specs, None), line, by_field
                )
            if found or not (quick and quick(data)):
                # A cell that could not be read has its message already;
                # the schema would only add "required" for it.
                unreadable = {p.field for p in found}
                errors = validate_data(schema_json, data, opened.specs)
                errors = [e for e in errors if e.get("field") not in unreadable]
                found += _as_problems(errors, line, by_field)
            if not found and refs:
                found += _as_problems(reference_errors(opened, data), line, by_field)
            # Keys are checked on every row, as a validator would: a key
            # repeated by a faulty row is reported too.
            keys = read_keys(data)
            if keys:
                found += key_check.claim(keys, line)
            if found:
                problems += found
            elif not problems:
                writer.add(data, keys)
            if rows % BATCH == 0:
                problems += key_check.flush()
                if not problems:
                    writer.flush()
            if len(problems) >= MAX_PROBLEMS:
                truncated = True
                break
        if progress:
            progress(rows % 1000)
        problems += key_check.flush()
        if problems:
            # Key problems are found a batch at a time: back to file order.
            problems.sort(key=lambda problem: problem.line)
            truncated = truncated or len(problems) > MAX_PROBLEMS
            raise ImportRefused(problems[:MAX_PROBLEMS], rows, truncated)
        if rows == 0:
            raise ImportRefused(
                [Problem(2, None, "aucune ligne de données sous l'en-tête")]
            )
        writer.finish()
        key_check.drop()
        db.session.commit()
    except UnreadableFile as exc:
        _abandon(writer)
        raise ImportRefused(
            [*problems, Problem(rows + 1, None, str(exc))], rows
        ) from None
    except BaseException:
        _abandon(writer)
        raise
    _publish(opened, writer.public)
    logger.info(
        "form %s: %s rows imported from %s", opened.slug, writer.count, Path(path).name
    )
    return ImportResult(
        writer.count, writer.first_id, table.kind, [c.header for c in columns]
    )


def _publish(opened: OpenForm, public) -> None:
    """Commit the public rows; the entries are stored whatever happens here.

    Raising now would tell the admin that the import failed, and invite a
    second one: a failure is logged, and the projection, derived from the
    private store, is rebuilt now or, failing that, at the next start.
    """
    store = current_app.extensions["dnt_public"]
    try:
        public.commit()
        if not public.reshaped:
            return
    except Exception:
        logger.exception("form %s: public rows of the import not written", opened.slug)
    try:
        sync_form(store, opened.form)
    except Exception:
        logger.exception(
            "form %s: public table left for the repair at next start", opened.slug
        )


def _abandon(writer: _Writer | None) -> None:
    db.session.rollback()
    if writer is not None and writer.public is not None:
        writer.public.rollback()


def _as_problems(errors: list[dict], line: int, by_field: dict) -> list[Problem]:
    out = []
    for error in errors:
        column = by_field.get(error.get("field")) or error.get("title") or error["path"]
        out.append(Problem(line, column, error["message"], error.get("field")))
    return out


def _open_publication(opened: OpenForm, organisation_id: int | None, now):
    """public.db's transaction for the import's entries (see _Writer)."""
    store = current_app.extensions["dnt_public"]
    org_codes = dict(
        db.session.execute(select(Organisation.id, Organisation.code)).all()
    )
    info = form_info(opened.form, opened.version, org_codes)
    specs = publication_specs(opened.form, opened.version)
    shared = {
        "revision": 1,
        "form_version": opened.version.number,
        "state": "submitted",
        "organisation_id": organisation_id,
        "created_at": now,
        "updated_at": now,
    }
    return store.bulk_insert(info, specs, shared)
