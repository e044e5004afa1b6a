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
