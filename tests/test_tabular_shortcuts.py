"""The import's shortcuts for Table Schema cells agree with frictionless.

`tabular.sure_cell` lets a cell skip frictionless's reader when the
reader would accept it and give it back unchanged. These properties check
that claim against the library itself, on cells drawn to look like the
shortcut's patterns and on arbitrary text.
"""

from __future__ import annotations

import string

from frictionless import fields
from hypothesis import given, settings
from hypothesis import strategies as st

from dnt_forms.tabular import _SURE_EMAIL, api_value, sure_cell

EMAIL = fields.StringField(name="courriel", format="email")
DATE = fields.DateField(name="jour")
TEXT = fields.StringField(name="nom")


def agrees(field, cell: str) -> None:
    """When the shortcut takes a cell, frictionless reads it as itself."""
    if sure_cell(field)(cell):
        value = field.create_value_reader()(cell)
        assert value is not None, cell
        assert api_value(field, value) == cell


near_emails = st.one_of(
    st.from_regex(_SURE_EMAIL, fullmatch=True),
    st.builds(
        lambda local, domain: f"{local}@{domain}",
        st.text(string.ascii_letters + string.digits + "._+-'é", min_size=0),
        st.text(string.ascii_letters + string.digits + ".-_", min_size=0),
    ),
    st.text(),
)


@settings(max_examples=400, deadline=None)
@given(near_emails)
def test_sure_emails_are_emails_for_frictionless(cell):
    agrees(EMAIL, cell)


near_dates = st.one_of(
    st.dates().map(lambda d: d.isoformat()),
    st.from_regex(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", fullmatch=True),
    st.text(string.digits + "-/ ", max_size=12),
)


@settings(max_examples=400, deadline=None)
@given(near_dates)
def test_sure_dates_are_dates_for_frictionless(cell):
    agrees(DATE, cell)


@given(st.text())
def test_any_text_is_text_for_frictionless(cell):
    agrees(TEXT, cell)


def test_shortcuts_leave_doubtful_cells_to_frictionless():
    sure_email, sure_date = sure_cell(EMAIL), sure_cell(DATE)
    for cell in (
        "a@b",
        "a..b@commune.fr",
        "é@commune.fr",
        "a@commune.f1",
        "x" * 65 + "@a.fr",
    ):
        assert not sure_email(cell)
    assert sure_email("prenom.nom+test@mairie-lyon.fr")
    for cell in ("2025-02-30", "2025-2-3", "03/02/2025", "２０２５-01-01"):
        assert not sure_date(cell)
    assert sure_date("2025-02-28")
