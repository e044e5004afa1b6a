"""Bounds on dates, times and months: `formatMinimum` and its kin.

JSON Schema's `minimum` only compares numbers, yet a Table Schema may bound
a date, a date-time, a time or a year-month, and the national validators
refuse a cell outside those bounds. The keywords are those of the
ajv-formats vocabulary, the one form tools already know:
`formatMinimum`, `formatMaximum`, `formatExclusiveMinimum`,
`formatExclusiveMaximum`. A bound is written as the stored value is (ISO
8601); values are compared as what they mean, so that two date-times with
different offsets compare as instants.
"""

from __future__ import annotations

import operator
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from jsonschema import ValidationError

PARIS = ZoneInfo("Europe/Paris")

# keyword -> (test that the value passes, the French words for the bound)
BOUNDS = {
    "formatMinimum": (operator.ge, "au plus tôt"),
    "formatMaximum": (operator.le, "au plus tard"),
    "formatExclusiveMinimum": (operator.gt, "après"),
    "formatExclusiveMaximum": (operator.lt, "avant"),
}
# The formats whose values have an order; a string without one (a Table
# Schema year-month, "2025-03") is compared as ISO text, which sorts as it reads.
ORDERED_FORMATS = ("date", "date-time", "time", None)


def comparable(value: str, fmt: str | None):
    """The value as something that compares as it means; ValueError if it
    is not one of its format."""
    if not isinstance(value, str):
        raise ValueError(value)
    if fmt == "date":
        return date.fromisoformat(value)
    if fmt == "date-time":
        parsed = datetime.fromisoformat(value)
        # No offset is Paris time, as everywhere in the service.
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=PARIS)
    if fmt == "time":
        parsed = time.fromisoformat(value)
        return parsed.replace(tzinfo=None)
    return value


def within(value, fmt: str | None, keyword: str, bound: str) -> bool:
    """True unless value is a readable value of its format that breaks the
    bound: an unreadable one is the `format` keyword's to report."""
    test = BOUNDS[keyword][0]
    try:
        return test(comparable(value, fmt), comparable(bound, fmt))
    except (ValueError, TypeError):
        return True


def _keyword(name: str):
    def check(validator, bound, instance, schema):
        if not validator.is_type(instance, "string"):
            return
        if not within(instance, schema.get("format"), name, bound):
            yield ValidationError(f"{instance!r} is out of {name} {bound!r}")

    return check


VALIDATORS = {name: _keyword(name) for name in BOUNDS}


def shown(bound: str, fmt: str | None) -> str:
    """A bound as a French reader writes it: 31/12/2025, 10:30."""
    try:
        value = comparable(bound, fmt)
    except ValueError:
        return bound
    if fmt == "date":
        return value.strftime("%d/%m/%Y")
    if fmt == "date-time":
        return value.astimezone(PARIS).strftime("%d/%m/%Y %H:%M (heure de Paris)")
    if fmt == "time":
        return value.strftime("%H:%M:%S" if value.second else "%H:%M")
    return bound


def hint(prop: dict) -> list[str]:
    """The bounds of a field, in words: ["au plus tôt le 01/01/2000"]."""
    fmt = prop.get("format")
    parts = []
    for name, (_test, words) in BOUNDS.items():
        if name in prop:
            article = {"date": " le", "date-time": " le", "time": " à"}.get(fmt, "")
            parts.append(f"{words}{article} {shown(prop[name], fmt)}")
    return parts
