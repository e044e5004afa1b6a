"""Check a JSON Schema against what the form compiler honours.

Every problem is reported with its JSON Pointer and the keyword at fault;
nothing the compiler does not act on is silently ignored: it is either
refused or listed as a warning.
"""

from __future__ import annotations

import difflib
import itertools
import json
import logging

from .. import bounds
from ..errors import InvalidSchemaError, SchemaProblem
from ..pointers import escape
from .conditions import HANDLED, VARIANT, object_variants, read_conditions
from .drafts import check_meta_schema
from .naming import field_name_problem
from .shapes import SCALAR_TYPES, is_fields_group, labelled_choices, scalar_type

logger = logging.getLogger(__name__)


ANNOTATIONS = {
    "title",
    "description",
    "$comment",
    "examples",
    "default",
    "readOnly",
    "writeOnly",
    "deprecated",
    "$id",
}
ASSERTIONS = {
    "string": {
        "type",
        "format",
        "pattern",
        "minLength",
        "maxLength",
        "enum",
        "const",
        *bounds.BOUNDS,
    },
    "integer": {
        "type",
        "minimum",
        "maximum",
        "exclusiveMinimum",
        "exclusiveMaximum",
        "multipleOf",
        "enum",
        "const",
    },
    "boolean": {"type", "const"},
    "array": {"type", "items", "minItems", "maxItems", "uniqueItems", "prefixItems"},
}
ASSERTIONS["number"] = ASSERTIONS["integer"]
# A choice among whole objects (an enum of objects), stored as the object.
ASSERTIONS["object"] = {"type", "enum"}

# Keywords the compiler does not honour yet: refused, never ignored.
NOT_YET = {
    "$ref": "les références ($ref)",
    "$dynamicRef": "les références dynamiques",
    "$defs": "les définitions partagées ($defs)",
    "definitions": "les définitions partagées (definitions)",
    "allOf": "les combinaisons (allOf)",
    "anyOf": "les variantes (anyOf)",
    "oneOf": "les variantes (oneOf)",
    "not": "la négation (not)",
    "if": "les conditions (if/then/else)",
    "then": "les conditions (if/then/else)",
    "else": "les conditions (if/then/else)",
    "dependentSchemas": "les schémas dépendants (dependentSchemas)",
    "dependencies": "les dépendances (dependencies)",
    "patternProperties": "patternProperties",
    "additionalItems": "les listes à positions fixes (additionalItems)",
    "unevaluatedProperties": "unevaluatedProperties",
    "unevaluatedItems": "unevaluatedItems",
    "contains": "contains",
    "propertyNames": "propertyNames",
}
ROOT_KEYS = {
    "name",
    "$schema",
    "$id",
    "$comment",
    "title",
    "description",
    "type",
    "properties",
    "required",
    "additionalProperties",
    "examples",
    "dependentRequired",
}
KNOWN_FORMATS = {
    "date",
    "date-time",
    "time",
    "email",
    "uri",
    "password",
    "siren",
    "siret",
    "duration",
    "uuid",
}
X_TYPES = {"year", "geopoint", "json"}


def check_json_schema(schema) -> list[SchemaProblem]:
    """Return the warnings of a usable form schema, or raise InvalidSchemaError."""
    check_meta_schema(schema)
    problems: list[SchemaProblem] = []
    warnings: list[SchemaProblem] = []
    _check_root(schema, problems, warnings)
    if problems:
        raise InvalidSchemaError(problems, warnings)
    return warnings


def _check_conditions(schema: dict, base: str, problems: list, warnings: list):
    """Refuse the conditions the form cannot show; check the fields they add."""
    branches, _required, unknown = read_conditions(schema)
    handled = set(HANDLED) - set(unknown)
    _refuse_not_yet(schema, base, problems, skip=handled)
    properties = schema.get("properties") or {}
    chosen_by_variant = {
        b.trigger for b in branches if b.pin is not None or b.trigger == VARIANT
    }
    for branch in branches:
        if branch.trigger not in properties and branch.trigger not in chosen_by_variant:
            problems.append(
                SchemaProblem(
                    f"{base}{branch.origin}",
                    f"la condition porte sur « {branch.trigger} », qui n'est pas un "
                    "champ de cet objet",
                    "if",
                )
            )
        for name, prop in branch.properties.items():
            if name in properties:
                continue
            path = f"{base}{branch.origin}/properties/{escape(name)}"
            problem = field_name_problem(name)
            if problem:
                problems.append(SchemaProblem(path, problem, "properties"))
            _check_property(name, prop, path, problems, warnings)


def _check_root(schema: dict, problems: list, warnings: list) -> None:
    _check_conditions(schema, "", problems, warnings)

    if schema.get("type", "object") != "object":
        problems.append(
            SchemaProblem("/type", "un formulaire doit être de type « object »", "type")
        )
    properties = schema.get("properties")
    if not isinstance(properties, dict) or not properties:
        problems.append(
            SchemaProblem(
                "/properties",
                "le schéma n'a aucun champ : ajoutez au moins une propriété "
                "dans « properties »",
                "properties",
            )
        )
        return

    for key in schema:
        if key not in ROOT_KEYS and key not in NOT_YET and not key.startswith("x-"):
            warnings.append(SchemaProblem(f"/{escape(key)}", _ignored(key), key))

    _check_properties(schema, "", problems, warnings)
    _check_unique_key(schema, problems)


def _check_properties(schema: dict, base: str, problems: list, warnings: list):
    """Check each property of an object (the form, or a nested group)."""
    properties = schema.get("properties") or {}
    for trigger, names in (schema.get("dependentRequired") or {}).items():
        for name in [trigger, *names]:
            if name not in properties:
                problems.append(
                    SchemaProblem(
                        f"{base}/dependentRequired/{escape(trigger)}",
                        f"« {name} » n'est pas un champ de cet objet",
                        "dependentRequired",
                    )
                )
    seen: dict[str, str] = {}
    for name, prop in properties.items():
        path = f"{base}/properties/{escape(name)}"
        problem = field_name_problem(name)
        if problem:
            problems.append(SchemaProblem(path, problem, "properties"))
        folded = name.casefold()
        if folded in seen:
            problems.append(
                SchemaProblem(
                    path,
                    f"le nom « {name} » ne se distingue de « {seen[folded]} » que "
                    "par la casse : SQLite les confondrait",
                    "properties",
                )
            )
        seen[folded] = name
        _check_property(name, prop, path, problems, warnings)
    _check_renames(properties, base, problems)

    for i, name in enumerate(schema.get("required", [])):
        if name not in properties:
            problems.append(
                SchemaProblem(
                    f"{base}/required/{i}",
                    f"« {name} » est obligatoire mais n'est pas défini dans "
                    "« properties »",
                    "required",
                )
            )


def _check_renames(properties: dict, base: str, problems: list) -> None:
    """A rename moves the old name's values: the old name must be gone, and
    claimed by one field only, or publishing would empty a field that stays."""
    claimed: dict[str, str] = {}
    for name, prop in properties.items():
        old = prop.get("x-renamed-from") if isinstance(prop, dict) else None
        if not isinstance(old, str):
            continue
        path = f"{base}/properties/{escape(name)}/x-renamed-from"
        if old in properties:
            message = (
                f"« {old} » est encore un champ de ce schéma : un champ renommé "
                "disparaît sous son ancien nom (retirez « x-renamed-from » ou "
                "l'ancien champ)"
            )
        elif old in claimed:
            message = f"« {old} » est déjà renommé en « {claimed[old]} »"
        else:
            claimed[old] = name
            continue
        problems.append(SchemaProblem(path, message, "x-renamed-from"))


def _check_property(name, prop, path, problems, warnings) -> None:
    if not isinstance(prop, dict):
        problems.append(SchemaProblem(path, "un champ doit être un objet", "type"))
        return
    labelled = labelled_choices(prop) is not None
    # A group's conditions are checked with the group.
    conditional = is_fields_group(prop)
    skip = set(HANDLED) if conditional else set()
    if any(
        key in NOT_YET
        and key not in skip
        and not (labelled and key in ("oneOf", "anyOf"))
        for key in prop
    ):
        _refuse_not_yet(prop, path, problems, skip=skip)
        return

    kind = scalar_type(prop)
    if kind is None:
        problems.append(
            SchemaProblem(
                f"{path}/type",
                "type manquant ou non pris en charge : utilisez string, integer, "
                "number, boolean, ou un tableau de ces types",
                "type",
            )
        )
        return
    if kind == "object" and prop.get("x-type") == "json":
        return
    if kind == "object" and "enum" not in prop:
        _check_group(name, prop, path, problems, warnings)
        return

    allowed = ASSERTIONS[kind] | ANNOTATIONS
    if labelled:
        allowed = allowed | {"oneOf", "anyOf"}
    for key in prop:
        if key in allowed or key in NOT_YET or key.startswith("x-"):
            continue
        if any(key in keys for keys in ASSERTIONS.values()):
            problems.append(
                SchemaProblem(
                    f"{path}/{escape(key)}",
                    f"« {key} » ne s'applique pas à un champ de type {kind}",
                    key,
                )
            )
        else:
            warnings.append(SchemaProblem(f"{path}/{escape(key)}", _ignored(key), key))

    if kind == "array":
        _check_array(prop, path, problems, warnings)
    if kind == "string":
        _check_bounds(prop, path, problems)
    _check_range(prop, path, problems)
    if kind == "string" and "format" in prop and prop["format"] not in KNOWN_FORMATS:
        warnings.append(
            SchemaProblem(
                f"{path}/format",
                f"format « {prop['format']} » vérifié seulement s'il est connu de "
                "jsonschema, affiché en texte libre",
                "format",
            )
        )
    x_type = prop.get("x-type")
    if x_type is not None and x_type not in X_TYPES:
        problems.append(
            SchemaProblem(f"{path}/x-type", f"x-type « {x_type} » inconnu", "x-type")
        )
    _check_x_ref(prop, path, problems)

    if "title" not in prop:
        warnings.append(
            SchemaProblem(
                path, f"pas de « title » : le nom « {name} » sera affiché", "title"
            )
        )
    if not (prop.get("x-purpose") or prop.get("description")):
        warnings.append(
            SchemaProblem(
                path,
                "finalité non renseignée : ajoutez « x-purpose » ou « description » "
                "pour dire à quoi sert ce champ",
                "x-purpose",
            )
        )


GROUP_KEYS = {
    "type",
    "properties",
    "required",
    "additionalProperties",
    "dependentRequired",
}


def _check_group(name: str, prop: dict, path: str, problems, warnings) -> None:
    """A nested object: a group of fields, checked like the form itself."""
    has_fields = isinstance(prop.get("properties"), dict) and prop["properties"]
    if not has_fields and not object_variants(prop):
        problems.append(
            SchemaProblem(
                f"{path}/properties",
                "un groupe (objet imbriqué) doit avoir des champs dans « properties » ; "
                "pour garder un objet libre tel quel, ajoutez « x-type »: « json »",
                "properties",
            )
        )
        return
    _check_conditions(prop, path, problems, warnings)
    for key in prop:
        if key in GROUP_KEYS or key in ANNOTATIONS or key.startswith("x-"):
            continue
        if key not in NOT_YET:
            warnings.append(SchemaProblem(f"{path}/{escape(key)}", _ignored(key), key))
    if not (prop.get("x-purpose") or prop.get("description")):
        warnings.append(
            SchemaProblem(
                path,
                "finalité non renseignée : ajoutez « x-purpose » ou « description » "
                "pour dire à quoi sert ce groupe",
                "x-purpose",
            )
        )
    _check_properties(prop, path, problems, warnings)


def _check_array(prop: dict, path: str, problems: list, warnings: list) -> None:
    """Lists: of simple values, of groups (repeatable), or kept whole as JSON."""
    if prop.get("x-type") == "geopoint" or "prefixItems" in prop:
        # A tuple is kept whole, as JSON: its positions have no field each.
        return
    items = prop.get("items")
    if items is None or items is True or items is False:
        return
    if not isinstance(items, dict):
        problems.append(
            SchemaProblem(f"{path}/items", "« items » doit être un schéma", "items")
        )
        return

    item_kind = scalar_type(items)
    if item_kind == "object" and is_fields_group(items):
        _check_group("items", items, f"{path}/items", problems, warnings)
        return
    if item_kind == "object" and isinstance(items.get("enum"), list):
        # A choice of several objects among a list.
        return
    if item_kind == "array":
        # A list of lists is kept whole, as JSON.
        return
    _refuse_not_yet(items, f"{path}/items", problems)
    if item_kind not in SCALAR_TYPES:
        problems.append(
            SchemaProblem(
                f"{path}/items",
                "les éléments d'une liste doivent être des valeurs simples, des "
                "groupes de champs (objets) ou des listes",
                "items",
            )
        )


BOUND_FORMATS = {
    "date": "une date AAAA-MM-JJ",
    "date-time": "une date et heure ISO 8601",
    "time": "une heure HH:MM:SS",
}


def _check_bounds(prop: dict, path: str, problems: list) -> None:
    fmt = prop.get("format")
    for key in bounds.BOUNDS:
        if key not in prop:
            continue
        where = f"{path}/{key}"
        if fmt not in bounds.ORDERED_FORMATS:
            problems.append(
                SchemaProblem(
                    where,
                    f"« {key} » ne s'applique qu'à une date, une date et heure ou "
                    f"une heure (format « {fmt} » ici)",
                    key,
                )
            )
            continue
        try:
            bounds.comparable(prop[key], fmt)
        except ValueError:
            expected = BOUND_FORMATS.get(fmt, "un texte")
            problems.append(
                SchemaProblem(
                    where, f"borne « {prop[key]} » illisible : attendu {expected}", key
                )
            )


# (low keys, high keys): bounds that leave no value between them make a
# field nobody can fill in.
_RANGES = (
    (("minimum", "exclusiveMinimum"), ("maximum", "exclusiveMaximum")),
    (("minLength",), ("maxLength",)),
    (("minItems",), ("maxItems",)),
    (
        ("formatMinimum", "formatExclusiveMinimum"),
        ("formatMaximum", "formatExclusiveMaximum"),
    ),
)


def _check_range(prop: dict, path: str, problems: list) -> None:
    for lows, highs in _RANGES:
        for low, high in itertools.product(lows, highs):
            if low not in prop or high not in prop:
                continue
            try:
                if low.startswith("format"):
                    fmt = prop.get("format")
                    a = bounds.comparable(prop[low], fmt)
                    b = bounds.comparable(prop[high], fmt)
                else:
                    a, b = float(prop[low]), float(prop[high])
            except (TypeError, ValueError):
                continue  # said by the meta-schema or _check_bounds
            if a > b or (a == b and "xclusive" in low + high):
                shown = [json.dumps(prop[k], ensure_ascii=False) for k in (low, high)]
                problems.append(
                    SchemaProblem(
                        f"{path}/{low}",
                        f"« {low} » {shown[0]} et « {high} » {shown[1]} ne "
                        "laissent aucune valeur possible",
                        low,
                    )
                )


def _ignored(key: str) -> str:
    """The warning for a keyword nothing acts on, naming the one the admin
    probably meant: "maxlength" and "formt" are typos, not new keywords."""
    known = sorted(
        {k for keys in ASSERTIONS.values() for k in keys}
        | ANNOTATIONS
        | ROOT_KEYS
        | set(NOT_YET)
        | set(GROUP_KEYS)
    )
    by_case = {k.casefold(): k for k in known}
    guess = by_case.get(key.casefold()) or next(
        iter(difflib.get_close_matches(key, known, n=1, cutoff=0.8)), None
    )
    if guess:
        return f"mot-clé « {key} » ignoré : vouliez-vous dire « {guess} » ?"
    return f"mot-clé « {key} » ignoré"


def _check_x_ref(prop: dict, path: str, problems: list) -> None:
    ref = prop.get("x-ref")
    if ref is None:
        return
    if not isinstance(ref, dict) or not isinstance(ref.get("form"), str):
        problems.append(
            SchemaProblem(
                f"{path}/x-ref",
                'x-ref attend {"form": "slug", "label": "champ"}',
                "x-ref",
            )
        )
    elif scalar_type(prop) != "integer":
        problems.append(
            SchemaProblem(
                f"{path}/type",
                "un champ x-ref contient l'identifiant d'une entrée : type integer",
                "x-ref",
            )
        )


def _check_unique_key(schema: dict, problems: list) -> None:
    key = schema.get("x-unique")
    if key is None:
        return
    if not isinstance(key, list) or not all(k in schema["properties"] for k in key):
        problems.append(
            SchemaProblem(
                "/x-unique",
                "x-unique attend la liste des champs qui forment la clé",
                "x-unique",
            )
        )


def _refuse_not_yet(node: dict, path: str, problems: list, skip=()) -> None:
    labelled = labelled_choices(node) is not None
    for key in node:
        if (labelled and key in ("oneOf", "anyOf")) or key in skip:
            continue
        if key in NOT_YET:
            problems.append(
                SchemaProblem(
                    f"{path}/{escape(key)}",
                    f"{NOT_YET[key]} : mot-clé « {key} » pas encore pris en charge "
                    "par le générateur de formulaires",
                    key,
                )
            )
