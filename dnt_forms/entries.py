"""What every entry path shares: find the open form, store, then project."""

from __future__ import annotations

from dataclasses import dataclass

from flask import current_app
from flask_babel import gettext as _

from .compiler import FieldSpec, instantiate, leaves, value_at
from .db import db
from .errors import FormNotOpenError, SchemaNotFoundError
from .models import Entry, Form, FormVersion, User
from .permissions import form_open_to, manages
from .schemas.versions import current_version, publication_specs, specs_of
from .store import create_entry, update_entry


@dataclass
class OpenForm:
    form: Form
    version: FormVersion
    schema: dict
    specs: list[FieldSpec]

    @property
    def slug(self) -> str:
        return self.form.slug

    @property
    def title(self) -> str:
        return self.schema.get("title") or self.form.slug

    @property
    def description(self) -> str:
        return self.schema.get("x-purpose") or self.schema.get("description") or ""


def open_form(slug: str, user: User | None) -> OpenForm:
    """A form the account may use.

    A draft form stays invisible (not found) to all but its managers; a form
    restricted to other organisations is refused (FormNotOpenError).
    """
    form = db.session.execute(db.select(Form).filter_by(slug=slug)).scalar_one_or_none()
    version = current_version(form) if form else None
    if form is None or version is None:
        raise SchemaNotFoundError(f"Aucun formulaire « {slug} ».")
    if form.status == "draft" and not manages(user, form):
        raise SchemaNotFoundError(f"Aucun formulaire « {slug} ».")
    if not form_open_to(form, user):
        raise FormNotOpenError(
            _(
                "Le formulaire « %(slug)s » n'est pas ouvert à votre organisation.",
                slug=slug,
            )
        )
    return OpenForm(form, version, version.schema, specs_of(version))


def form_for_admin(slug: str) -> OpenForm:
    """A form with its current version, whoever it is open to (CLI, admin)."""
    form = db.session.execute(db.select(Form).filter_by(slug=slug)).scalar_one_or_none()
    version = current_version(form) if form else None
    if form is None or version is None:
        raise SchemaNotFoundError(f"Aucun formulaire publié « {slug} ».")
    return OpenForm(form, version, version.schema, specs_of(version))


def listed_forms(user: User | None) -> list[OpenForm]:
    """Published forms open to the account, and the drafts it manages."""
    forms = db.session.execute(
        db.select(Form).filter(Form.status != "closed").order_by(Form.slug)
    ).scalars()
    out = []
    for form in forms:
        version = current_version(form)
        if version is None or not form_open_to(form, user):
            continue
        out.append(OpenForm(form, version, version.schema, specs_of(version)))
    return out


def reference_errors(opened: OpenForm, data: dict) -> list[dict]:
    """x-ref fields must hold the id of a published entry of their form."""
    from .models import PUBLISHED_STATES
    from .validation import error

    errors = []
    for spec in leaves(instantiate(opened.specs, data)):
        value = value_at(data, spec.path)
        if not spec.ref or not isinstance(value, int) or isinstance(value, bool):
            continue
        target = db.session.execute(
            db.select(Entry)
            .join(Form, Entry.form_id == Form.id)
            .filter(Form.slug == spec.ref["form"], Entry.id == value)
        ).scalar_one_or_none()
        if target is None or target.state not in PUBLISHED_STATES:
            errors.append(
                error(
                    spec.path,
                    spec,
                    _(
                        "Aucune entrée publiée n° %(id)s dans le formulaire "
                        "« %(form)s ».",
                        id=value,
                        form=spec.ref["form"],
                    ),
                )
            )
    return errors


def save_new_entry(
    opened: OpenForm, data: dict, user: User | None, state: str = "submitted"
) -> Entry:
    entry = create_entry(
        opened.form,
        opened.version.number,
        opened.schema,
        opened.specs,
        data,
        user,
        state,
    )
    publish_entry(opened, entry)
    return entry


def change_entry(
    opened: OpenForm,
    entry: Entry,
    expected_revision: int,
    user: User | None,
    *,
    data: dict | None = None,
    state: str | None = None,
    action: str = "update",
) -> Entry:
    """Store a change (RevisionConflictError if stale), then project it."""
    entry = update_entry(
        entry,
        expected_revision,
        data=data,
        state=state,
        user=user,
        action=action,
        form_schema=opened.schema,
        specs=opened.specs,
        version_number=opened.version.number if data is not None else None,
    )
    publish_entry(opened, entry)
    return entry


def publish_entry(opened: OpenForm, entry: Entry) -> None:
    """Project the entry into public.db, creating the form's table if needed."""
    store = current_app.extensions["dnt_public"]
    org_code = entry.organisation.code if entry.organisation else None
    if not store.db[opened.form.slug].exists():
        from .publish import sync_form

        sync_form(store, opened.form)
        return
    specs = publication_specs(opened.form, opened.version)
    store.project_entry(opened.form.slug, entry, specs, org_code)
