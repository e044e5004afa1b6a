"""What a property is, read from its keywords: its one type, its labelled
choices, whether it may be null or is a group of fields. The checker and
the compiler read schemas the same way through these."""

from __future__ import annotations

from .conditions import object_variants

SCALAR_TYPES = ("string", "integer", "number", "boolean")

CHOICE_BRANCH_KEYS = {"const", "enum", "title", "description", "type", "$comment"}


def labelled_choices(prop: dict) -> list[tuple[object, str]] | None:
    """(value, label) pairs of a `oneOf`/`anyOf` list of constants, else None.

    This is how JSON Schema gives a label to each allowed value:
    `"oneOf": [{"const": "nid_de_poule", "title": "Nid-de-poule"}, …]`.
    """
    for keyword in ("oneOf", "anyOf"):
        branches = prop.get(keyword)
        if not isinstance(branches, list) or not branches:
            continue
        out = []
        for branch in branches:
            if not isinstance(branch, dict) or set(branch) - CHOICE_BRANCH_KEYS:
                return None
            if "const" in branch:
                value = branch["const"]
            elif isinstance(branch.get("enum"), list) and len(branch["enum"]) == 1:
                value = branch["enum"][0]
            else:
                return None
            out.append((value, str(branch.get("title") or value)))
        return out
    return None


def is_fields_group(prop: dict) -> bool:
    """An object whose fields the form shows: declared, or in variants."""
    return scalar_type(prop) == "object" and (
        isinstance(prop.get("properties"), dict) or object_variants(prop) is not None
    )


def inferred_type(values: list) -> str | None:
    kinds = set()
    for value in values:
        if isinstance(value, dict):
            kinds.add("object")
        elif isinstance(value, bool):
            kinds.add("boolean")
        elif isinstance(value, int):
            kinds.add("integer")
        elif isinstance(value, float):
            kinds.add("number")
        elif isinstance(value, str):
            kinds.add("string")
        elif value is not None:
            return None
    if kinds == {"integer", "number"}:
        return "number"
    return kinds.pop() if len(kinds) == 1 else None


def scalar_type(prop: dict) -> str | None:
    """The one non-null type of a property, or None if it has no single type.

    Without "type", a list of allowed values tells it.
    """
    kind = prop.get("type")
    if kind is None and object_variants(prop) is not None:
        return "object"
    if kind is None:
        choices = labelled_choices(prop)
        values = [v for v, _ in choices] if choices else prop.get("enum")
        if "const" in prop:
            values = [prop["const"]]
        if isinstance(values, list):
            return inferred_type(values)
    if isinstance(kind, list):
        kinds = [k for k in kind if k != "null"]
        if len(kinds) != 1:
            return None
        kind = kinds[0]
    if kind in SCALAR_TYPES or kind in ("array", "object"):
        return kind
    return None


def is_nullable(prop: dict) -> bool:
    kind = prop.get("type")
    return isinstance(kind, list) and "null" in kind
