"""What the administration pages and the command line both do to accounts and forms."""

from __future__ import annotations

import logging

from ..db import db
from ..errors import DntFormsError
from ..models import Form, Organisation, User

logger = logging.getLogger(__name__)

ORG_CODE_HELP = (
    "un SIREN de 9 chiffres (clé de contrôle comprise) ou un code INSEE de "
    "commune de 5 caractères (ex. 75056, 2A004)"
)


class FormStatusError(DntFormsError):
    """A status change the form does not allow (reopening a form never published)."""


def split_codes(text: str | None) -> list[str]:
    """The items of a comma-separated column (codes, slugs), blanks dropped."""
    return [c.strip() for c in (text or "").split(",") if c.strip()]


def set_active(user: User, active: bool) -> bool:
    """Enable or disable an account; False when it already was so."""
    if user.active == active:
        return False

    user.active = active
    if not active:
        # Each session remembers the version it was opened with: raising it
        # ends every open session at its next request, not when it expires.
        user.session_version += 1
    db.session.commit()
    logger.info("account %s %s", user.id, "enabled" if active else "disabled")
    return True


def unknown_org_codes(codes: list[str]) -> list[str]:
    """The codes that name no organisation."""
    known = set(db.session.execute(db.select(Organisation.code)).scalars())
    return [code for code in codes if code not in known]


def restrict_form(form: Form, codes: list[str]) -> None:
    """Open the form to these organisations only; no code opens it to all."""
    form.restricted_orgs = ",".join(sorted(set(codes)))
    db.session.commit()
    logger.info(
        "form %s restricted to %s organisation(s) (0: all)", form.slug, len(set(codes))
    )


def reopen(form: Form) -> None:
    """Accept new entries again in a closed form."""
    if not form.current_version:
        raise FormStatusError(
            f"Le formulaire « {form.slug} » n'a aucune version publiée : "
            "publiez-en une au lieu de le rouvrir."
        )

    form.status = "published"
    db.session.commit()
    logger.info("form %s reopened", form.slug)


def managers_of(form: Form) -> list[User]:
    """The manager accounts named on this form (administrators manage all)."""
    managers = db.session.execute(
        db.select(User).filter_by(role="manager").order_by(User.email)
    ).scalars()
    return [user for user in managers if form.slug in split_codes(user.managed_forms)]
