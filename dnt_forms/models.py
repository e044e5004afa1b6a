"""Tables of the private store."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from sqlalchemy import (
    Boolean,
    DateTime,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .db import db

ROLES = ("admin", "manager", "agent")
ENTRY_STATES = ("draft", "submitted", "to_complete", "withdrawn")
# States that reach public.db. Drafts and withdrawn entries never do.
PUBLISHED_STATES = ("submitted", "to_complete")


def utcnow() -> datetime:
    return datetime.now(UTC)


class Organisation(db.Model):
    __tablename__ = "organisations"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(14), unique=True)
    name: Mapped[str] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow
    )


class User(db.Model):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(320), unique=True)
    password_hash: Mapped[str | None] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(10), default="agent")
    organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id"))
    # Slugs of the forms a manager manages, comma-separated.
    managed_forms: Mapped[str] = mapped_column(Text, default="")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # Raised to end every session of the account (disable, password change).
    session_version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow
    )

    organisation: Mapped[Organisation | None] = relationship()

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"

    @property
    def org_code(self) -> str | None:
        return self.organisation.code if self.organisation else None


class ApiToken(db.Model):
    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    # Only a SHA-256 of the token is kept: the token itself is shown once.
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    scope: Mapped[str] = mapped_column(String(5), default="write")
    forms: Mapped[str] = mapped_column(Text, default="")
    revoked: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow
    )

    user: Mapped[User] = relationship()

    def allows_form(self, slug: str) -> bool:
        return not self.forms or slug in self.forms.split(",")


class OneTimeLink(db.Model):
    """A single-use link to sign in and choose a password."""

    __tablename__ = "one_time_links"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    used: Mapped[bool] = mapped_column(Boolean, default=False)

    user: Mapped[User] = relationship()


class Form(db.Model):
    __tablename__ = "forms"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(63), unique=True)
    # draft: invisible to agents; published: open; closed: no new entries.
    status: Mapped[str] = mapped_column(String(10), default="published")
    # Version number currently used for new entries (0 while only drafts).
    current_version: Mapped[int] = mapped_column(Integer, default=0)
    # Where the form came from (a file of form_schemas/, or an import).
    origin: Mapped[str | None] = mapped_column(Text)
    # Codes of the organisations the form is open to, comma-separated;
    # empty means every organisation.
    restricted_orgs: Mapped[str] = mapped_column(Text, default="", server_default="")
    # Fields removed by a later version whose columns stay published
    # (JSON list, see migrate.py).
    retired_json: Mapped[str] = mapped_column(Text, default="[]", server_default="[]")
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow
    )

    versions: Mapped[list[FormVersion]] = relationship(
        back_populates="form", order_by="FormVersion.number"
    )


class FormVersion(db.Model):
    __tablename__ = "form_versions"
    __table_args__ = (UniqueConstraint("form_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    form_id: Mapped[int] = mapped_column(ForeignKey("forms.id"))
    number: Mapped[int] = mapped_column(Integer)
    published: Mapped[bool] = mapped_column(Boolean, default=False)
    # The canonical form schema (JSON Schema with our x- extensions).
    schema_json: Mapped[str] = mapped_column(Text)
    # The file as it was given, and its kind ("jsonschema" or "tableschema").
    source_text: Mapped[str] = mapped_column(Text)
    source_kind: Mapped[str] = mapped_column(String(12))
    # SHA-256 of the canonical schema, to tell a changed file from the same one.
    digest: Mapped[str] = mapped_column(String(64))
    warnings_json: Mapped[str] = mapped_column(Text, default="[]")
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow
    )

    form: Mapped[Form] = relationship(back_populates="versions")

    @property
    def schema(self) -> dict:
        return json.loads(self.schema_json)


class Entry(db.Model):
    __tablename__ = "entries"

    id: Mapped[int] = mapped_column(primary_key=True)
    form_id: Mapped[int] = mapped_column(ForeignKey("forms.id"), index=True)
    form_version: Mapped[int] = mapped_column(Integer)
    revision: Mapped[int] = mapped_column(Integer, default=1)
    state: Mapped[str] = mapped_column(String(12), default="submitted")
    organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id"))
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    data_json: Mapped[str] = mapped_column(Text)
    # Values of fields a later version removed: {column: value}, kept.
    retired_json: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow
    )
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow
    )

    form: Mapped[Form] = relationship()
    organisation: Mapped[Organisation | None] = relationship()

    @property
    def data(self) -> dict:
        return json.loads(self.data_json)


class EntryKey(db.Model):
    """The natural keys an entry holds; the unique index settles races."""

    __tablename__ = "entry_keys"
    __table_args__ = (UniqueConstraint("form_id", "key_name", "key_value"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    form_id: Mapped[int] = mapped_column(ForeignKey("forms.id"))
    entry_id: Mapped[int] = mapped_column(
        ForeignKey("entries.id", ondelete="CASCADE"), index=True
    )
    key_name: Mapped[str] = mapped_column(Text)
    key_value: Mapped[str] = mapped_column(Text)


class LoginFailure(db.Model):
    """A failed sign-in, counted per account and per address.

    Kept in the private database so that every gunicorn worker sees the
    same counters.
    """

    __tablename__ = "login_failures"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(400), index=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class EntryHistory(db.Model):
    __tablename__ = "entry_history"

    id: Mapped[int] = mapped_column(primary_key=True)
    entry_id: Mapped[int] = mapped_column(ForeignKey("entries.id"), index=True)
    revision: Mapped[int] = mapped_column(Integer)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    action: Mapped[str] = mapped_column(String(12))
    # {"field": [old, new], ...}
    changes_json: Mapped[str] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    user: Mapped[User | None] = relationship()
