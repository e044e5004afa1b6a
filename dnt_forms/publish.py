"""The published projection: public.db, one typed table per form.

public.db is derived from the private store and never written elsewhere:
it can be repaired or rebuilt at any time, and drafts, withdrawn entries
and unpublished fields never reach it.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import sqlite3
import threading
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace

import sqlite_utils

from .compiler import FieldSpec, leaves, lists_of, value_at
from .models import PUBLISHED_STATES, Entry

logger = logging.getLogger(__name__)

FORMS_TABLE = "_formulaires"
FIELDS_TABLE = "_champs"
RESERVED_COLUMNS = {
    "_id": int,
    "_revision": int,
    "_form_version": int,
    "_state": str,
    "_organisation": str,
    "_created_at": str,
    "_updated_at": str,
}
PY_TYPES = {"INTEGER": int, "REAL": float, "TEXT": str}


class PublicStore:
    """One long-lived connection to public.db per worker process."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self._conn: sqlite3.Connection | None = None
        self._pid: int | None = None
        self._lock = threading.RLock()

    @property
    def db(self) -> sqlite_utils.Database:
        # A connection must not cross a fork: gunicorn workers each open
        # their own.
        if self._conn is None or self._pid != os.getpid():
            self._conn = sqlite3.connect(
                self.path, timeout=10, check_same_thread=False, isolation_level=None
            )
            self._conn.execute("PRAGMA journal_mode=WAL")
            self._conn.execute("PRAGMA busy_timeout=10000")
            self._pid = os.getpid()
        return sqlite_utils.Database(self._conn)

    def close(self) -> None:
        if self._conn is not None and self._pid == os.getpid():
            self._conn.close()
        self._conn = None

    def ensure_catalogue(self) -> None:
        db = self.db
        if FORMS_TABLE not in db.table_names():
            db[FORMS_TABLE].create(
                {
                    "formulaire": str,
                    "titre": str,
                    "description": str,
                    "version": int,
                    "statut": str,
                    "licence": str,
                    "licence_url": str,
                    "source": str,
                    "source_url": str,
                },
                pk="formulaire",
            )
        if (
            FIELDS_TABLE in db.table_names()
            and "tableau" not in db[FIELDS_TABLE].columns_dict
        ):
            # A catalogue from an older version: it is derived, rebuild it.
            db[FIELDS_TABLE].drop()
        if FIELDS_TABLE not in db.table_names():
            db[FIELDS_TABLE].create(
                {
                    "formulaire": str,
                    "tableau": str,
                    "champ": str,
                    "titre": str,
                    "finalite": str,
                    "type": str,
                    "obligatoire": int,
                    "position": int,
                },
                pk=("tableau", "champ"),
            )

    def project_form(self, form_info: dict, specs: list[FieldSpec], entries) -> None:
        """Make the form's table match its schema and its entries, in one go.

        Rows whose revision is already there are left alone, so this both
        repairs (at start) and rebuilds (after a schema change) cheaply.
        """
        slug = form_info["slug"]
        with self._lock:
            db = self.db
            self.ensure_catalogue()
            with immediate(db):
                recreated = self._ensure_tables(db, slug, specs, form_info)
                self._write_catalogue(db, form_info, specs)
                present = {}
                if not recreated:
                    present = {
                        row[0]: row[1]
                        for row in db.execute(
                            f"select _id, _revision from {_q(slug)}"
                        ).fetchall()
                    }
                wanted = set()
                for entry in entries:
                    if entry.state not in PUBLISHED_STATES:
                        continue
                    wanted.add(entry.id)
                    if present.get(entry.id) == entry.revision:
                        continue
                    self._write_entry(db, slug, entry, specs, form_info["org_codes"])
                stale = [i for i in present if i not in wanted]
                for entry_id in stale:
                    self._delete_entry(db, slug, entry_id, specs)
        logger.info("projected form %s (%s entries)", slug, len(wanted))

    def bulk_insert(self, form_info: dict, specs, shared: dict) -> BulkInsert:
        """A write transaction for many new entries (a bulk import).

        The caller adds entries as it reads them, then commits this
        transaction right after its private one, or rolls it back.
        """
        return BulkInsert(self, form_info, specs, shared)

    def project_entry(
        self, slug: str, entry: Entry, specs, org_code: str | None
    ) -> None:
        """Publish (or unpublish) one entry right after it was written."""
        with self._lock:
            db = self.db
            with immediate(db):
                if entry.state in PUBLISHED_STATES:
                    codes = {entry.organisation_id: org_code}
                    self._write_entry(db, slug, entry, specs, codes)
                else:
                    self._delete_entry(db, slug, entry.id, specs)

    def _write_entry(self, db, slug, entry, specs, org_codes) -> None:
        """The entry's row and the rows of its lists, replacing what was there."""
        db[slug].insert(public_row(entry, specs, org_codes), replace=True)
        data = entry.data
        retired = json.loads(entry.retired_json or "{}")
        for child in child_tables(slug, specs):
            db.execute(f"delete from {_q(child.table)} where _entry_id = ?", [entry.id])
            db[child.table].insert_all(child.rows_of(entry.id, data, retired))

    def _delete_entry(self, db, slug, entry_id: int, specs) -> None:
        for child in child_tables(slug, specs):
            db.execute(f"delete from {_q(child.table)} where _entry_id = ?", [entry_id])
        db.execute(f"delete from {_q(slug)} where _id = ?", [entry_id])

    def _ensure_tables(self, db, slug: str, specs, form_info: dict) -> bool:
        """The form's table and its lists' tables; True if any was (re)created."""
        recreated = self._ensure_table(db, slug, specs, form_info)
        for child in child_tables(slug, specs):
            recreated = self._ensure_child(db, slug, child) or recreated
        return recreated

    def _ensure_child(self, db, slug: str, child: ChildTable) -> bool:
        """Create or reshape a list's table; True when it was (re)created."""
        table = db[child.table]
        columns = child.columns()
        if table.exists():
            current = [(c.name, c.type.upper()) for c in table.columns]
            wanted = [(n, _SQL[k]) for n, k in columns.items()]
            if current == wanted:
                return False
            table.drop()
        db[child.table].create(
            columns,
            pk=("_entry_id", "_position"),
            foreign_keys=[("_entry_id", slug, "_id")],
        )
        return True

    def _ensure_table(self, db, slug: str, specs, form_info: dict) -> bool:
        """Create or reshape the table; True when it was (re)created empty."""
        columns = expected_columns(specs)
        foreign_keys = _foreign_keys(db, specs)
        table = db[slug]
        if table.exists():
            current = {c.name: c.type.upper() for c in table.columns}
            wanted = {name: _SQL[kind] for name, kind in columns.items()}
            current_keys = sorted(
                (fk.column, fk.other_table, fk.other_column)
                for fk in table.foreign_keys
            )
            if list(current.items()) == list(wanted.items()) and current_keys == sorted(
                foreign_keys
            ):
                return False
            # The schema changed: the table is derived data, so it is
            # rebuilt from the private store rather than migrated in place.
            logger.info("public table %s reshaped for a new schema", slug)
            table.drop()
        db[slug].create(columns, pk="_id", foreign_keys=foreign_keys)
        return True

    def _write_catalogue(self, db, form_info: dict, specs) -> None:
        slug = form_info["slug"]
        db[FORMS_TABLE].insert(
            {
                "formulaire": slug,
                "titre": form_info["title"],
                "description": form_info["description"],
                "version": form_info["version"],
                "statut": form_info["status"],
                "licence": form_info["license"],
                "licence_url": form_info["license_url"],
                "source": form_info["source"],
                "source_url": form_info["source_url"],
            },
            replace=True,
        )
        db.execute(f"delete from {_q(FIELDS_TABLE)} where formulaire = ?", [slug])
        rows = [_field_row(slug, slug, spec.column, spec) for spec in leaves(specs)]
        for child in child_tables(slug, specs):
            # The list itself, described in its parent table's rows…
            rows.append(_field_row(slug, slug, child.spec.column, child.spec))
            # …and each of its fields, in the list's own table.
            rows.extend(
                _field_row(slug, child.table, column, leaf)
                for column, leaf in child.leaves()
            )
        db[FIELDS_TABLE].insert_all(row for row in rows if row is not None)

    def drop_all(self) -> None:
        """Empty public.db (tables only: the file stays, Datasette keeps it open)."""
        with self._lock:
            db = self.db
            with immediate(db):
                for name in db.table_names():
                    db[name].drop()


class BulkInsert:
    """New entries written into public.db while an import reads its file.

    One transaction, holding public.db's write lock (the import already
    holds private.db's), committed after the private store's commit: the
    projection never shows an entry the private store lacks, and a crash
    between the two commits leaves a gap that the repair at start fills.
    The rows of one import share their reserved columns but `_id`.
    """

    def __init__(self, store: PublicStore, form_info: dict, specs, shared: dict):
        self.store = store
        slug = form_info["slug"]
        # New entries hold no retired values: those columns come last.
        fields = [s for s in leaves(specs) if s.published and not s.retired]
        retired = [s for s in leaves(specs) if s.published and s.retired]
        reserved = public_row(
            SimpleNamespace(id=None, **shared), (), form_info["org_codes"], {}
        )
        self.template = list(reserved.values())[1:]
        self.retired = [None] * len(retired)
        self.project = projector(fields)
        columns = [*RESERVED_COLUMNS, *(s.column for s in fields + retired)]
        self.sql = (
            f"insert or replace into {_q(slug)} ({', '.join(map(_q, columns))}) "
            f"values ({', '.join('?' for _ in columns)})"
        )
        # New entries hold no values of removed lists either.
        self.children = [c for c in child_tables(slug, specs) if not c.spec.retired]
        self.rows: list = []
        self.child_rows: dict[str, list] = {c.table: [] for c in self.children}
        self.db = None
        store._lock.acquire()
        try:
            self.db = store.db
            store.ensure_catalogue()
            self.db.conn.execute("BEGIN IMMEDIATE")
            # A reshaped table is empty: the caller then projects the rest.
            self.reshaped = store._ensure_tables(self.db, slug, specs, form_info)
        except BaseException:
            self._end("ROLLBACK")
            raise

    def add(self, entry_id: int, data: dict) -> None:
        self.rows.append([entry_id, *self.template, *self.project(data), *self.retired])
        for child in self.children:
            self.child_rows[child.table].extend(child.rows_of(entry_id, data))
        if len(self.rows) >= 2000:
            self.flush()

    def flush(self) -> None:
        if self.rows:
            self.db.conn.executemany(self.sql, self.rows)
            self.rows = []
        for table, rows in self.child_rows.items():
            if rows:
                self.db[table].insert_all(rows)
                rows.clear()

    def commit(self) -> None:
        try:
            self.flush()
        except BaseException:
            self._end("ROLLBACK")
            raise
        self._end("COMMIT")

    def rollback(self) -> None:
        self._end("ROLLBACK")

    def _end(self, statement: str) -> None:
        conn = self.db.conn if self.db is not None else None
        try:
            if conn is not None and conn.in_transaction:
                try:
                    conn.execute(statement)
                except BaseException:
                    # A failed COMMIT leaves the transaction open: close it,
                    # or the next write of this worker could not begin.
                    if conn.in_transaction:
                        conn.execute("ROLLBACK")
                    raise
        finally:
            self.store._lock.release()


def projector(fields: list[FieldSpec]):
    """A function giving an entry's values for these columns, in order.

    The same values as `to_column(spec, value_at(data, spec.path))`, with
    the work of walking the specs done once instead of at every row: a
    bulk import calls it a hundred thousand times.
    """
    paths = [spec.path for spec in fields]
    top = [path[0] for path in paths]
    nested = [(i, path) for i, path in enumerate(paths) if len(path) > 1]
    booleans = [i for i, spec in enumerate(fields) if spec.json_type == "boolean"]
    # Only a field that may hold a list or an object needs JSON text.
    composite = [
        i
        for i, spec in enumerate(fields)
        if spec.json_type not in ("boolean", "string", "integer", "number")
    ]

    def project(data: dict) -> list:
        values = list(map(data.get, top))
        for i, path in nested:
            values[i] = value_at(data, path)
        for i in booleans:
            if values[i] is not None:
                values[i] = int(bool(values[i]))
        for i in composite:
            if isinstance(values[i], (list, dict)):
                values[i] = json.dumps(values[i], ensure_ascii=False)
        return values

    return project


@contextlib.contextmanager
def immediate(db: sqlite_utils.Database):
    """One write transaction, taking the write lock at once.

    BEGIN IMMEDIATE makes a second worker wait on the busy timeout instead
    of failing when it upgrades a read lock; sqlite-utils calls made inside
    nest as savepoints.
    """
    db.conn.execute("BEGIN IMMEDIATE")
    try:
        yield db
    except BaseException:
        if db.conn.in_transaction:
            db.conn.execute("ROLLBACK")
        raise
    db.conn.execute("COMMIT")


_SQL = {int: "INTEGER", float: "REAL", str: "TEXT"}


def _field_row(slug: str, table: str, column: str, spec: FieldSpec) -> dict | None:
    if not spec.published:
        return None
    return {
        "formulaire": slug,
        "tableau": table,
        "champ": column,
        "titre": spec.title,
        "finalite": spec.purpose_text,
        "type": spec.json_type,
        "obligatoire": int(spec.required),
        "position": spec.position,
    }


class ChildTable:
    """The published table of a repeatable group: `<slug>__<field>`.

    One row per item, tied to its entry by `_entry_id` (a foreign key, so
    Datasette links them) and ordered by `_position`.
    """

    def __init__(self, slug: str, spec: FieldSpec):
        self.spec = spec
        self.table = f"{slug}__{spec.column}"
        self.depth = len(spec.path) + 1

    def leaves(self):
        """(column, spec) of each published field of an item."""
        for leaf in _item_leaves(self.spec.children):
            if leaf.published:
                yield "__".join(leaf.path[self.depth :]), leaf

    def columns(self) -> dict:
        columns = {"_entry_id": int, "_position": int}
        for column, leaf in self.leaves():
            columns[column] = PY_TYPES[leaf.sql_type]
        return columns

    def rows_of(
        self, entry_id: int, data: dict, retired: dict | None = None
    ) -> list[dict]:
        """The rows of one entry's list, in order.

        A list removed from the form reads its items from the entry's
        retired values ({column: value}), where the migration put them.
        """
        if self.spec.retired:
            items = (retired or {}).get(self.spec.column) or []
        else:
            items = value_at(data, self.spec.path) or []
        return [
            self.row(entry_id, position, item)
            for position, item in enumerate(items)
            if isinstance(item, dict)
        ]

    def row(self, entry_id: int, position: int, item: dict) -> dict:
        row = {"_entry_id": entry_id, "_position": position}
        for column, leaf in self.leaves():
            row[column] = to_column(leaf, value_at(item, leaf.path[self.depth :]))
        return row


def _item_leaves(specs):
    # Inside a list item, groups are flattened; a list in a list is a JSON leaf.
    for spec in specs:
        if spec.is_group:
            yield from _item_leaves(spec.children)
        else:
            yield spec


def child_tables(slug: str, specs: list[FieldSpec]) -> list[ChildTable]:
    return [ChildTable(slug, spec) for spec in lists_of(specs) if spec.published]


def expected_columns(specs: list[FieldSpec]) -> dict:
    columns = dict(RESERVED_COLUMNS)
    for spec in leaves(specs):
        if spec.published:
            columns[spec.column] = PY_TYPES[spec.sql_type]
    return columns


def _foreign_keys(db, specs) -> list:
    keys = []
    for spec in leaves(specs):
        if spec.published and spec.ref and db[spec.ref["form"]].exists():
            keys.append((spec.column, spec.ref["form"], "_id"))
    return keys


def public_row(
    entry: Entry, specs: list[FieldSpec], org_codes: dict, data: dict | None = None
) -> dict:
    """An entry in the representation of INTERFACE.md's type table."""
    data = entry.data if data is None else data
    row = {
        "_id": entry.id,
        "_revision": entry.revision,
        "_form_version": entry.form_version,
        "_state": entry.state,
        "_organisation": org_codes.get(entry.organisation_id),
        "_created_at": _iso(entry.created_at),
        "_updated_at": _iso(entry.updated_at),
    }
    retired = None
    for spec in leaves(specs):
        if not spec.published:
            continue
        if spec.retired:
            if retired is None:
                retired = json.loads(getattr(entry, "retired_json", None) or "{}")
            value = retired.get(spec.column)
        else:
            value = value_at(data, spec.path)
        row[spec.column] = to_column(spec, value)
    return row


def _iso(moment) -> str:
    """A stored instant as ISO 8601 in UTC, always with its offset.

    The private store keeps UTC without an offset (SQLAlchemy's text, or a
    naive datetime once read back); a fresh entry still holds an aware
    one. All three give the same text, so a rebuild changes nothing.
    """
    if isinstance(moment, str):
        moment = datetime.fromisoformat(moment)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).isoformat()


def to_column(spec: FieldSpec, value):
    if value is None:
        return None
    if spec.json_type == "boolean":
        return int(bool(value))
    if isinstance(value, (list, dict)):
        return json.dumps(value, ensure_ascii=False)
    return value


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def form_info(form, version, org_codes: dict) -> dict:
    """What the catalogue and Datasette's metadata say about a form."""
    from flask import current_app

    schema = version.schema
    license_ = schema.get("x-license") or {}
    if isinstance(license_, str):
        license_ = {"title": license_}
    source = schema.get("x-source") or {}
    if isinstance(source, str):
        source = {"title": source}
    return {
        "slug": form.slug,
        "title": schema.get("title") or form.slug,
        "description": schema.get("x-purpose") or schema.get("description") or "",
        "version": version.number,
        "status": form.status,
        "license": license_.get("title") or current_app.config["DNT_DEFAULT_LICENSE"],
        "license_url": license_.get("url")
        or (
            current_app.config["DNT_DEFAULT_LICENSE_URL"]
            if not license_.get("title")
            else ""
        ),
        "source": source.get("title") or "",
        "source_url": source.get("url") or "",
        "org_codes": org_codes,
    }


def sync_form(store: PublicStore, form) -> None:
    """Bring a form's public table in line with the private store."""
    from .db import db
    from .models import Organisation
    from .schemas.versions import current_version

    version = current_version(form)
    if version is None:
        return
    from .schemas.versions import publication_specs

    org_codes = dict(
        db.session.execute(db.select(Organisation.id, Organisation.code)).all()
    )
    entries = db.session.execute(db.select(Entry).filter_by(form_id=form.id)).scalars()
    store.project_form(
        form_info(form, version, org_codes), publication_specs(form, version), entries
    )


def sync_all(store: PublicStore, rebuild: bool = False) -> int:
    """Repair (or, with rebuild, recreate) every form's projection."""
    from .db import db
    from .models import Form

    if rebuild:
        store.drop_all()
    forms = db.session.execute(db.select(Form).order_by(Form.id)).scalars().all()
    for form in forms:
        sync_form(store, form)
    return len(forms)
