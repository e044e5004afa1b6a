"""Conditions of an object schema, read as "these fields apply when …".

Recognised: `if`/`then`/`else` (alone or inside `allOf`) whose `if` tests one
field against a constant or a list of values; `dependentSchemas` (the
branch applies once a field is filled in), including rjsf's way of writing
variants, a `oneOf` whose variants each pin the value of that field; and
`oneOf`/`anyOf` between object variants: pinned by a common field (the
variant is that field's answer) or not (the agent picks the variant, the
choice itself is not stored). The server always validates the
whole schema with jsonschema; this reading serves the form: which fields a
branch adds, and the hint (and script) saying when they apply.
"""

from __future__ import annotations

from dataclasses import dataclass, field

HANDLED = ("if", "then", "else", "allOf", "dependentSchemas", "oneOf", "anyOf")

# Stands for the agent's choice of variant when no field says it.
VARIANT = "_variante"
VARIANT_KEYS = {"properties", "required", "title", "description", "$comment", "type"}


@dataclass
class Branch:
    trigger: str
    # The values that make the branch apply; None: "once it is filled in".
    values: list | None
    negate: bool = False
    properties: dict = field(default_factory=dict)
    required: list = field(default_factory=list)
    # Where the branch is written, as a JSON Pointer from the object.
    origin: str = ""
    # A variant of a oneOf/anyOf: its title, and the schema of the field
    # that selects it as the variant writes it.
    label: str | None = None
    pin: dict | None = None
    pin_required: bool = False


def _test(condition) -> tuple[str, list] | None:
    """(field, values) of an `if` that tests one field, else None."""
    if not isinstance(condition, dict):
        return None
    props = condition.get("properties")
    if set(condition) - {"properties", "required"} or not isinstance(props, dict):
        return None
    if len(props) != 1:
        return None
    ((name, test),) = props.items()
    if not isinstance(test, dict):
        return None
    if "const" in test and set(test) <= {"const", "type", "title"}:
        return name, [test["const"]]
    if isinstance(test.get("enum"), list) and set(test) <= {"enum", "type", "title"}:
        return name, list(test["enum"])
    return None


def _branch_schema(schema) -> bool:
    return isinstance(schema, dict) and not set(schema) - {
        "properties",
        "required",
        "title",
        "description",
        "$comment",
    }


def _from_if(node: dict, origin: str = "") -> list[Branch] | None:
    test = _test(node.get("if"))
    if test is None:
        return None
    out = []
    for key, negate in (("then", False), ("else", True)):
        part = node.get(key)
        if part is None:
            continue
        if not _branch_schema(part):
            return None
        out.append(
            Branch(
                test[0],
                test[1],
                negate,
                part.get("properties") or {},
                part.get("required") or [],
                f"{origin}/{key}",
            )
        )
    return out


def is_variant(node) -> bool:
    """An object schema that can be one variant of a oneOf/anyOf."""
    return (
        isinstance(node, dict)
        and not set(node) - VARIANT_KEYS
        and node.get("type", "object") == "object"
        and isinstance(node.get("properties", {}), dict)
        and ("properties" in node or "required" in node)
    )


def object_variants(node: dict) -> tuple[str, list] | None:
    """(keyword, variants) of a oneOf/anyOf between object variants, else None."""
    for keyword in ("oneOf", "anyOf"):
        variants = node.get(keyword)
        if isinstance(variants, list) and variants and all(map(is_variant, variants)):
            return keyword, variants
    return None


def _pinned(variant: dict, name: str) -> list | None:
    """The values a variant allows for a field, if it pins them."""
    test = _test({"properties": {name: (variant.get("properties") or {}).get(name)}})
    return test[1] if test else None


def discriminator(variants: list, trigger: str | None = None) -> str | None:
    """The field whose value tells the variants apart, if every variant pins it."""
    names = [trigger] if trigger else list(variants[0].get("properties") or {})
    for name in names:
        if all(_pinned(v, name) is not None for v in variants):
            return name
    return None


def _from_variants(
    variants: list, origin: str, trigger: str | None = None
) -> list[Branch]:
    """One branch per variant, selected by their common field or by the agent."""
    name = discriminator(variants, trigger)
    out = []
    for i, variant in enumerate(variants):
        props = dict(variant.get("properties") or {})
        pin = props.pop(name, None) if name else None
        out.append(
            Branch(
                name or VARIANT,
                _pinned(variant, name) if name else [i],
                False,
                props,
                [r for r in variant.get("required") or [] if r != name],
                f"{origin}/{i}",
                label=variant.get("title") or f"Variante {i + 1}",
                pin=pin,
                pin_required=name in (variant.get("required") or []),
            )
        )
    return out


def read_conditions(schema: dict) -> tuple[list[Branch], list[str], list[str]]:
    """(branches, always-required names from allOf, keywords not understood)."""
    branches: list[Branch] = []
    required: list[str] = []
    unknown: list[str] = []

    if "if" in schema:
        found = _from_if(schema)
        if found is None:
            unknown.append("if")
        else:
            branches.extend(found)
    elif "then" in schema or "else" in schema:
        unknown.append("then" if "then" in schema else "else")

    for i, item in enumerate(schema.get("allOf") or []):
        if (
            isinstance(item, dict)
            and "if" in item
            and set(item) <= {"if", "then", "else"}
        ):
            found = _from_if(item, f"/allOf/{i}")
            if found is None:
                unknown.append("allOf")
                break
            branches.extend(found)
        elif isinstance(item, dict) and set(item) == {"required"}:
            required.extend(item["required"])
        else:
            unknown.append("allOf")
            break

    found = object_variants(schema)
    if found:
        keyword, variants = found
        branches.extend(_from_variants(variants, f"/{keyword}"))
    unknown.extend(
        k for k in ("oneOf", "anyOf") if k in schema and (not found or found[0] != k)
    )

    for trigger, part in (schema.get("dependentSchemas") or {}).items():
        found = object_variants(part) if isinstance(part, dict) else None
        if found and len(part) == 1 and discriminator(found[1], trigger):
            keyword, variants = found
            branches.extend(
                _from_variants(
                    variants, f"/dependentSchemas/{trigger}/{keyword}", trigger
                )
            )
            continue
        if not _branch_schema(part):
            unknown.append("dependentSchemas")
            break
        branches.append(
            Branch(
                trigger,
                None,
                False,
                part.get("properties") or {},
                part.get("required") or [],
                f"/dependentSchemas/{trigger}",
            )
        )
    return branches, required, unknown
