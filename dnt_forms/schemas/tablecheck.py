"""What is wrong in a Table Schema, said in French at its path.

The vocabulary of Table Schema (types, formats, the keys of a field and of
its constraints), the mistakes of shape an admin makes, formats that do not
read back what they write, and frictionless's own refusals located at the
field and key they are about.
"""

from __future__ import annotations

import re
from datetime import datetime

from frictionless import Field, FrictionlessException, system

from ..errors import SchemaProblem
from .drafts import regex_problem

FIELD_KEYS = {
    "name",
    "title",
    "description",
    "type",
    "format",
    "constraints",
    "example",
    "examples",
    "trueValues",
    "falseValues",
    "decimalChar",
    "groupChar",
    "bareNumber",
    "arrayItem",
    "missingValues",
    "rdfType",
    "x-renamed-from",
}

CONSTRAINT_KEYS = {
    "required",
    "unique",
    "enum",
    "pattern",
    "minimum",
    "maximum",
    "minLength",
    "maxLength",
    "exclusiveMinimum",
    "exclusiveMaximum",
    "jsonSchema",
}

TS_TYPES = (
    "string",
    "number",
    "integer",
    "boolean",
    "date",
    "datetime",
    "time",
    "year",
    "yearmonth",
    "duration",
    "geopoint",
    "geojson",
    "array",
    "list",
    "object",
    "any",
)


def structure_problems(desc: dict) -> list[SchemaProblem]:
    """The mistakes of shape an admin makes, in French at their path:
    frictionless would say them in English, for the schema as a whole."""
    problems = []
    names: dict[str, int] = {}
    for index, field in enumerate(desc["fields"]):
        path = f"/fields/{index}"
        if not isinstance(field, dict):
            problems.append(SchemaProblem(path, "un champ doit être un objet", "type"))
            continue
        name = field.get("name")
        if not isinstance(name, str) or not name:
            problems.append(
                SchemaProblem(
                    f"{path}/name",
                    f"le champ n° {index + 1} n'a pas de nom (« name »)",
                    "name",
                )
            )
        elif name in names:
            problems.append(
                SchemaProblem(
                    f"{path}/name",
                    f"nom « {name} » déjà pris par le champ n° {names[name] + 1} "
                    f"(/fields/{names[name]})",
                    "name",
                )
            )
        else:
            names[name] = index
        kind = field.get("type", "any")
        if kind not in TS_TYPES:
            problems.append(
                SchemaProblem(
                    f"{path}/type",
                    f"type « {kind} » inconnu : utilisez {', '.join(TS_TYPES)}",
                    "type",
                )
            )
            continue
        problem = _format_problem(path, kind, field.get("format"))
        if problem:
            problems.append(problem)
        constraints = field.get("constraints", {})
        if not isinstance(constraints, dict):
            problems.append(
                SchemaProblem(
                    f"{path}/constraints",
                    "« constraints » doit être un objet",
                    "constraints",
                )
            )
            continue
        reason = regex_problem(constraints.get("pattern"))
        if reason:
            problems.append(
                SchemaProblem(f"{path}/constraints/pattern", reason, "pattern")
            )
        # "unique" holds for every type: frictionless checks it on rows.
        supported = [*system.select_field_class(kind).supported_constraints, "unique"]
        for key in constraints:
            if key not in supported:
                problems.append(
                    SchemaProblem(
                        f"{path}/constraints/{key}",
                        f"contrainte « {key} » inconnue pour un champ {kind} : "
                        f"utilisez {', '.join(supported)}",
                        key,
                    )
                )
    key = desc.get("primaryKey")
    for part in [key] if isinstance(key, str) else key or []:
        if part not in names:
            problems.append(
                SchemaProblem(
                    "/primaryKey",
                    f"clé primaire : aucun champ ne s'appelle « {part} »",
                    "primaryKey",
                )
            )
    return problems


# The formats each type reads (Table Schema v1, as frictionless reads them);
# dates and times also take "any" or a strftime pattern.
TS_FORMATS = {
    "string": ("default", "email", "uri", "binary", "uuid", "wkt"),
    "geopoint": ("default", "array", "object"),
    "geojson": ("default", "topojson"),
}

# For each, a value to write and read back with a pattern, what the pattern
# must read of it, and a pattern that does.
_SAMPLE = datetime(2025, 3, 12, 14, 30, 5)

DATE_LIKE = {
    "date": (_SAMPLE.date(), "le jour, le mois et l'année", "%d/%m/%Y"),
    "datetime": (_SAMPLE, "le jour, le mois, l'année et l'heure", "%d/%m/%Y %H:%M"),
    "time": (_SAMPLE.time(), "l'heure", "%H:%M"),
}


def _format_problem(path: str, kind: str, fmt) -> SchemaProblem | None:
    """A format the field's type cannot read: frictionless would read no
    value of it (a bad pattern) or refuse it in English."""
    if fmt is None:
        return None
    where = f"{path}/format"
    if not isinstance(fmt, str):
        return SchemaProblem(where, "« format » doit être un texte", "format")
    if kind in TS_FORMATS and fmt not in TS_FORMATS[kind]:
        return SchemaProblem(
            where,
            f"format « {fmt} » inconnu pour un champ {kind} : "
            f"utilisez {', '.join(TS_FORMATS[kind])}",
            "format",
        )
    if kind in DATE_LIKE and fmt not in ("default", "any"):
        pattern = fmt.removeprefix("fmt:")
        sample, must_read, example = DATE_LIKE[kind]
        try:
            read = datetime.strptime(sample.strftime(pattern), pattern)
        except ValueError:
            read = None
        # A pattern is good when a value written with it reads back: one
        # that drops the year would read every date in 1900.
        if read is None or not _reads_back(kind, read, sample):
            return SchemaProblem(
                where,
                f"format « {fmt} » illisible pour un champ {kind} : utilisez "
                f"default, any ou un motif strftime qui lit {must_read}, "
                f"comme {example}",
                "format",
            )
    return None


def _reads_back(kind: str, read: datetime, sample) -> bool:
    if kind == "date":
        return read.date() == sample
    if kind == "datetime":
        return read.date() == sample.date() and read.hour == sample.hour
    return read.hour == sample.hour


_WRONG_TYPE = re.compile(r"^(.*) is not of type '(\w+)' at property '([^']+)'$")

_BAD_EXAMPLE = re.compile(r'^example value "(.*)" for field ".*" is not valid$')

_JSON_TYPES_FR = {
    "array": "une liste [...]",
    "boolean": "true ou false",
    "string": "un texte entre guillemets",
    "number": "un nombre",
    "integer": "un nombre entier",
    "object": "un objet {...}",
}


def _field_refusal(index: int, field: dict, note: str) -> SchemaProblem:
    """One of frictionless's reasons for refusing a field, in French at the
    key it is about when the reason names one."""
    path = f"/fields/{index}"
    found = _WRONG_TYPE.match(note)
    if found:
        value, expected, where = found.groups()
        if len(value) > 1 and value[0] == value[-1] == "'":
            value = f"« {value[1:-1]} »"
        return SchemaProblem(
            f"{path}/{where}",
            f"{value} n'a pas le bon type : attendu "
            f"{_JSON_TYPES_FR.get(expected, expected)}",
            where.rsplit("/", 1)[-1],
        )
    found = _BAD_EXAMPLE.match(note)
    if found:
        return SchemaProblem(
            f"{path}/example",
            f"l'exemple « {found[1]} » ne se lit pas comme un champ "
            f"{field.get('type', 'any')} : corrigez l'exemple ou le type",
            "example",
        )
    return SchemaProblem(
        path, f"champ « {field.get('name')} » refusé par frictionless : {note}", "field"
    )


def frictionless_refusals(
    desc: dict, exc: FrictionlessException
) -> list[SchemaProblem]:
    """What frictionless refused, at the field (and key) it refused."""
    problems = []
    for index, field in enumerate(desc["fields"]):
        try:
            Field.from_descriptor(field)
        except FrictionlessException as field_exc:
            reasons = field_exc.reasons or [field_exc.error]
            problems += [_field_refusal(index, field, r.note) for r in reasons]
    return problems or [
        SchemaProblem(
            "", f"Table Schema refusé par frictionless : {err.message}", err.type
        )
        for err in (exc.reasons or [exc.error])
    ]
