"""A repaired Table Schema as a canonical form schema (JSON Schema with our
x- extensions): each field's type, format and constraints, and the
schema's metadata carried along."""

from __future__ import annotations

from frictionless import Schema

from ..errors import SchemaProblem
from ..tabular import api_value
from .drafts import DRAFT_2020
from .naming import field_name_problem
from .tablecheck import DATE_LIKE, FIELD_KEYS, TS_FORMATS

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


def to_json_schema(desc: dict, schema: Schema, problems, warnings) -> dict:
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

    has_formats = kind in TS_FORMATS or kind in DATE_LIKE
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
