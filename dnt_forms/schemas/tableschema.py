"""Import a Table Schema (frictionless) as a canonical form schema.

Real schemas of the national catalogue are often slightly malformed. What
has one obvious meaning is repaired and each repair listed as a warning;
keys the service does not act on are kept as metadata and listed too.
"""

from __future__ import annotations

import copy
import logging
import re
from datetime import datetime

from frictionless import Field, FrictionlessException, Schema, system

from ..errors import InvalidSchemaError, SchemaProblem
from ..tabular import api_value
from .check import DRAFT_2020, regex_problem
from .naming import field_name_problem, slugify

logger = logging.getLogger(__name__)

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
# Top-level keys of a Table Schema the form compiler understands itself.
# Everything else (custom_checks, contributors…) is carried as metadata.
ACTED_ON = {"fields", "primaryKey", "missingValues", "title", "description", "name"}
DESCRIPTIVE = {
    "$schema",
    "licenses",
    "homepage",
    "sources",
    "version",
    "created",
    "lastModified",
    "contributors",
    "keywords",
    "countryCode",
    "countrycode",
    "path",
    "resources",
    "image",
    "author",
    "contact",
    "uri",
    "example",
}
GEOPOINT_FORMATS = ("default", "array", "object")
# What frictionless accepts as a schema name.
TS_NAME_RE = re.compile(r"^[-a-z0-9._/]+$")


def looks_like_table_schema(data) -> bool:
    """A Table Schema has a list of fields, a JSON Schema has properties."""
    return (
        isinstance(data, dict)
        and isinstance(data.get("fields"), list)
        and "properties" not in data
    )


def import_table_schema(descriptor: dict) -> tuple[dict, list[SchemaProblem], dict]:
    """Return (canonical form schema, warnings, repaired Table Schema)."""
    warnings: list[SchemaProblem] = []
    repaired = repair(copy.deepcopy(descriptor), warnings)
    # Stage after stage: the shape, what frictionless refuses, the
    # conversion. The first stage with problems ends the import, after the
    # later stages have looked at the other fields (_beyond).
    problems = structure_problems(repaired)
    if not problems:
        try:
            schema = Schema.from_descriptor(repaired)
        except FrictionlessException as exc:
            problems = _located(repaired, exc)
    if not problems:
        canonical = _to_json_schema(repaired, schema, problems, warnings)
    if problems:
        every = problems + _beyond(repaired, problems)
        raise InvalidSchemaError(sorted(every, key=_position), warnings)
    return canonical, warnings, repaired


_FIELD_INDEX = re.compile(r"^/fields/(\d+)(/|$)")


def _beyond(desc: dict, problems: list[SchemaProblem]) -> list:
    """The later checks (frictionless, bounds, patterns…) on the fields with
    no problem yet, stage after stage, so that one pass lists every problem.
    Best effort: a problem of the whole schema stops here."""
    from . import table_paths
    from .check import check_json_schema

    bad = _field_indexes(problems)
    found: list[SchemaProblem] = []
    while bad is not None:
        kept = [i for i in range(len(desc["fields"])) if i not in bad]
        if not kept:
            break
        rest = {k: v for k, v in desc.items() if k != "primaryKey"}
        rest["fields"] = [desc["fields"][i] for i in kept]
        try:
            canonical, _warnings, _repaired = import_table_schema(rest)
            check_json_schema(canonical)
            break
        except InvalidSchemaError as exc:
            more = []
            for problem in exc.problems:
                # Back to the positions of the admin's file.
                at = _FIELD_INDEX.match(problem.path)
                if at:
                    problem.path = problem.path.replace(
                        at[0].rstrip("/"), f"/fields/{kept[int(at[1])]}", 1
                    )
                elif problem.path.startswith("/properties/"):
                    [problem] = table_paths([problem], desc)
                more.append(problem)
            found += more
            newly = _field_indexes(more)
            bad = bad | newly if newly else None
        except Exception:  # noqa: BLE001 - only extra problems are at stake
            logger.debug("no further check of a Table Schema with problems")
            break
    return found


def _position(problem: SchemaProblem) -> int:
    """Problems in the order of the file's fields (the whole schema's first)."""
    at = _FIELD_INDEX.match(problem.path)
    return int(at[1]) if at else -1


def _field_indexes(problems: list[SchemaProblem]) -> set[int] | None:
    """The fields the problems are in; None if one is about the whole schema."""
    indexes = set()
    for problem in problems:
        at = _FIELD_INDEX.match(problem.path)
        if at:
            indexes.add(int(at[1]))
        elif problem.path != "/primaryKey":
            return None
    return indexes


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
_DATE_LIKE = {
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
    if kind in _DATE_LIKE and fmt not in ("default", "any"):
        pattern = fmt.removeprefix("fmt:")
        sample, must_read, example = _DATE_LIKE[kind]
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


def _located(desc: dict, exc: FrictionlessException) -> list[SchemaProblem]:
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


def repair(desc: dict, warnings: list[SchemaProblem]) -> dict:
    """Fix what has one obvious meaning, noting each fix as a warning."""
    name = desc.get("name")
    if isinstance(name, str) and not TS_NAME_RE.match(name):
        fixed = slugify(name)
        if fixed and fixed != name:
            desc["name"] = fixed
            warnings.append(
                SchemaProblem(
                    "/name",
                    f"nom « {name} » réparé en « {fixed} » (minuscules, sans espace)",
                    "name",
                )
            )

    for i, field in enumerate(desc.get("fields", [])):
        if isinstance(field, dict):
            _repair_field(field, f"/fields/{i}", warnings)
    return desc


def _repair_field(field: dict, path: str, warnings: list) -> None:
    name = field.get("name")
    if isinstance(name, str) and name != name.strip():
        field["name"] = name.strip()
        warnings.append(
            SchemaProblem(
                f"{path}/name", f"espaces retirés autour de « {name} »", "name"
            )
        )

    examples = field.get("examples")
    if examples is not None and not isinstance(examples, list):
        # SCDL schemas write one example as a bare string; read as a list,
        # it would become one "example" per character.
        field["examples"] = [examples]
        warnings.append(
            SchemaProblem(
                f"{path}/examples",
                "« examples » écrit comme une valeur seule, lu comme l'exemple "
                f"« {examples} »",
                "examples",
            )
        )

    constraints = field.setdefault("constraints", {})
    for key in list(field):
        if key in CONSTRAINT_KEYS:
            constraints[key] = field.pop(key)
            warnings.append(
                SchemaProblem(
                    f"{path}/{key}",
                    f"contrainte « {key} » écrite sur le champ, déplacée dans "
                    "« constraints »",
                    key,
                )
            )

    for key in ("minimum", "maximum", "minLength", "maxLength"):
        value = constraints.get(key)
        if not isinstance(value, str):
            continue
        number = _as_number(value)
        wanted_number = key in ("minLength", "maxLength") or field.get("type") in (
            "integer",
            "number",
            "year",
        )
        if number is not None and wanted_number:
            constraints[key] = number
            warnings.append(
                SchemaProblem(
                    f"{path}/constraints/{key}",
                    f"borne « {value} » écrite comme texte, lue comme le nombre {number}",
                    key,
                )
            )
    if not constraints:
        field.pop("constraints")

    for key in list(field):
        if key not in FIELD_KEYS:
            warnings.append(
                SchemaProblem(
                    f"{path}/{key}",
                    f"clé « {key} » non utilisée par le service, gardée comme "
                    "métadonnée",
                    key,
                )
            )


def _as_number(text: str):
    try:
        as_float = float(text.strip())
    except ValueError:
        return None
    return int(as_float) if as_float.is_integer() else as_float


def _to_json_schema(desc: dict, schema: Schema, problems, warnings) -> dict:
    properties: dict = {}
    required: list[str] = []
    primary_key = schema.primary_key or []

    for i, field in enumerate(schema.fields):
        path = f"/fields/{i}"
        raw = desc["fields"][i]
        problem = field_name_problem(field.name)
        if problem:
            problems.append(SchemaProblem(f"{path}/name", problem, "name"))
            continue
        prop = _convert_field(field, raw, path, problems, warnings)
        if prop is None:
            continue
        properties[field.name] = prop
        if field.constraints.get("required") or field.name in primary_key:
            required.append(field.name)

    out = {
        "$schema": DRAFT_2020,
        "type": "object",
        "title": desc.get("title") or desc.get("name") or "",
        "properties": properties,
        "required": required,
        "additionalProperties": False,
    }
    if desc.get("description"):
        out["description"] = desc["description"]
    if primary_key:
        out["x-unique"] = list(primary_key)
    _carry_metadata(desc, out, warnings)
    return out


def _convert_field(field, raw: dict, path: str, problems, warnings) -> dict | None:
    prop: dict = {}
    if field.title:
        prop["title"] = field.title
    if field.description:
        prop["description"] = field.description

    kind = field.type
    converted = _TYPE_MAP.get(kind)
    if converted is None:
        problems.append(
            SchemaProblem(f"{path}/type", f"type « {kind} » non pris en charge", "type")
        )
        return None
    prop.update(converted(field, raw, path, warnings))
    if isinstance(raw.get("x-renamed-from"), str):
        # Our extension, the same in both kinds of schema (migrate.py).
        prop["x-renamed-from"] = raw["x-renamed-from"]

    _convert_constraints(field, prop, path, problems, warnings)

    examples = raw.get("examples") or ([raw["example"]] if "example" in raw else [])
    if examples:
        prop["examples"] = [str(e) for e in examples]

    has_formats = kind in TS_FORMATS or kind in _DATE_LIKE
    if not has_formats and raw.get("format") not in (None, "default"):
        warnings.append(
            SchemaProblem(
                f"{path}/format",
                f"format « {raw['format']} » sans effet sur un champ {kind} "
                "(seul « default » existe) : ignoré",
                "format",
            )
        )
    ts = {"type": kind, "format": field.format or "default"}
    for key in ("trueValues", "falseValues", "decimalChar", "groupChar", "bareNumber"):
        if key in raw:
            ts[key] = raw[key]
    if "missingValues" in raw:
        ts["missingValues"] = raw["missingValues"]
    extra = {k: v for k, v in raw.items() if k not in FIELD_KEYS}
    if extra:
        ts["extra"] = extra
    prop["x-tableschema"] = ts
    return prop


def _string(field, raw, path, warnings) -> dict:
    fmt = field.format or "default"
    out = {"type": "string"}
    if fmt in ("email", "uri", "uuid"):
        out["format"] = fmt
    elif fmt == "binary":
        warnings.append(
            SchemaProblem(f"{path}/format", "format binary saisi comme texte", "format")
        )
    return out


def _date_like(json_format: str):
    def convert(field, raw, path, warnings) -> dict:
        return {"type": "string", "format": json_format}

    return convert


def _geopoint(field, raw, path, warnings) -> dict:
    return {
        "type": "array",
        "x-type": "geopoint",
        "prefixItems": [
            {"type": "number", "minimum": -180, "maximum": 180, "title": "Longitude"},
            {"type": "number", "minimum": -90, "maximum": 90, "title": "Latitude"},
        ],
        "items": False,
        "minItems": 2,
        "maxItems": 2,
    }


def _array(field, raw, path, warnings) -> dict:
    item = raw.get("arrayItem")
    if not item:
        return {"type": "array"}

    item_type = item.get("type", "string")
    item_prop = dict(_TYPE_MAP.get(item_type, _string)(field, item, path, warnings))
    constraints = item.get("constraints") or {}
    if "enum" in constraints:
        item_prop["enum"] = constraints["enum"]
    for key in ("pattern", "minimum", "maximum", "minLength", "maxLength"):
        if key in constraints:
            item_prop[key] = (
                _anchor(constraints[key]) if key == "pattern" else constraints[key]
            )
    return {"type": "array", "items": item_prop}


_TYPE_MAP = {
    "string": _string,
    "number": lambda *a: {"type": "number"},
    "integer": lambda *a: {"type": "integer"},
    "boolean": lambda *a: {"type": "boolean"},
    "date": _date_like("date"),
    "datetime": _date_like("date-time"),
    "time": _date_like("time"),
    "year": lambda *a: {"type": "integer", "x-type": "year"},
    "yearmonth": lambda *a: {"type": "string", "pattern": r"^\d{4}-(0[1-9]|1[0-2])$"},
    "duration": lambda *a: {"type": "string", "format": "duration"},
    "geopoint": _geopoint,
    "array": _array,
    "object": lambda *a: {"type": "object", "x-type": "json"},
    "any": lambda *a: {"type": "string"},
}


def _convert_constraints(field, prop: dict, path: str, problems, warnings) -> None:
    constraints = field.constraints or {}
    is_array = prop.get("type") == "array"
    for key, value in constraints.items():
        if key in ("required",):
            continue
        if key == "unique":
            if value:
                prop["x-unique"] = True
        elif key == "enum":
            prop["enum"] = value
        elif key == "pattern":
            prop["pattern"] = _anchor(value)
        elif key in ("minLength", "maxLength"):
            target = {"minLength": "minItems", "maxLength": "maxItems"}[key]
            prop[target if is_array else key] = value
        elif key in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"):
            if prop.get("type") in ("integer", "number"):
                prop[key] = value
            elif field.type in ORDERED_TYPES:
                _convert_bound(field, key, value, prop, path, problems)
            else:
                warnings.append(
                    SchemaProblem(
                        f"{path}/constraints/{key}",
                        f"borne « {key} » sur un champ {field.type} non vérifiée",
                        key,
                    )
                )
        else:
            warnings.append(
                SchemaProblem(
                    f"{path}/constraints/{key}",
                    f"contrainte « {key} » non appliquée",
                    key,
                )
            )


# Types whose bounds bounds.py checks; a duration has no order of its own
# (a month is not a number of days).
ORDERED_TYPES = ("date", "datetime", "time", "yearmonth")


def _convert_bound(field, key: str, value, prop: dict, path: str, problems) -> None:
    """A bound read as frictionless reads it (in the field's own format),
    written as the stored values are, under the bounds.py keyword."""
    read = field.create_value_reader()(value)
    if read is None:
        problems.append(
            SchemaProblem(
                f"{path}/constraints/{key}",
                f"borne « {value} » illisible pour un champ {field.type} "
                f"au format « {field.format or 'default'} »",
                key,
            )
        )
        return
    prop["format" + key[0].upper() + key[1:]] = api_value(field, read)


def _anchor(pattern: str) -> str:
    # Table Schema patterns must match the whole value; JSON Schema ones
    # only search, so the anchors are made explicit.
    return f"^(?:{pattern})$"


def _carry_metadata(desc: dict, out: dict, warnings) -> None:
    meta = {k: v for k, v in desc.items() if k != "fields"}
    out["x-tableschema"] = meta

    for key in desc:
        if key in ACTED_ON or key in DESCRIPTIVE:
            continue
        warnings.append(
            SchemaProblem(
                f"/{key}",
                f"clé « {key} » non appliquée par le service, gardée comme métadonnée",
                key,
            )
        )

    licenses = desc.get("licenses") or []
    if licenses and isinstance(licenses[0], dict):
        first = licenses[0]
        out["x-license"] = {
            "title": first.get("title") or first.get("name") or "",
            "url": first.get("path") or "",
        }
    if desc.get("homepage"):
        out["x-source"] = {"title": desc.get("title") or "", "url": desc["homepage"]}
