"""Accounts, passwords, sessions, one-time links and API tokens."""

from __future__ import annotations

import functools
import hashlib
import logging
import secrets
from datetime import UTC, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app, g, redirect, request, session, url_for

from .db import db
from .models import ApiToken, LoginFailure, OneTimeLink, Organisation, User, utcnow

logger = logging.getLogger(__name__)

_hasher = PasswordHasher()
# Verified against when the account does not exist, so that a wrong email
# takes as long as a wrong password and does not reveal which accounts exist.
_DUMMY_HASH = _hasher.hash("dnt-forms-dummy-password")
MIN_PASSWORD_LENGTH = 10


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def check_password(user: User | None, password: str) -> bool:
    stored = user.password_hash if user and user.password_hash else _DUMMY_HASH
    try:
        _hasher.verify(stored, password)
    except (VerificationError, InvalidHashError):
        return False
    return user is not None and user.password_hash is not None and user.active


def password_problem(password: str) -> str | None:
    if len(password) < MIN_PASSWORD_LENGTH:
        return (
            f"Le mot de passe doit compter au moins {MIN_PASSWORD_LENGTH} caractères."
        )
    return None


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def find_user(email: str) -> User | None:
    return db.session.execute(
        db.select(User).filter_by(email=email.strip().lower())
    ).scalar_one_or_none()


def find_org(code: str) -> Organisation | None:
    return db.session.execute(
        db.select(Organisation).filter_by(code=code)
    ).scalar_one_or_none()


def create_user(
    email: str,
    role: str,
    org: Organisation | None = None,
    password: str | None = None,
    forms: list[str] | None = None,
) -> User:
    user = User(
        email=email.strip().lower(),
        role=role,
        organisation_id=org.id if org else None,
        password_hash=hash_password(password) if password else None,
        managed_forms=",".join(forms or []),
    )
    db.session.add(user)
    db.session.commit()
    logger.info("account %s created with role %s", user.id, role)
    return user


def make_one_time_link(user: User) -> str:
    """A fresh single-use token; only its hash is stored.

    It replaces the user's earlier links: a link is asked for again when
    one was lost, and a lost link must not stay usable by whoever finds it.
    """
    token = secrets.token_urlsafe(32)
    hours = current_app.config["DNT_ONE_TIME_LINK_HOURS"]
    _retire_links(user.id)
    db.session.add(
        OneTimeLink(
            user_id=user.id,
            token_hash=sha256(token),
            expires_at=utcnow() + timedelta(hours=hours),
        )
    )
    db.session.commit()
    return token


def use_one_time_link(token: str) -> User | None:
    link = db.session.execute(
        db.select(OneTimeLink).filter_by(token_hash=sha256(token))
    ).scalar_one_or_none()
    if link is None or link.used or _aware(link.expires_at) < utcnow():
        return None
    return link.user if link.user.active else None


def consume_one_time_link(token: str) -> None:
    link = db.session.execute(
        db.select(OneTimeLink).filter_by(token_hash=sha256(token))
    ).scalar_one_or_none()
    if link is not None:
        # The password is chosen: no other link of the account may change it.
        _retire_links(link.user_id)
        db.session.commit()


def _retire_links(user_id: int) -> None:
    db.session.execute(
        db.update(OneTimeLink)
        .where(OneTimeLink.user_id == user_id, OneTimeLink.used.is_(False))
        .values(used=True)
    )


def _aware(moment):
    # SQLite gives back naive datetimes; they were stored in UTC.

    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def create_token(
    user: User, scope: str = "write", forms: list[str] | None = None
) -> str:
    token = "dnt_" + secrets.token_urlsafe(32)
    db.session.add(
        ApiToken(
            user_id=user.id,
            token_hash=sha256(token),
            scope=scope,
            forms=",".join(forms or []),
        )
    )
    db.session.commit()
    logger.info("API token created for account %s (scope %s)", user.id, scope)
    return token


def revoke_tokens(user: User) -> int:
    tokens = (
        db.session.execute(
            db.select(ApiToken).filter_by(user_id=user.id, revoked=False)
        )
        .scalars()
        .all()
    )
    for token in tokens:
        token.revoked = True
    db.session.commit()
    return len(tokens)


def token_from_request() -> ApiToken | None:
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        return None
    token = db.session.execute(
        db.select(ApiToken).filter_by(token_hash=sha256(value.strip()))
    ).scalar_one_or_none()
    if token is None or token.revoked or not token.user.active:
        return None
    return token


# Failed sign-ins allowed in the window, per account and per address. An
# address gets more: several agents of one town hall share one.
FAILURE_WINDOW = timedelta(minutes=15)
MAX_FAILURES_ACCOUNT = 5
MAX_FAILURES_ADDRESS = 30


def _failure_keys(email: str, address: str | None) -> tuple[str, str]:
    return f"compte:{email.strip().lower()}", f"adresse:{address or '?'}"


def sign_in_wait(email: str, address: str | None) -> int | None:
    """Minutes to wait before trying again, or None if a try is allowed."""
    since = utcnow() - FAILURE_WINDOW
    waits = []
    for key, limit in zip(
        _failure_keys(email, address), (MAX_FAILURES_ACCOUNT, MAX_FAILURES_ADDRESS)
    ):
        times = (
            db.session.execute(
                db.select(LoginFailure.at)
                .filter(LoginFailure.key == key, LoginFailure.at >= since)
                .order_by(LoginFailure.at.desc())
                .limit(limit)
            )
            .scalars()
            .all()
        )
        if len(times) >= limit:
            oldest = _aware(times[-1])
            waits.append(oldest + FAILURE_WINDOW - utcnow())
    if not waits:
        return None
    return max(1, int(max(waits).total_seconds() // 60) + 1)


def record_failure(email: str, address: str | None) -> None:
    now = utcnow()
    for key in _failure_keys(email, address):
        db.session.add(LoginFailure(key=key, at=now))
    # Old failures no longer count: keep the table small.
    db.session.execute(
        db.delete(LoginFailure).where(LoginFailure.at < now - FAILURE_WINDOW)
    )
    db.session.commit()


def clear_failures(email: str) -> None:
    key = _failure_keys(email, None)[0]
    db.session.execute(db.delete(LoginFailure).where(LoginFailure.key == key))
    db.session.commit()


def sign_in(user: User) -> None:
    session.clear()
    session.permanent = True
    session["user_id"] = user.id
    session["session_version"] = user.session_version


def sign_out() -> None:
    session.clear()


def current_user() -> User | None:
    if "current_user" in g:
        return g.current_user
    user = None
    user_id = session.get("user_id")
    if user_id is not None:
        user = db.session.get(User, user_id)
        if (
            user is None
            or not user.active
            or session.get("session_version") != user.session_version
        ):
            user = None
            session.clear()
    g.current_user = user
    return user


def _here() -> str:
    query = request.query_string.decode()
    return f"{request.path}?{query}" if query else request.path


def login_required(view):
    @functools.wraps(view)
    def wrapped(*args, **kwargs):
        if current_user() is None:
            return redirect(url_for("auth.login", suivant=_here()))
        return view(*args, **kwargs)

    return wrapped


def admin_required(view):
    @functools.wraps(view)
    def wrapped(*args, **kwargs):
        user = current_user()
        if user is None:
            return redirect(url_for("auth.login", suivant=_here()))
        if not user.is_admin:
            from flask import abort

            abort(403)
        return view(*args, **kwargs)

    return wrapped


def valid_org_code(code: str) -> bool:
    """A SIREN (9 digits, Luhn check digit) or an INSEE commune code."""
    import re

    if re.fullmatch(r"(\d{2}|2[AB])\d{3}", code):
        return True
    if not re.fullmatch(r"\d{9}", code):
        return False
    # SIREN numbers carry a Luhn check digit.
    total = 0
    for i, char in enumerate(reversed(code)):
        digit = int(char) * (2 if i % 2 else 1)
        total += digit - 9 if digit > 9 else digit
    return total % 10 == 0
