"""Property: any valid entry of a shipped form comes back unchanged.

Entries are drawn field by field from the compiled form (types, choices,
bounds, formats, patterns, groups and lists; integers within SQLite's 64
bits), kept only when the form's own JSON Schema validator accepts them.
Each goes in through the API and is read back equal, then withdrawn so
that unique keys can be drawn again.

(hypothesis-jsonschema would draw from the schema directly, but its
0.23 release relies on hypothesis internals that current versions no
longer have.)
"""

from __future__ import annotations

import json
from datetime import UTC
from pathlib import Path

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from dnt_forms.compiler import compile_schema
from dnt_forms.schemas import load_file
from dnt_forms.validation import SQLITE_INT_MAX, SQLITE_INT_MIN, _validator

FORMS = sorted(
    p
    for p in (Path(__file__).parent.parent / "form_schemas").glob("*.json")
    if not p.name.startswith("_")
)
TEXT = st.text(st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=30)


def _with_check_digit(length: int):
    """Numbers whose last digit is a Luhn key, as SIREN and SIRET have."""

    def complete(body: str) -> str:
        for last in "0123456789":
            number = body + last
            total = 0
            for i, char in enumerate(reversed(number)):
                digit = int(char) * (2 if i % 2 else 1)
                total += digit - 9 if digit > 9 else digit
            if total % 10 == 0:
                return number
        raise AssertionError(body)

    digits = st.text("0123456789", min_size=length - 1, max_size=length - 1)
    return digits.map(complete).filter(lambda n: not n.startswith("356000000"))


FORMATS = {
    "siren": _with_check_digit(9),
    "siret": _with_check_digit(14),
    "email": st.builds(
        "{}@{}.fr".format,
        st.from_regex(r"[a-z][a-z0-9]{0,10}", fullmatch=True),
        st.from_regex(r"[a-z][a-z0-9-]{0,10}[a-z0-9]", fullmatch=True),
    ),
    "date": st.dates().map(lambda d: d.isoformat()),
    "time": st.times().map(lambda t: t.replace(microsecond=0).isoformat()),
    "date-time": st.datetimes(timezones=st.just(UTC)).map(
        lambda d: d.replace(microsecond=0).isoformat()
    ),
    "uri": st.from_regex(r"https://[a-z]{1,10}\.fr/[a-z0-9]{0,10}", fullmatch=True),
}


def _number(prop: dict, integer: bool):
    low = prop.get("minimum", prop.get("exclusiveMinimum"))
    high = prop.get("maximum", prop.get("exclusiveMaximum"))
    if integer:
        low = SQLITE_INT_MIN if low is None else int(low) + ("exclusiveMinimum" in prop)
        high = (
            SQLITE_INT_MAX if high is None else int(high) - ("exclusiveMaximum" in prop)
        )
        return st.integers(low, high)
    return st.floats(
        low,
        high,
        allow_nan=False,
        allow_infinity=False,
        exclude_min="exclusiveMinimum" in prop,
        exclude_max="exclusiveMaximum" in prop,
    )


def _string(prop: dict):
    if prop.get("format") in FORMATS:
        return FORMATS[prop["format"]]
    low, high = prop.get("minLength", 1), prop.get("maxLength", 30)
    if "pattern" in prop:
        drawn = st.from_regex(prop["pattern"])
        return drawn.filter(lambda s: low <= len(s) <= high)
    return st.text(
        st.characters(blacklist_categories=("Cs",)), min_size=max(low, 1), max_size=high
    ).filter(str.strip)


def _scalar(prop: dict, kind: str):
    if "const" in prop:
        return st.just(prop["const"])
    if "enum" in prop:
        return st.sampled_from([v for v in prop["enum"] if v is not None])
    if kind in ("integer", "number"):
        return _number(prop, kind == "integer")
    if kind == "boolean":
        return st.booleans()
    return _string(prop)


def _value(spec):
    prop = spec.prop
    if spec.is_group:
        return _object(spec.children)
    if spec.is_list:
        return st.lists(
            _object(spec.children),
            min_size=spec.min_rows,
            max_size=min(spec.max_rows or 3, 3),
        )
    if spec.widget == "geopoint":
        return st.tuples(
            st.floats(-180, 180, allow_nan=False), st.floats(-90, 90, allow_nan=False)
        ).map(list)
    if spec.json_type == "array":
        items = prop.get("items") or {}
        return st.lists(
            _scalar(items, spec.item_type or "string"),
            min_size=prop.get("minItems", 1),
            max_size=min(prop.get("maxItems", 3), 3),
            unique=bool(prop.get("uniqueItems")),
        )
    return _scalar(prop, spec.json_type)


def _object(specs):
    required = {s.name: _value(s) for s in specs if s.required}
    optional = {s.name: _value(s) for s in specs if not s.required}
    return st.fixed_dictionaries(required, optional=optional)


@pytest.mark.parametrize("path", FORMS, ids=[p.stem for p in FORMS])
def test_any_valid_entry_comes_back_unchanged(path, agent, token, make_form):
    loaded = load_file(path)
    slug = make_form(path, path.stem)
    headers = {"Authorization": f"Bearer {token}"}
    url = f"/api/v1/forms/{slug}/entries"
    validator = _validator(json.dumps(loaded.canonical))
    stored = []

    @settings(
        max_examples=40,
        deadline=None,
        suppress_health_check=[
            HealthCheck.function_scoped_fixture,
            HealthCheck.too_slow,
        ],
    )
    @given(_object(compile_schema(loaded.canonical)))
    def post_then_read(entry):
        assume(validator.is_valid(entry))
        created = agent.post(url, json=entry, headers=headers)
        assert created.status_code == 201, (entry, created.get_json())
        entry_id = created.get_json()["id"]
        back = agent.get(f"{url}/{entry_id}", headers=headers).get_json()["data"]
        assert back == entry, json.dumps(entry, ensure_ascii=False)
        withdrawn = agent.delete(
            f"{url}/{entry_id}",
            headers={**headers, "If-Match": created.headers["ETag"]},
        )
        assert withdrawn.status_code in (200, 204)
        stored.append(entry_id)

    post_then_read()
    # Most drawn entries are valid: the property was tested, not skipped.
    assert len(stored) >= 20, len(stored)
