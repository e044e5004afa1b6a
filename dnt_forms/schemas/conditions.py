"""Conditions of an object schema, read as "these fields apply when …".

Recognised: `if`/`then`/`else` (alone or inside `allOf`) whose `if` tests one
field against a constant or a list of values, and `dependentSchemas` (the
branch applies once a field is filled in). The server always validates the
whole schema with jsonschema; this reading serves the form: which fields a
branch adds, and the hint (and script) saying when they apply.
"""

from __future__ import annotations

from dataclasses import dataclass, field

HANDLED = ("if", "then", "else", "allOf", "dependentSchemas")


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

    for trigger, part in (schema.get("dependentSchemas") or {}).items():
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
