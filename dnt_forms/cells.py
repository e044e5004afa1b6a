"""How a file's rows become entries' data, cell by cell, for bulk imports.

Reading follows the form's origin:
- a form imported from a Table Schema reads cells strictly as that schema
  says, through frictionless's own cell readers (its formats, decimalChar,
  true/false words and missing values): a file that breaks the schema is
  refused, as the national validators would;
- any other form understands real French files: `1 234,5`, `12/03/2025`,
  oui/non, and choices by their value or their label.

Each header cell is tied to a field once (`match_columns`), and each row is
read by a function built once per import (`row_reader`): a file may hold a
hundred thousand rows. A cell that cannot be read becomes a Problem naming
its line and column.
"""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time

from . import french
from .compiler import FieldSpec, leaves, set_at
from .entries import OpenForm
from .forms import convert_text, typed_item
from .migrate import removed_in
from .publish import RESERVED_COLUMNS
from .tabular import api_value, frictionless_schema, sure_cell
from .validation import with_paris_offset

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
class Column:
    index: int
    header: str
    spec: FieldSpec
    # Any cell (None when absent, text, or an XLSX cell's own type).
    read: Callable
    # A text cell that is not blank, when the column reads it apart: the
    # common case of a French file, called without the checks of `read`.
    text: Callable | None = None
    # A Table Schema's plain text column: the text cells that mean "no
    # value"; every other text cell is the value as is.
    missing: frozenset | None = None


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

    retired = removed_in(opened.form)
    readers = _strict_readers(opened) if strict else {}
    columns, problems, seen = [], [], {}
    for index, name in enumerate(header):
        if not name or name.strip() in RESERVED_COLUMNS:
            # Reserved columns (an export's `_id`, `_state`…) are the
            # service's own: a new entry gets new ones.
            continue
        key = name.strip().casefold()
        spec = by_key.get(key)
        if spec is None and key in retired:
            # An export keeps removed fields' columns; their values would
            # have nowhere to go, and dropping them unsaid would lose them.
            version = retired[key]
            problems.append(
                Problem(
                    1,
                    name,
                    f"champ retiré du formulaire en version {version} : "
                    "retirez cette colonne du fichier",
                )
            )
            continue
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
            read, missing = readers[spec.column]
            columns.append(Column(index, name, spec, read, missing=missing))
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


def _strict_readers(opened: OpenForm) -> dict[str, tuple]:
    """Each field's reader from frictionless: its value reader (formats,
    decimalChar, true/false words) and its missing values. Not its cell
    reader: the constraints are left to the form's validator, which words
    them in French like every other error.

    With each reader, for a plain text field, its missing values: its
    other text cells are read as themselves, without a call.
    """
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
            elif ts_field.type == "string":
                # A spreadsheet makes numbers of digits (a SIRET, a code):
                # the text a CSV of the same sheet would hold.
                cell = _spreadsheet_text(cell)
            value = value_reader(cell)
            if value is None:
                kind = TS_TYPE_NAMES.get(ts_field.type, label)
                raise french.InputError(
                    f"« {cell} » ne se lit pas comme {kind}"
                    f"{_format_hint(ts_field)} (selon le schéma)."
                )
            value = api_value(ts_field, value)
            if ts_field.type == "datetime" and isinstance(value, str):
                value = with_paris_offset(value)
            return value

        verbatim = ts_field.type == "string" and ts_field.format == "default"
        readers[ts_field.name] = (read, frozenset(field_missing) if verbatim else None)
    return readers


def _spreadsheet_text(cell) -> str:
    if isinstance(cell, float) and cell.is_integer():
        return str(int(cell))
    if isinstance(cell, datetime) and cell.time() == time():
        return cell.date().isoformat()
    if isinstance(cell, datetime | date | time):
        return cell.isoformat()
    return str(cell)


TS_TYPE_NAMES = {
    "string": "un texte",
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
    "yearmonth": "une année et un mois",
    "duration": "une durée",
}
# What each type looks like in its default format, for the messages.
TS_EXAMPLES = {
    "date": "2025-03-12",
    "datetime": "2025-03-12T10:30:00",
    "time": "10:30:00",
    "yearmonth": "2025-03",
    "duration": "P1DT2H",
}


# strftime's codes as a French reader knows them (JJ/MM/AAAA).
_STRFTIME_WORDS = {
    "%Y": "AAAA",
    "%y": "AA",
    "%m": "MM",
    "%d": "JJ",
    "%H": "HH",
    "%M": "MM",
    "%S": "SS",
    "%%": "%",
}
_STRFTIME_RE = re.compile("|".join(map(re.escape, _STRFTIME_WORDS)))


def _format_hint(ts_field) -> str:
    if ts_field.type in ("date", "datetime", "time") and ts_field.format not in (
        "default",
        "any",
    ):
        words = _STRFTIME_RE.sub(lambda m: _STRFTIME_WORDS[m[0]], ts_field.format)
        return f" au format « {words} »"
    if ts_field.type == "boolean":
        words = [*ts_field.true_values, *ts_field.false_values]
        return " : " + ", ".join(f"« {w} »" for w in words)
    if ts_field.type == "number" and ts_field.decimal_char != ".":
        return f" avec « {ts_field.decimal_char} » comme séparateur décimal"
    if ts_field.type in TS_EXAMPLES:
        return f" au format ISO (par exemple {TS_EXAMPLES[ts_field.type]})"
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
    # "bon; tagué": the space after the separator is no part of the value.
    return [p.strip() for p in text.replace("\n", ";").split(";") if p.strip()]


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


def row_reader(columns: list[Column]) -> Callable:
    """A function reading a row's cells into the entry's data.

    Unreadable cells become problems naming their column, the others are
    read. Each column's place in the data is worked out once.
    """

    # Free text at the top of the entry, the most common column, is kept
    # as typed: it gets a loop of its own, without the general one's checks.
    def is_plain(column: Column) -> bool:
        return len(column.spec.path) == 1 and (
            column.text is str or column.missing is not None
        )

    plain = [
        (column.index, column.spec.path[0], column.missing, column)
        for column in columns
        if is_plain(column)
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
        if not is_plain(column)
    ]

    def read_row(cells: list, line: int, problems: list) -> dict:
        data: dict = {}
        width = len(cells)
        for index, name, missing, column in plain:
            cell = cells[index] if index < width else None
            if type(cell) is str:
                if missing is None:
                    if cell and not cell.isspace():
                        data[name] = cell
                elif cell not in missing:
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


def extra_cells(header: list[str], cells: list, line: int) -> list[Problem]:
    """Values under a column with no name would be lost: they are errors."""
    out = []
    for index, cell in enumerate(cells):
        named = index < len(header) and header[index]
        if not named and cell is not None and str(cell).strip():
            out.append(
                Problem(line, f"n° {index + 1}", "valeur dans une colonne sans en-tête")
            )
    return out
