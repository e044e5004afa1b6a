"""Entries in the authoritative store: write, read, history.

Each write is one transaction holding the entry, its natural keys and its
history line; the caller projects it into public.db right after.
"""

from __future__ import annotations

import json
import logging

from sqlalchemy.exc import IntegrityError

from .compiler import FieldSpec
from .db import db
from .errors import DuplicateEntryError, EntryNotFoundError, FormClosedError
from .models import Entry, EntryHistory, EntryKey, Form, User, utcnow
from .validation import error

logger = logging.getLogger(__name__)


def natural_keys(form_schema: dict, specs: list[FieldSpec], data: dict) -> list:
    """(key name, key value, fields) of each natural key the entry fills."""
    keys = []
    for spec in specs:
        if spec.unique and spec.name in data:
            keys.append((spec.name, _key_text(data[spec.name]), [spec]))

    composite = form_schema.get("x-unique") or []
    if len(composite) > 1 and all(name in data for name in composite):
        by_name = {spec.name: spec for spec in specs}
        value = _key_text([data[name] for name in composite])
        keys.append(("+".join(composite), value, [by_name[n] for n in composite]))
    return keys


def _key_text(value) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False)


def create_entry(
    form: Form,
    version_number: int,
    form_schema: dict,
    specs: list[FieldSpec],
    data: dict,
    user: User | None,
    state: str = "submitted",
) -> Entry:
    """Store a validated entry; raise DuplicateEntryError on a taken key."""
    if form.status == "closed":
        raise FormClosedError(f"Le formulaire « {form.slug} » est clos.")

    keys = natural_keys(form_schema, specs, data)
    _refuse_taken_keys(form, keys)

    now = utcnow()
    entry = Entry(
        form_id=form.id,
        form_version=version_number,
        revision=1,
        state=state,
        organisation_id=user.organisation_id if user else None,
        author_id=user.id if user else None,
        data_json=json.dumps(data, ensure_ascii=False),
        created_at=now,
        updated_at=now,
    )
    db.session.add(entry)
    try:
        db.session.flush()
        for name, value, _ in keys:
            db.session.add(
                EntryKey(form_id=form.id, entry_id=entry.id, key_name=name, key_value=value)
            )
        changes = {name: [None, value] for name, value in data.items()}
        db.session.add(
            EntryHistory(
                entry_id=entry.id,
                revision=1,
                user_id=user.id if user else None,
                action="create",
                changes_json=json.dumps(changes, ensure_ascii=False),
                at=now,
            )
        )
        db.session.commit()
    except IntegrityError:
        # Another worker took the same key between our check and our write.
        db.session.rollback()
        _refuse_taken_keys(form, keys)
        raise

    logger.info("stored entry %s in form %s", entry.id, form.slug)
    return entry


def _refuse_taken_keys(form: Form, keys: list) -> None:
    for name, value, key_specs in keys:
        taken = db.session.execute(
            db.select(EntryKey.entry_id).filter_by(
                form_id=form.id, key_name=name, key_value=value
            )
        ).scalar_one_or_none()
        if taken is None:
            continue
        errors = [
            error(
                [spec.name],
                spec,
                "Une entrée avec cette valeur existe déjà : cette donnée doit être "
                "unique.",
            )
            for spec in key_specs
        ]
        raise DuplicateEntryError(errors, taken)


def get_entry(form: Form, entry_id: int) -> Entry:
    entry = db.session.get(Entry, entry_id)
    if entry is None or entry.form_id != form.id:
        raise EntryNotFoundError(f"Aucune entrée {entry_id} dans « {form.slug} ».")
    return entry


def entries_of(
    form: Form, organisation_id: int | None, *, every_org=False, limit=50, offset=0
):
    """Entries of one organisation (None: of accounts without one), or all."""
    query = db.select(Entry).filter_by(form_id=form.id)
    if not every_org:
        if organisation_id is None:
            query = query.filter(Entry.organisation_id.is_(None))
        else:
            query = query.filter(Entry.organisation_id == organisation_id)
    query = query.order_by(Entry.id.desc()).limit(limit).offset(offset)
    return db.session.execute(query).scalars().all()


def history_of(entry: Entry) -> list[EntryHistory]:
    return (
        db.session.execute(
            db.select(EntryHistory).filter_by(entry_id=entry.id).order_by(EntryHistory.id)
        )
        .scalars()
        .all()
    )
