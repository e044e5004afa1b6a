"""Bulk import of a CSV or XLSX file into a form: all rows, or none.

Each row is read, converted and validated exactly as an entry posted by an
agent would be; the report names every faulty row by its line in the file
(the header is line 1) and every faulty field by its column. Rows are
written as they are read, inside one transaction of the private store that
is rolled back at the first error (reading goes on, to report everything),
so memory stays flat however long the file is. Their public rows go into a
transaction of public.db at the same time, committed just after the
private one.

How cells are read (strictly for a Table Schema form, the French way for
the others) is in cells.py.
"""

from __future__ import annotations

import csv
import io
import json
import logging
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from flask import current_app
from sqlalchemy import select

from .cells import Problem, extra_cells, match_columns, row_reader
from .compiler import FieldSpec, leaves
from .db import db
from .entries import OpenForm, reference_errors
from .fastcheck import compile_check
from .models import Organisation, User, utcnow
from .permissions import form_open_to, form_open_to_org
from .publish import form_info, sync_form
from .schemas.versions import publication_specs
from .store import key_reader
from .tabular import (
    Table,
    UnreadableFile,
    frictionless_schema,
    open_table,
)
from .validation import apply_read_only, validate_data

logger = logging.getLogger(__name__)

# Rows written, and keys checked, this many at a time. Speed (issue 5: at
# least half the rows/s of sqlite-utils insert_all, validation included) is
# measured by benchmarks/import_bench.py; per row, the work that does not
# depend on the row (where a column goes, which check a field needs) is
# done once per import, before the first row.
BATCH = 2000
# Beyond this many problems the report stops: the file needs fixing anyway.
MAX_PROBLEMS = 1000


@dataclass
class ImportRefused(Exception):
    problems: list[Problem]
    rows: int = 0
    truncated: bool = False

    def __str__(self) -> str:
        count = f"{len(self.problems)} erreur(s)"
        if self.truncated:
            count = f"au moins {len(self.problems)} erreurs (rapport arrêté)"
        return f"import refusé : {count}, aucune ligne enregistrée"

    def report_csv(self) -> str:
        """The report as a CSV file an admin opens in a spreadsheet."""
        out = io.StringIO()
        writer = csv.writer(out, delimiter=";")
        writer.writerow(["ligne", "colonne", "champ", "erreur"])
        for problem in self.problems:
            writer.writerow(
                [
                    problem.line,
                    problem.column or "",
                    problem.field or "",
                    problem.message,
                ]
            )
        if self.truncated:
            writer.writerow(["", "", "", f"… arrêt après {MAX_PROBLEMS} erreurs"])
        return out.getvalue()


@dataclass
class ImportResult:
    created: int
    first_id: int | None
    kind: str
    columns: list[str] = field(default_factory=list)


_to_json = json.JSONEncoder(ensure_ascii=False, check_circular=False).encode


class _Writer:
    """Entries, keys and their publication written in batches.

    Plain executemany on the session's connection, inside the import's one
    transaction: the ORM would cost more than all the rest of an import.
    The public rows go into public.db's own transaction at the same time,
    committed after this one (see publish.BulkInsert).
    """

    ENTRY_SQL = (
        "INSERT INTO entries (id, form_id, form_version, revision, state, "
        "organisation_id, author_id, data_json, created_at, updated_at) "
        "VALUES (?, ?, ?, 1, 'submitted', ?, ?, ?, ?, ?)"
    )
    KEY_SQL = (
        "INSERT INTO entry_keys (form_id, entry_id, key_name, key_value) "
        "VALUES (?, ?, ?, ?)"
    )
    # One statement for the whole import: each history line says
    # "imported", the values are the entry's own.
    HISTORY_SQL = (
        "INSERT INTO entry_history (entry_id, revision, user_id, action, "
        "changes_json, at) SELECT id, 1, ?, 'import', '{}', ? FROM entries "
        "WHERE form_id = ? AND id BETWEEN ? AND ?"
    )

    def __init__(
        self, opened: OpenForm, user: User | None, organisation: Organisation | None
    ):
        self.opened = opened
        # Read once: an ORM attribute costs more than a plain one, per row.
        self.form_id = opened.form.id
        self.version = opened.version.number
        self.conn = db.session.connection()
        # Take the write lock first, so that the ids counted next stay free.
        self.conn.exec_driver_sql("UPDATE entries SET id = id WHERE id = -1")
        last = self.conn.exec_driver_sql("SELECT max(id) FROM entries").scalar()
        self.first_id = (last or 0) + 1
        self.next_id = self.first_id
        now = utcnow()
        # As SQLAlchemy stores a DateTime in SQLite.
        self.now = now.strftime("%Y-%m-%d %H:%M:%S.%f")
        if organisation is not None:
            self.org = organisation.id
        else:
            self.org = user.organisation_id if user else None
        self.author = user.id if user else None
        self.entries, self.keys = [], []
        self.count = 0
        self.raw = self.conn.connection.dbapi_connection.cursor()
        self.public = _open_publication(opened, self.org, now)

    def add(self, data: dict, keys: list) -> None:
        entry_id = self.next_id
        self.next_id += 1
        form = self.form_id
        self.entries.append(
            (
                entry_id,
                form,
                self.version,
                self.org,
                self.author,
                _to_json(data),
                self.now,
                self.now,
            )
        )
        for name, value, _ in keys:
            self.keys.append((form, entry_id, name, value))
        self.public.add(entry_id, data)
        self.count += 1

    def flush(self) -> None:
        """Write the rows added since the last call (at most BATCH), once
        their keys are known to be free: the unique index would refuse them."""
        if self.entries:
            self.raw.executemany(self.ENTRY_SQL, self.entries)
        if self.keys:
            self.raw.executemany(self.KEY_SQL, self.keys)
        self.entries, self.keys = [], []

    def finish(self) -> None:
        """Write what is left and the history; the caller commits."""
        self.flush()
        if self.count:
            self.raw.execute(
                self.HISTORY_SQL,
                (
                    self.author,
                    self.now,
                    self.form_id,
                    self.first_id,
                    self.next_id - 1,
                ),
            )


class _KeyCheck:
    """Natural keys checked against the form's entries and the file's rows.

    Claims are checked a batch at a time, in a temporary SQLite table
    rather than in memory, so that memory stays flat: the keys of the form
    and of the file so far (a line of the file, or minus the id of the
    stored entry that holds it).
    """

    def __init__(self, raw: sqlite3.Cursor, form_id: int, by_field: dict):
        self.raw = raw
        self.by_field = by_field
        self.pending: dict[tuple, tuple] = {}
        raw.execute("DROP TABLE IF EXISTS temp.import_keys")
        raw.execute(
            "CREATE TEMP TABLE import_keys (name TEXT, value TEXT, line INTEGER, "
            "PRIMARY KEY (name, value)) WITHOUT ROWID"
        )
        raw.execute(
            "INSERT INTO temp.import_keys SELECT key_name, key_value, -entry_id "
            "FROM entry_keys WHERE form_id = ?",
            (form_id,),
        )

    def claim(self, keys: list, line: int) -> list[Problem]:
        """The row's keys taken by an earlier row of the same batch; the
        others are checked by flush(), which the caller calls every BATCH
        rows."""
        found = []
        for name, value, specs in keys:
            first = self.pending.setdefault((name, value), (line, specs[0]))
            if first[0] != line:
                found.append(self._taken(line, name, value, specs[0], first[0]))
        return found

    def flush(self) -> list[Problem]:
        """The rows of the batch whose keys earlier batches or stored
        entries hold; the batch's keys are then held too."""
        found = []
        if self.pending:
            batch = [(n, v, line) for (n, v), (line, _) in self.pending.items()]
            self.raw.executemany(
                "INSERT OR IGNORE INTO temp.import_keys VALUES (?, ?, ?)", batch
            )
            # Every key was free (the usual case) when every one went in.
            if self.raw.rowcount != len(batch):
                for name, value, line in batch:
                    holder = self.raw.execute(
                        "SELECT line FROM temp.import_keys WHERE name = ? AND value = ?",
                        (name, value),
                    ).fetchone()[0]
                    if holder != line:
                        spec = self.pending[(name, value)][1]
                        found.append(self._taken(line, name, value, spec, holder))
            self.pending = {}
        return found

    def _taken(
        self, line: int, name: str, value: str, spec: FieldSpec, holder: int
    ) -> Problem:
        parts = json.loads(value)
        shown = " + ".join(map(str, parts)) if isinstance(parts, list) else parts
        by = f"la ligne {holder}" if holder > 0 else f"l'entrée n° {-holder}"
        return Problem(
            line,
            self.by_field.get(spec.html_name, spec.title),
            f"« {shown} » déjà pris par {by} (clé « {name} »)",
            spec.html_name,
            kind="key",
        )

    def drop(self) -> None:
        self.raw.execute("DROP TABLE IF EXISTS temp.import_keys")


def import_file(
    opened: OpenForm,
    path: Path,
    user: User | None,
    progress: Callable[[int], None] | None = None,
    table: Table | None = None,
    organisation: Organisation | None = None,
) -> ImportResult:
    """Load every row of the file into the form, or raise ImportRefused.

    The entries belong to `organisation` when given (an administrator
    loading the files an organisation kept), else to the user's own.
    """
    try:
        table = table or open_table(path)
    except UnreadableFile as exc:
        raise ImportRefused([Problem(1, None, str(exc))]) from None
    if opened.form.status == "closed":
        raise ImportRefused(
            [
                Problem(
                    1, None, "formulaire clos : il n'accepte plus de nouvelles entrées"
                )
            ]
        )
    if user is not None and not form_open_to(opened.form, user):
        why = (
            f"le compte {user.email} est désactivé"
            if not user.active
            else f"le formulaire n'est pas ouvert à l'organisation de {user.email}"
        )
        raise ImportRefused([Problem(1, None, why)])
    if organisation is not None and not form_open_to_org(opened.form, organisation):
        raise ImportRefused(
            [
                Problem(
                    1,
                    None,
                    f"le formulaire n'est pas ouvert à l'organisation "
                    f"{organisation.code} ({organisation.name})",
                )
            ]
        )
    strict = frictionless_schema(opened.version) is not None
    # A header with problems is refused, but the rows are still read with
    # the columns it matched: one pass lists every error of the file.
    columns, problems = match_columns(table.header, opened, strict)

    schema_json = opened.version.schema_json
    quick = compile_check(opened.schema)
    readonly = any(spec.readonly for spec in leaves(opened.specs))
    refs = any(spec.ref for spec in leaves(opened.specs))
    by_field = {c.spec.html_name: c.header for c in columns}
    # A required column the header lacks is said once, there, not on each row.
    absent = {
        spec.html_name
        for spec in leaves(opened.specs)
        if spec.required and len(spec.path) == 1 and spec.html_name not in by_field
    }
    named_width = table.header.index("") if "" in table.header else len(table.header)
    read_row = row_reader(columns)
    read_keys = key_reader(opened.schema, opened.specs)
    rows = 0
    truncated = False
    writer = None
    try:
        writer = _Writer(opened, user, organisation)
        key_check = _KeyCheck(writer.raw, opened.form.id, by_field)
        for line, cells in table.rows:
            rows += 1
            if progress and rows % 1000 == 0:
                progress(1000)
            # Only a row wider than the named header can hold a lost value.
            found: list[Problem] = (
                extra_cells(table.header, cells, line)
                if len(cells) > named_width
                else []
            )
            data = read_row(cells, line, found)
            if readonly:
                found += _as_problems(
                    apply_read_only(data, opened.specs, None), line, by_field
                )
            if found or not (quick and quick(data)):
                # A cell that could not be read has its message already;
                # the schema would only add "required" for it.
                unreadable = {p.field for p in found} | absent
                errors = validate_data(schema_json, data, opened.specs)
                errors = [e for e in errors if e.get("field") not in unreadable]
                found += _as_problems(errors, line, by_field)
            if not found and refs:
                found += _as_problems(reference_errors(opened, data), line, by_field)
            # Keys are checked on every row, as a validator would: a key
            # repeated by a faulty row is reported too.
            keys = read_keys(data)
            if keys:
                found += key_check.claim(keys, line)
            if found:
                problems += found
            elif not problems:
                writer.add(data, keys)
            if rows % BATCH == 0:
                problems += key_check.flush()
                if not problems:
                    writer.flush()
            if len(problems) >= MAX_PROBLEMS:
                truncated = True
                break
        if progress:
            progress(rows % 1000)
        problems += key_check.flush()
        if problems:
            # Key problems are found a batch at a time: back to file order.
            problems.sort(key=lambda problem: problem.line)
            truncated = truncated or len(problems) > MAX_PROBLEMS
            raise ImportRefused(problems[:MAX_PROBLEMS], rows, truncated)
        if rows == 0:
            raise ImportRefused(
                [Problem(2, None, "aucune ligne de données sous l'en-tête")]
            )
        writer.finish()
        key_check.drop()
        db.session.commit()
    except UnreadableFile as exc:
        _abandon(writer)
        raise ImportRefused(
            [*problems, Problem(rows + 1, None, str(exc))], rows
        ) from None
    except BaseException:
        _abandon(writer)
        raise
    _publish(opened, writer.public)
    logger.info(
        "form %s: %s rows imported from %s", opened.slug, writer.count, Path(path).name
    )
    return ImportResult(
        writer.count, writer.first_id, table.kind, [c.header for c in columns]
    )


def _publish(opened: OpenForm, public) -> None:
    """Commit the public rows; the entries are stored whatever happens here.

    Raising now would tell the admin that the import failed, and invite a
    second one: a failure is logged, and the projection, derived from the
    private store, is rebuilt now or, failing that, at the next start.
    """
    store = current_app.extensions["dnt_public"]
    try:
        public.commit()
        if not public.reshaped:
            return
    except Exception:
        logger.exception("form %s: public rows of the import not written", opened.slug)
    try:
        sync_form(store, opened.form)
    except Exception:
        logger.exception(
            "form %s: public table left for the repair at next start", opened.slug
        )


def _abandon(writer: _Writer | None) -> None:
    db.session.rollback()
    if writer is not None and writer.public is not None:
        writer.public.rollback()


def _as_problems(errors: list[dict], line: int, by_field: dict) -> list[Problem]:
    out = []
    for error in errors:
        column = by_field.get(error.get("field")) or error.get("title") or error["path"]
        out.append(Problem(line, column, error["message"], error.get("field")))
    return out


def _open_publication(opened: OpenForm, organisation_id: int | None, now):
    """public.db's transaction for the import's entries (see _Writer)."""
    store = current_app.extensions["dnt_public"]
    org_codes = dict(
        db.session.execute(select(Organisation.id, Organisation.code)).all()
    )
    info = form_info(opened.form, opened.version, org_codes)
    specs = publication_specs(opened.form, opened.version)
    shared = {
        "revision": 1,
        "form_version": opened.version.number,
        "state": "submitted",
        "organisation_id": organisation_id,
        "created_at": now,
        "updated_at": now,
    }
    return store.bulk_insert(info, specs, shared)
