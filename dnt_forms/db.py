"""The private, authoritative store: Flask-SQLAlchemy on instance/private.db."""

from __future__ import annotations

import sqlite3

from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase

BUSY_TIMEOUT_MS = 10_000


class Base(DeclarativeBase):
    pass


db = SQLAlchemy(model_class=Base)


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection, connection_record):
    # Every worker writes the same files: WAL lets readers go on while one
    # writes, and the busy timeout makes a second writer wait, not fail.
    if not isinstance(dbapi_connection, sqlite3.Connection):
        return
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def add_missing_columns() -> list[str]:
    """Add the columns a newer version of the models declares.

    create_all() makes missing tables but never alters existing ones; new
    columns are all nullable or defaulted, so ALTER TABLE ADD COLUMN is
    enough and keeps every row.
    """
    from sqlalchemy import inspect, text

    added = []
    inspector = inspect(db.engine)
    for table in db.metadata.sorted_tables:
        if not inspector.has_table(table.name):
            continue
        present = {c["name"] for c in inspector.get_columns(table.name)}
        for column in table.columns:
            if column.name in present:
                continue
            kind = column.type.compile(dialect=db.engine.dialect)
            default = ""
            if column.server_default is not None:
                default = f" DEFAULT '{column.server_default.arg}'"
            with db.engine.begin() as conn:
                conn.execute(
                    text(
                        f'ALTER TABLE "{table.name}" ADD COLUMN "{column.name}" {kind}{default}'
                    )
                )
            added.append(f"{table.name}.{column.name}")
    return added


def engine_options() -> dict:
    """SQLAlchemy engine options: a small pool of long-lived connections."""
    # SQLAlchemy keeps these connections open for the life of the worker
    # process, so no request pays for opening the file.
    return {
        "pool_size": 4,
        "max_overflow": 4,
        "pool_pre_ping": False,
        "connect_args": {"timeout": BUSY_TIMEOUT_MS / 1000, "check_same_thread": False},
    }
