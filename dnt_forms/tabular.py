"""Files of rows: reading CSV and XLSX, and the Table Schema of a form.

Shared by bulk import and export. CSV files come from everywhere: `;` or
`,` separators, UTF-8 with or without BOM, or Windows-1252 (Excel's
"CSV" in France). XLSX files are opened with the usual protections
against hostile ones: openpyxl reads XML through defusedxml, and the
archive is refused when it would inflate beyond reason.
"""

from __future__ import annotations

import codecs
import csv
import json
import logging
import re
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import Decimal
from functools import lru_cache
from pathlib import Path

import isodate

logger = logging.getLogger(__name__)

# An XLSX archive is refused beyond these: a few kilobytes can otherwise
# inflate into gigabytes of XML.
XLSX_MAX_UNCOMPRESSED = 2 * 1024**3
XLSX_MAX_RATIO = 200


class UnreadableFile(ValueError):
    """A file that is not a table this service can read; the message says why."""


@dataclass
class Table:
    header: list[str]
    # (line number in the file, cells); the header is line 1.
    rows: Iterator[tuple[int, list]]
    kind: str
    # Rows announced by the file, when it says (XLSX), for a progress bar.
    size: int | None = None


def open_table(path: Path) -> Table:
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix in (".xlsx", ".xlsm"):
        return _xlsx(path)
    if suffix in (".csv", ".txt", ".tsv", ""):
        return _csv(path)
    raise UnreadableFile(
        f"format « {suffix} » non pris en charge : envoyez un fichier .csv ou .xlsx"
    )


def scan_csv(path: Path) -> tuple[str, int]:
    """(encoding, lines): utf-8-sig when the whole file is UTF-8 (BOM or
    not), else cp1252; and its lines, for a progress bar (a quoted cell may
    span several).

    One pass in chunks, so that memory stays flat whatever the file's size.
    """
    decoder = codecs.getincrementaldecoder("utf-8")()
    encoding = "utf-8-sig"
    lines = 0
    last = b"\n"
    with open(path, "rb") as raw:
        while chunk := raw.read(1 << 20):
            lines += chunk.count(b"\n")
            last = chunk[-1:]
            if encoding != "cp1252":
                try:
                    decoder.decode(chunk)
                except UnicodeDecodeError:
                    encoding = "cp1252"
    if encoding != "cp1252":
        try:
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            encoding = "cp1252"
    return encoding, lines + (last != b"\n")


def _csv(path: Path) -> Table:
    encoding, lines = scan_csv(path)
    # Closed by rows() once read: the table streams.
    handle = open(path, newline="", encoding=encoding, errors="strict")  # noqa: SIM115
    first = handle.readline()
    handle.seek(0)
    # The separator is the one the header uses more: headers hold no
    # decimals, so `;` against `,` is not ambiguous there.
    delimiter = ";" if first.count(";") > first.count(",") else ","
    if first.count("\t") > max(first.count(";"), first.count(",")):
        delimiter = "\t"
    reader = csv.reader(handle, delimiter=delimiter)
    try:
        header = next(reader)
    except StopIteration:
        handle.close()
        raise UnreadableFile(
            "le fichier est vide : il faut au moins une ligne d'en-tête"
        )

    def rows():
        try:
            line = reader.line_num + 1
            for cells in reader:
                # Blank lines (or lines of separators) hold no row.
                joined = "".join(cells)
                if joined and not joined.isspace():
                    yield line, cells
                line = reader.line_num + 1
        except csv.Error as exc:
            raise UnreadableFile(f"ligne {reader.line_num} : CSV illisible ({exc})")
        finally:
            handle.close()

    logger.debug("CSV %s read as %s with %r", path.name, encoding, delimiter)
    return Table([h.strip() for h in header], rows(), "csv", lines - 1)


def _check_archive(path: Path) -> None:
    try:
        with zipfile.ZipFile(path) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, OSError):
        raise UnreadableFile("ce fichier .xlsx est illisible (archive endommagée)")
    inflated = sum(m.file_size for m in members)
    packed = sum(m.compress_size for m in members) or 1
    if inflated > XLSX_MAX_UNCOMPRESSED or inflated / packed > XLSX_MAX_RATIO:
        raise UnreadableFile(
            "ce fichier .xlsx se décompresse en un volume anormal : refusé par "
            "précaution"
        )


def _xlsx(path: Path) -> Table:
    import openpyxl

    _check_archive(path)
    try:
        workbook = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # noqa: BLE001 (openpyxl raises many kinds on a bad file)
        raise UnreadableFile(
            f"ce fichier .xlsx est illisible ({exc.__class__.__name__})"
        )
    sheet = workbook.worksheets[0]
    iterator = sheet.iter_rows(values_only=True)
    try:
        first = next(iterator)
    except StopIteration:
        workbook.close()
        raise UnreadableFile(
            "la première feuille est vide : il faut une ligne d'en-tête"
        )
    header = ["" if h is None else str(h).strip() for h in first]
    while header and header[-1] == "":
        header.pop()

    def rows():
        try:
            for line, cells in enumerate(iterator, start=2):
                if any(c is not None and str(c).strip() != "" for c in cells):
                    yield line, list(cells)
        finally:
            workbook.close()

    size = (sheet.max_row - 1) if sheet.max_row else None
    return Table(header, rows(), "xlsx", size)


# -- Table Schema forms --------------------------------------------------------


@lru_cache(maxsize=64)
def _frictionless_schema(source_text: str):
    from frictionless import Schema

    from .schemas.tableschema import repair

    descriptor = repair(json.loads(source_text), [])
    return Schema.from_descriptor(descriptor)


def frictionless_schema(version):
    """The Table Schema of a form version as its import repaired it, or None."""
    if version.source_kind != "tableschema":
        return None
    return _frictionless_schema(version.source_text)


# Cells that frictionless is sure to accept and read as themselves, told
# apart at a fraction of the cost of its readers (validators.email takes
# about 25 µs a call, strptime 13 µs: more than all the rest of a row).
# Each pattern only ever matches cells the library accepts unchanged;
# every other cell goes to the library, which decides. Checked against
# frictionless's own readers by tests/test_tabular_shortcuts.py.
_SURE_EMAIL = re.compile(
    # A dot-atom of plain characters, then ASCII labels and a letters TLD:
    # the local part validators' pattern takes, a domain its pattern takes.
    r"[A-Za-z0-9_+-]+(?:\.[A-Za-z0-9_+-]+)*"
    r"@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}"
)
_SURE_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def _sure_email(cell: str) -> bool:
    local, _, domain = cell.partition("@")
    return len(local) <= 64 and len(domain) <= 253 and bool(_SURE_EMAIL.fullmatch(cell))


def _sure_date(cell: str) -> bool:
    if not _SURE_DATE.fullmatch(cell):
        return False
    try:
        date.fromisoformat(cell)
    except ValueError:
        return False
    return True


def sure_cell(field):
    """For a frictionless field, a test telling text cells that its reader
    accepts and reads as themselves (in the API's representation), or None."""
    if field.type == "string" and field.format == "email":
        return _sure_email
    if field.type == "string" and field.format == "default":
        return lambda cell: True
    if field.type == "date" and field.format == "default":
        return _sure_date
    return None


def api_value(field, value):
    """A value as frictionless reads it, in the API's JSON representation."""
    if value is None or isinstance(value, (bool, str, int, float)):
        return value
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, (datetime, date, time)):
        return value.isoformat()
    if field.type == "geopoint":
        return [float(value.lon), float(value.lat)]
    if field.type == "yearmonth":
        return f"{value.year:04d}-{value.month:02d}"
    if field.type == "duration":
        return isodate.duration_isoformat(value)
    if isinstance(value, (list, tuple)):
        return [api_value(field, v) for v in value]
    if isinstance(value, dict):
        return value
    return str(value)
