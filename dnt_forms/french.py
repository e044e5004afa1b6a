"""Read what people type in French: numbers, dates, times.

Only for the HTML form and files: the JSON API stays strict.
"""

from __future__ import annotations

import re
from datetime import date, datetime

from .validation import PARIS, with_paris_offset

_SPACES = re.compile(r"[\s\u00a0\u202f]")
_NUMBER = re.compile(r"^[+-]?(\d+([.,]\d*)?|[.,]\d+)([eE][+-]?\d+)?$")
_FR_DATE = re.compile(r"^(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})$")
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_INTEGER = re.compile(r"^[+-]?\d+$")
_PLAIN_DECIMAL = re.compile(r"[0-9]+(?:[.,][0-9]+)?")


class InputError(ValueError):
    """A typed value that cannot be read; the message says what is expected."""


def parse_number(text: str) -> float | int:
    """`1 234,5`, `1234,5` and `1234.5` are all 1234.5."""
    if _PLAIN_DECIMAL.fullmatch(text):
        # The usual cell, read as below at a third of the cost (imports).
        return float(text.replace(",", "."))
    cleaned = _SPACES.sub("", text)
    if not _NUMBER.match(cleaned):
        raise InputError("Doit être un nombre, par exemple 1234,5.")
    if "," in cleaned and "." in cleaned:
        raise InputError(
            "Utilisez soit la virgule soit le point comme séparateur décimal."
        )
    value = float(cleaned.replace(",", "."))
    return value


def parse_integer(text: str) -> int:
    if text.isascii() and text.isdigit():
        return int(text)
    cleaned = _SPACES.sub("", text)
    if not _INTEGER.match(cleaned):
        raise InputError("Doit être un nombre entier, sans virgule, par exemple 12.")
    return int(cleaned)


def parse_date(text: str) -> str:
    """An ISO date from `12/03/2025` (day first, always) or `2025-03-12`."""
    text = text.strip()
    match = _FR_DATE.match(text)
    try:
        if match:
            return date(int(match[3]), int(match[2]), int(match[1])).isoformat()
        if _ISO_DATE.match(text):
            return date.fromisoformat(text).isoformat()
    except ValueError:
        pass
    raise InputError(
        "Doit être une date valide au format JJ/MM/AAAA, par exemple 12/03/2025."
    )


def parse_datetime(text: str) -> str:
    """A date-time from the browser's datetime-local (or `12/03/2025 10:00`)."""
    text = text.strip()
    match = re.match(r"^(\d{1,2}/\d{1,2}/\d{4})[ T](\d{1,2}:\d{2}(:\d{2})?)$", text)
    if match:
        text = f"{parse_date(match[1])}T{match[2]}"
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise InputError(
            "Doit être une date et une heure, par exemple 12/03/2025 10:00."
        ) from None
    return (
        with_paris_offset(parsed.isoformat())
        if parsed.tzinfo is None
        else (parsed.isoformat())
    )


def local_datetime(value: str) -> str:
    """A stored date-time as a datetime-local input shows it: Paris time.

    Cutting the offset off instead would move an instant written in UTC.
    """
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return value[:16]
    if parsed.tzinfo is not None:
        parsed = parsed.astimezone(PARIS)
    return parsed.strftime("%Y-%m-%dT%H:%M")


def parse_time(text: str) -> str:
    text = text.strip().replace("h", ":").replace("H", ":")
    if text.endswith(":"):
        text += "00"  # "17h" is 17:00
    match = re.match(r"^(\d{1,2}):(\d{2})(?::(\d{2}))?$", text)
    if not match:
        raise InputError("Doit être une heure, par exemple 10:30.")
    hours, minutes, seconds = int(match[1]), int(match[2]), int(match[3] or 0)
    if hours > 23 or minutes > 59 or seconds > 59:
        raise InputError("Doit être une heure qui existe, par exemple 10:30.")
    return f"{hours:02d}:{minutes:02d}:{seconds:02d}"


def format_number(value) -> str:
    """A number as a French agent reads it back in the form (decimal comma)."""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).replace(".", ",")
