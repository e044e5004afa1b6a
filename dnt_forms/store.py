"""Entries in the authoritative store: write, read, history.

Each write is one transaction holding the entry, its natural keys and its
history line; the caller projects it into public.db right after.
"""

from __future__ import annotations

import json
import logging

from flask_babel import gettext as _
from sqlalchemy import text, update
from sqlalchemy.exc import IntegrityError, OperationalError

from .compiler import FieldSpec
from .db import db
from .errors import (
    DuplicateEntryError,
    EntryNotFoundError,
    FormClosedError,
    RevisionConflictError,
    StoreBusyError,
    is_busy,
)
from .models import Entry, EntryHistory, EntryKey, Form, User, utcnow
from .validation import SQLITE_INT_MAX, error

logger = logging.getLogger(__name__)


def natural_keys(form_schema: dict, specs: list[FieldSpec], data: dict) -> list:
    """(key name, key value, fields) of each natural key the entry fills."""
    return key_reader(form_schema, specs)(data)


def key_reader(form_schema: dict, specs: list[FieldSpec]):
    """natural_keys for one form, its specs looked at once (bulk imports)."""
    unique = [spec for spec in specs if spec.unique]
    composite = form_schema.get("x-unique") or []
    if len(composite) > 1:
        by_name = {spec.name: spec for spec in specs}
        composite_name = "+".join(composite)
        composite_specs = [by_name[n] for n in composite]
    else:
        composite = []

    def read(data: dict) -> list:
        keys = [
            (spec.name, _key_text(data[spec.name]), [spec])
            for spec in unique
            if spec.name in data
        ]
        if composite and all(name in data for name in composite):
            value = _key_text([data[name] for name in composite])
            keys.append((composite_name, value, composite_specs))
        return keys

    return read


_key_text = json.JSONEncoder(sort_keys=True, ensure_ascii=False).encode


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

    # A draft holds no natural key yet: it is checked when it is submitted.
    keys = natural_keys(form_schema, specs, data) if state != "draft" else []
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
        for name, value, _fields in keys:
            db.session.add(
                EntryKey(
                    form_id=form.id, entry_id=entry.id, key_name=name, key_value=value
                )
            )
        changes = {name: [None, value] for name, value in data.items()}
        db.session.add(
            EntryHistory(
                entry_id=entry.id,
                revision=1,
                user_id=user.id if user else None,
                action="draft" if state == "draft" else "create",
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
    except OperationalError as exc:
        _raise_if_busy(exc)
        raise

    logger.info("stored entry %s in form %s", entry.id, form.slug)
    return entry


def _raise_if_busy(exc: OperationalError) -> None:
    """A write that waited out the busy timeout (a bulk import holds the
    store) becomes StoreBusyError, after the session is rolled back."""
    db.session.rollback()
    if is_busy(exc):
        logger.warning("private store busy: write refused, to be sent again")
        raise StoreBusyError() from exc


def update_entry(
    entry: Entry,
    expected_revision: int,
    *,
    data: dict | None = None,
    state: str | None = None,
    user: User | None,
    action: str = "update",
    form_schema: dict | None = None,
    specs: list[FieldSpec] | None = None,
    version_number: int | None = None,
) -> Entry:
    """Change an entry if nobody changed it since `expected_revision`.

    The revision test is part of the UPDATE itself, so of two workers saving
    the same revision, exactly one wins; the other gets RevisionConflictError
    and nothing is overwritten.
    """
    if expected_revision > SQLITE_INT_MAX:
        # No entry ever reaches such a revision: it is simply not the current one.
        raise RevisionConflictError(entry.revision)
    old = entry.data
    new = old if data is None else data
    new_state = state or entry.state
    now = utcnow()
    values = {
        "revision": Entry.revision + 1,
        "state": new_state,
        "data_json": json.dumps(new, ensure_ascii=False),
        "updated_at": now,
    }
    if version_number is not None:
        values["form_version"] = version_number

    try:
        result = db.session.execute(
            update(Entry)
            .where(Entry.id == entry.id, Entry.revision == expected_revision)
            .values(**values)
            .execution_options(synchronize_session=False)
        )
        if result.rowcount != 1:
            db.session.rollback()
            db.session.refresh(entry)
            raise RevisionConflictError(entry.revision)

        _replace_keys(entry, form_schema, specs, new, new_state)
        changes = {
            name: [old.get(name), new.get(name)]
            for name in sorted(set(old) | set(new))
            if old.get(name) != new.get(name)
        }
        if new_state != entry.state:
            changes["_state"] = [entry.state, new_state]
        db.session.add(
            EntryHistory(
                entry_id=entry.id,
                revision=expected_revision + 1,
                user_id=user.id if user else None,
                action=action,
                changes_json=json.dumps(changes, ensure_ascii=False),
                at=now,
            )
        )
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        if form_schema is not None and specs is not None:
            _refuse_taken_keys(
                entry.form, natural_keys(form_schema, specs, new), entry.id
            )
        raise
    except OperationalError as exc:
        _raise_if_busy(exc)
        raise

    db.session.refresh(entry)
    logger.info("entry %s: %s, revision %s", entry.id, action, entry.revision)
    return entry


def _replace_keys(entry, form_schema, specs, data, state) -> None:
    """Natural keys follow the entry: none while draft or withdrawn."""
    if form_schema is None or specs is None:
        if state in ("draft", "withdrawn"):
            db.session.query(EntryKey).filter_by(entry_id=entry.id).delete()
        return

    keys = natural_keys(form_schema, specs, data)
    if state in ("draft", "withdrawn"):
        keys = []
    _refuse_taken_keys(entry.form, keys, entry.id)
    db.session.query(EntryKey).filter_by(entry_id=entry.id).delete()
    for name, value, _fields in keys:
        db.session.add(
            EntryKey(
                form_id=entry.form_id, entry_id=entry.id, key_name=name, key_value=value
            )
        )


def data_at(entry: Entry, revision: int) -> dict:
    """The entry's data as it was at an earlier revision, from its history."""
    data = dict(entry.data)
    for line in reversed(history_of(entry)):
        if line.revision <= revision:
            break
        for name, (old, _new) in json.loads(line.changes_json).items():
            if name.startswith("_"):
                continue
            if old is None:
                data.pop(name, None)
            else:
                data[name] = old
    return data


def _refuse_taken_keys(form: Form, keys: list, own_id: int | None = None) -> None:
    for name, value, key_specs in keys:
        taken = db.session.execute(
            db.select(EntryKey.entry_id).filter_by(
                form_id=form.id, key_name=name, key_value=value
            )
        ).scalar_one_or_none()
        if taken is None or taken == own_id:
            continue
        errors = [
            error(
                spec.path,
                spec,
                _(
                    "Une entrée avec cette valeur existe déjà : cette donnée doit "
                    "être unique."
                ),
            )
            for spec in key_specs
        ]
        raise DuplicateEntryError(errors, taken)


def get_entry(form: Form, entry_id: int) -> Entry:
    entry = db.session.get(Entry, entry_id)
    if entry is None or entry.form_id != form.id:
        raise EntryNotFoundError(f"Aucune entrée {entry_id} dans « {form.slug} ».")
    return entry


SORTS = {
    "id": Entry.id,
    "maj": Entry.updated_at,
    "etat": Entry.state,
    "creation": Entry.created_at,
}


def entries_for(
    form: Form,
    user: User,
    *,
    every_org: bool = False,
    search: str = "",
    sort: str = "-maj",
    limit: int = 50,
    offset: int = 0,
) -> tuple[list[Entry], int]:
    """(one page of entries, total) the account may see, searched and sorted.

    `every_org` lists all producers (managers, administrators); otherwise
    the account's organisation only (or, without one, its own entries).
    """
    query = db.select(Entry).filter_by(form_id=form.id)
    if not every_org:
        if user.organisation_id is None:
            query = query.filter(
                Entry.organisation_id.is_(None), Entry.author_id == user.id
            )
        else:
            query = query.filter(Entry.organisation_id == user.organisation_id)
    if search:
        # Values only, not the field names that the JSON text also holds.
        # LIKE's wildcards typed by the agent are searched literally.
        escaped = search.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        query = query.filter(
            text(
                "exists (select 1 from json_each(entries.data_json) as v "
                "where v.value like :pattern escape '\\')"
            ).bindparams(pattern=f"%{escaped}%")
        )

    offset = min(offset, SQLITE_INT_MAX)
    total = db.session.execute(
        db.select(db.func.count()).select_from(query.subquery())
    ).scalar_one()
    column = SORTS.get(sort.lstrip("-"), Entry.updated_at)
    order = column.desc() if sort.startswith("-") else column.asc()
    query = query.order_by(order, Entry.id.desc()).limit(limit).offset(offset)
    return db.session.execute(query).scalars().all(), total


def history_of(entry: Entry) -> list[EntryHistory]:
    return (
        db.session.execute(
            db.select(EntryHistory)
            .filter_by(entry_id=entry.id)
            .order_by(EntryHistory.id)
        )
        .scalars()
        .all()
    )
