"""A quick yes/no check of an entry, for bulk imports.

jsonschema judges about ten thousand entries a second: too slow for a file
of a hundred thousand rows. Most forms are flat (typed fields with bounds,
lengths, patterns, formats, choices), and for those the schema's verdict
can be computed with plain Python predicates. This module builds them when
every keyword of the schema is one it knows, and says nothing otherwise.

It only ever says "valid" or "not sure": an entry it does not pass goes to
jsonschema, which gives the verdict and the French messages. Agreement
with jsonschema is checked by a property test (tests/test_fastcheck.py).
"""

from __future__ import annotations

import re
from collections.abc import Callable

from . import bounds
from .schemas.check import ANNOTATIONS as CHECKED_ANNOTATIONS
from .validation import SQLITE_INT_MAX, SQLITE_INT_MIN, format_checker

# The keywords that describe without constraining, as the form checker has
# them, and those a form's root may carry.
ANNOTATIONS = CHECKED_ANNOTATIONS | {"$schema", "name"}
ROOT_KEYS = ANNOTATIONS | {"type", "properties", "required", "additionalProperties"}

Check = Callable[[object], bool]


def compile_check(schema: dict) -> Callable[[dict], bool] | None:
    """A predicate telling that an entry is valid, or None for a schema it
    cannot judge alone."""
    if not isinstance(schema, dict) or _unknown(schema, ROOT_KEYS):
        return None
    if schema.get("type", "object") != "object":
        return None
    properties = schema.get("properties") or {}
    checks = {}
    for name, prop in properties.items():
        check = _property(prop)
        if check is None:
            return None
        checks[name] = check
    required = list(schema.get("required") or [])
    extra = schema.get("additionalProperties", True)
    if extra not in (True, False):
        return None
    allowed = set(properties)
    items = list(checks.items())

    def entry_is_valid(data) -> bool:
        if not isinstance(data, dict):
            return False
        for name in required:
            if name not in data:
                return False
        if extra is False and not allowed.issuperset(data):
            return False
        for name, check in items:
            if name in data and not check(data[name]):
                return False
        return True

    return entry_is_valid


def _unknown(node: dict, known: set) -> bool:
    return any(key not in known and not key.startswith("x-") for key in node)


SCALAR_KEYS = ANNOTATIONS | {
    "type",
    "enum",
    "const",
    "format",
    "pattern",
    "minLength",
    "maxLength",
    "minimum",
    "maximum",
    "exclusiveMinimum",
    "exclusiveMaximum",
    *bounds.BOUNDS,
}
ARRAY_KEYS = ANNOTATIONS | {
    "type",
    "items",
    "prefixItems",
    "minItems",
    "maxItems",
    "uniqueItems",
}


def _property(prop) -> Check | None:
    if not isinstance(prop, dict):
        return None
    special = _plain_string(prop) or _plain_number(prop) or _string_choice(prop)
    if special is not None:
        return special
    kinds = prop.get("type")
    kinds = [kinds] if isinstance(kinds, str) else kinds
    if kinds is None:
        # Without a type, only fixed values or labelled choices are judged.
        if not any(k in prop for k in ("const", "enum", "oneOf", "anyOf")):
            return None
        kinds = ["string", "integer", "number", "boolean", "null"]
    if not isinstance(kinds, list) or not kinds:
        return None
    if "array" in kinds:
        return _array(prop, kinds)
    if _unknown(prop, SCALAR_KEYS | {"oneOf", "anyOf"}) or "object" in kinds:
        return None
    type_ok = _type_check(kinds)
    if type_ok is None:
        return None
    tests = [type_ok]
    for keyword in ("oneOf", "anyOf"):
        if keyword not in prop:
            continue
        branches = prop[keyword]
        if not isinstance(branches, list) or not branches:
            return None
        checks = [_property(b) for b in branches]
        if None in checks:
            return None
        if keyword == "oneOf":
            tests.append(lambda v, checks=checks: sum(c(v) for c in checks) == 1)
        else:
            tests.append(lambda v, checks=checks: any(c(v) for c in checks))
    fixed = prop.get("enum", []) + ([prop["const"]] if "const" in prop else [])
    if any(isinstance(v, (list, dict)) for v in fixed):
        # Objects and lists compare in ways left to jsonschema.
        return None
    if "enum" in prop:
        enum = list(prop["enum"])
        tests.append(lambda v: any(_same(v, e) for e in enum))
    if "const" in prop:
        const = prop["const"]
        tests.append(lambda v: _same(v, const))
    tests.extend(_string_tests(prop))
    tests.extend(_number_tests(prop))

    def check(value) -> bool:
        for test in tests:
            if not test(value):
                return False
        return True

    return check


# The usual shapes get one closure each: the generic path below pays a
# call per keyword, which a file of a hundred thousand rows feels.

STRING_KEYS = ANNOTATIONS | {"type", "pattern", "minLength", "maxLength", "format"}
NUMBER_KEYS = ANNOTATIONS | {"type", "minimum", "maximum"}
CHOICE_KEYS = ANNOTATIONS | {"type", "enum", "oneOf", "anyOf"}


def _plain_string(prop: dict) -> Check | None:
    if prop.get("type") != "string" or _unknown(prop, STRING_KEYS):
        return None
    search = re.compile(prop["pattern"]).search if "pattern" in prop else None
    low = prop.get("minLength", 0)
    high = prop.get("maxLength")
    conforms = _format_test(prop["format"]) if "format" in prop else None

    def check(value) -> bool:
        if type(value) is not str or len(value) < low:
            return False
        if high is not None and len(value) > high:
            return False
        if search is not None and search(value) is None:
            return False
        return conforms is None or conforms(value)

    return check


def _plain_number(prop: dict) -> Check | None:
    kind = prop.get("type")
    if kind not in ("integer", "number") or _unknown(prop, NUMBER_KEYS):
        return None
    low = prop.get("minimum")
    high = prop.get("maximum")
    integer = kind == "integer"

    def check(value) -> bool:
        kind_of = type(value)
        if kind_of is int:
            if not SQLITE_INT_MIN <= value <= SQLITE_INT_MAX:
                return False
        elif kind_of is float:
            if integer and not value.is_integer():
                return False
        else:
            return False
        return (low is None or value >= low) and (high is None or value <= high)

    return check


def _string_choice(prop: dict) -> Check | None:
    """A choice among texts: enum, or labelled oneOf/anyOf of constants."""
    if prop.get("type", "string") != "string" or _unknown(prop, CHOICE_KEYS):
        return None
    sets = []
    if "enum" in prop:
        sets.append(prop["enum"])
    for keyword in ("oneOf", "anyOf"):
        if keyword not in prop:
            continue
        values = []
        for branch in prop[keyword]:
            if not isinstance(branch, dict) or _unknown(
                branch, ANNOTATIONS | {"const"}
            ):
                return None
            if "const" not in branch:
                return None
            values.append(branch["const"])
        if keyword == "oneOf" and len(set(map(repr, values))) != len(values):
            return None  # two equal constants: "exactly one" needs jsonschema
        sets.append(values)
    if not sets or not all(isinstance(v, str) for values in sets for v in values):
        return None
    allowed = frozenset.intersection(*(frozenset(values) for values in sets))
    return lambda value: type(value) is str and value in allowed


def _array(prop: dict, kinds: list) -> Check | None:
    if kinds != ["array"] or _unknown(prop, ARRAY_KEYS):
        return None
    items = prop.get("items", True)
    if isinstance(items, bool):
        item_check = (lambda v: True) if items else (lambda v: False)
    else:
        item_check = _property(items)
    prefix = [_property(p) for p in prop.get("prefixItems", [])]
    if item_check is None or None in prefix:
        return None
    low = prop.get("minItems", 0)
    high = prop.get("maxItems")
    unique = prop.get("uniqueItems") is True

    def check(value) -> bool:
        if not isinstance(value, list) or len(value) < low:
            return False
        if high is not None and len(value) > high:
            return False
        for i, item in enumerate(value):
            test = prefix[i] if i < len(prefix) else item_check
            if not test(item):
                return False
        return not unique or _all_different(value)

    return check


def _all_different(values: list) -> bool:
    seen = set()
    for value in values:
        if isinstance(value, (list, dict)):
            return False  # left to jsonschema
        # true and 1 differ in JSON; 1 and 1.0 do not (as in Python).
        key = ("b", value) if isinstance(value, bool) else (type(value) is str, value)
        if key in seen:
            return False
        seen.add(key)
    return True


def _type_check(kinds: list) -> Check | None:
    simple = {"string", "integer", "number", "boolean", "null"}
    if not set(kinds) <= simple:
        return None
    allowed = set(kinds)

    def type_ok(value) -> bool:
        if value is None:
            return "null" in allowed
        if isinstance(value, bool):
            return "boolean" in allowed
        if isinstance(value, int):
            # Beyond SQLite's 64 bits the slow path explains the refusal.
            if not SQLITE_INT_MIN <= value <= SQLITE_INT_MAX:
                return False
            return "integer" in allowed or "number" in allowed
        if isinstance(value, float):
            if "number" in allowed:
                return True
            return "integer" in allowed and value.is_integer()
        if isinstance(value, str):
            return "string" in allowed
        return False

    return type_ok


def _same(a, b) -> bool:
    """JSON equality of scalars: true is not 1, 1 is 1.0, "1" is not 1."""
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    if isinstance(a, str) or isinstance(b, str):
        return type(a) is type(b) and a == b
    return a == b


def _string_tests(prop: dict) -> list[Check]:
    tests: list[Check] = []
    if "pattern" in prop:
        search = re.compile(prop["pattern"]).search
        tests.append(lambda v: not isinstance(v, str) or search(v) is not None)
    if "minLength" in prop:
        low = prop["minLength"]
        tests.append(lambda v: not isinstance(v, str) or len(v) >= low)
    if "maxLength" in prop:
        high = prop["maxLength"]
        tests.append(lambda v: not isinstance(v, str) or len(v) <= high)
    if "format" in prop:
        conforms = _format_test(prop["format"])
        tests.append(lambda v: not isinstance(v, str) or conforms(v))
    fmt = prop.get("format")
    for keyword in bounds.BOUNDS:
        if keyword in prop:
            bound = prop[keyword]
            tests.append(
                lambda v, k=keyword, b=bound: (
                    not isinstance(v, str) or bounds.within(v, fmt, k, b)
                )
            )
    return tests


def _format_test(fmt: str) -> Check:
    """format_checker.conforms(value, fmt), its checker looked up once."""
    if fmt not in format_checker.checkers:
        return lambda value: True
    func, raises = format_checker.checkers[fmt]

    def conforms(value) -> bool:
        try:
            return bool(func(value))
        except raises:
            return False

    return conforms


def _is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _number_tests(prop: dict) -> list[Check]:
    tests: list[Check] = []
    if "minimum" in prop:
        low = prop["minimum"]
        tests.append(lambda v: not _is_number(v) or v >= low)
    if "maximum" in prop:
        high = prop["maximum"]
        tests.append(lambda v: not _is_number(v) or v <= high)
    if "exclusiveMinimum" in prop:
        low_x = prop["exclusiveMinimum"]
        tests.append(lambda v: not _is_number(v) or v > low_x)
    if "exclusiveMaximum" in prop:
        high_x = prop["exclusiveMaximum"]
        tests.append(lambda v: not _is_number(v) or v < high_x)
    return tests
