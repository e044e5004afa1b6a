"""The quick check used by bulk imports never passes what jsonschema refuses.

For every shipped form and every corpus Table Schema it can judge, drawn
values (valid and not) get the same verdict from both.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import corpus_path
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dnt_forms.fastcheck import compile_check
from dnt_forms.schemas import load_file
from dnt_forms.validation import _validator

SHIPPED = sorted(
    p
    for p in (Path(__file__).parent.parent / "form_schemas").glob("*.json")
    if not p.name.startswith("_")
)
TABLES = sorted(corpus_path().glob("tableschema/*/schema.json"))

SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=20),
    st.sampled_from(
        [
            "2025-03-12",
            "2025-02-30",
            "10:30:00",
            "a@b.fr",
            "x@",
            "75056",
            "21750001600019",
            "https://a.fr",
            "true",
            "",
            " ",
            "1,5",
        ]
    ),
)


def _entries(schema: dict):
    names = list(schema.get("properties") or {}) + ["inconnu"]
    values = st.one_of(SCALARS, st.lists(SCALARS, max_size=3))
    examples = [
        e
        for prop in (schema.get("properties") or {}).values()
        for e in [*prop.get("examples", []), *prop.get("enum", [])][:3]
    ]
    if examples:
        values = st.one_of(values, st.sampled_from(examples))
    return st.dictionaries(st.sampled_from(names), values, max_size=len(names))


@pytest.mark.parametrize(
    "path",
    SHIPPED + TABLES,
    ids=[
        p.parent.name if p.name == "schema.json" else p.stem for p in SHIPPED + TABLES
    ],
)
def test_quick_check_agrees_with_jsonschema(path):
    schema = load_file(path).canonical
    quick = compile_check(schema)
    if quick is None:
        pytest.skip("schema the quick check leaves to jsonschema")
    full = _validator(json.dumps(schema, ensure_ascii=False))

    @settings(
        max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow]
    )
    @given(_entries(schema))
    def same_verdict(entry):
        if quick(entry):
            assert full.is_valid(entry), entry

    same_verdict()
