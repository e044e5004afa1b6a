"""Who may do what: one place for every route and every API call.

Administrators may do everything. A form manager manages named forms (their
schema, all their entries, exports). An agent fills in the forms open to
their organisation and sees and edits their organisation's entries.
"""

from __future__ import annotations

from .models import Entry, Form, Organisation, User


def _codes(text: str | None) -> list[str]:
    return [c.strip() for c in (text or "").split(",") if c.strip()]


def manages(user: User | None, form: Form) -> bool:
    if user is None:
        return False
    return user.is_admin or (
        user.role == "manager" and form.slug in _codes(user.managed_forms)
    )


def form_open_to(form: Form, user: User | None) -> bool:
    """May this account see the form and fill it in?"""
    if user is None or not user.active:
        return False
    if manages(user, form):
        return True
    if form.status == "draft":
        return False
    allowed = _codes(form.restricted_orgs)
    return not allowed or user.org_code in allowed


def form_open_to_org(form: Form, organisation: Organisation) -> bool:
    """Whether the form takes entries of this organisation."""
    allowed = _codes(form.restricted_orgs)
    return not allowed or organisation.code in allowed


def same_producer(user: User, entry: Entry) -> bool:
    """The entry belongs to the account's organisation.

    An account with no organisation only ever sees its own entries: other
    accounts without one are not its colleagues.
    """
    if user.organisation_id is None:
        return entry.organisation_id is None and entry.author_id == user.id
    return entry.organisation_id == user.organisation_id


def can_see_entry(user: User | None, entry: Entry) -> bool:
    if user is None:
        return False
    if manages(user, entry.form):
        return True
    return form_open_to(entry.form, user) and same_producer(user, entry)


def can_edit_entry(user: User | None, entry: Entry) -> bool:
    """Edit or withdraw; a withdrawn entry must be restored first."""
    if entry.state == "withdrawn":
        return False
    if entry.form.status == "closed" and not manages(user, entry.form):
        return False
    return can_see_entry(user, entry)


def can_restore(user: User | None, entry: Entry) -> bool:
    return entry.state == "withdrawn" and manages(user, entry.form)
