"""Accounts: the list, a new account, one-time links, disabling."""

from __future__ import annotations

import logging
import re

from flask import (
    abort,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)

from ..auth import (
    admin_required,
    create_user,
    current_user,
    find_org,
    find_user,
    make_one_time_link,
    revoke_tokens,
)
from ..db import db
from ..models import ROLES, ApiToken, Organisation, User
from . import (
    ROLE_LABELS,
    all_forms,
    bp,
    errors_by_anchor,
    form_title,
    page_error,
    secret_page,
)
from .actions import set_active, split_codes

logger = logging.getLogger(__name__)

# Only a sanity check: the one-time link sent to the address is the real test.
EMAIL_PATTERN = re.compile(r"[^@\s]+@[^@\s]+")
# The width of User.email.
EMAIL_MAX = 320


def get_user_or_404(user_id: int) -> User:
    user = db.session.get(User, user_id)
    if user is None:
        abort(404)
    return user


def form_choices() -> list[dict]:
    """The forms offered as checkboxes: slug and title."""
    return [{"slug": form.slug, "title": form_title(form)} for form in all_forms()]


def one_time_link(user: User) -> str:
    """A new sign-in link for the account, to be shown once."""
    # The address the administrator is using is the one people can reach.
    return f"{request.host_url}connexion/lien/{make_one_time_link(user)}"


@bp.route("/comptes", methods=["GET", "POST"])
@admin_required
def accounts():
    values = {"email": "", "role": "agent", "organisation": "", "formulaires": []}
    errors: list[dict] = []
    if request.method == "POST":
        values = _read_account_form()
        errors = _account_errors(values)
        if not errors:
            return _create_account(values)

    users = db.session.execute(db.select(User).order_by(User.email)).scalars().all()
    orgs = (
        db.session.execute(db.select(Organisation).order_by(Organisation.code))
        .scalars()
        .all()
    )
    return (
        render_template(
            "admin/accounts.html",
            users=users,
            orgs=orgs,
            forms=form_choices(),
            values=values,
            page_errors=errors,
            field_errors=errors_by_anchor(errors),
            split_codes=split_codes,
        ),
        422 if errors else 200,
    )


def _read_account_form() -> dict:
    return {
        "email": request.form.get("email", "").strip().lower(),
        "role": request.form.get("role", ""),
        "organisation": request.form.get("organisation", "").strip(),
        "formulaires": request.form.getlist("formulaires"),
    }


def _account_errors(values: dict) -> list[dict]:
    errors = []
    email = values["email"]
    if len(email) > EMAIL_MAX or not EMAIL_PATTERN.fullmatch(email):
        said = (
            f"« {email} » n'est pas une adresse électronique complète"
            if email
            else "Indiquez l'adresse du compte"
        )
        errors.append(
            page_error(
                "email",
                "Adresse électronique",
                f"{said}, par exemple prenom.nom@commune.fr.",
            )
        )
    elif find_user(email):
        errors.append(
            page_error(
                "email",
                "Adresse électronique",
                f"Le compte {email} existe "
                "déjà : ouvrez-le dans la liste pour lui donner un lien.",
            )
        )

    if values["role"] not in ROLES:
        errors.append(page_error("role-agent", "Rôle", "Choisissez un rôle."))

    code = values["organisation"]
    if code and find_org(code) is None:
        errors.append(
            page_error(
                "organisation",
                "Organisation",
                f"Organisation {code} inconnue : choisissez-en une dans la liste.",
            )
        )

    errors += forms_errors(values["formulaires"], "Formulaires gérés")
    if values["formulaires"] and values["role"] != "manager":
        errors.append(
            page_error(
                forms_anchor(),
                "Formulaires gérés",
                "Seul un gestionnaire "
                "gère des formulaires : décochez-les ou choisissez le rôle "
                "Gestionnaire.",
            )
        )
    return errors


def forms_anchor() -> str:
    """The id of the first form checkbox, where form errors are linked."""
    forms = all_forms()
    return f"formulaire-{forms[0].slug}" if forms else ""


def forms_errors(slugs: list[str], title: str) -> list[dict]:
    """An error when a posted slug names no form (a page older than a change)."""
    known = {form.slug for form in all_forms()}
    unknown = [slug for slug in slugs if slug not in known]
    if not unknown:
        return []
    return [
        page_error(
            forms_anchor(),
            title,
            f"Formulaire(s) inconnu(s) : "
            f"{', '.join(unknown)}. Rechargez la page et recommencez.",
        )
    ]


def _create_account(values: dict):
    org = find_org(values["organisation"]) if values["organisation"] else None
    user = create_user(
        values["email"], values["role"], org, forms=values["formulaires"]
    )
    flash(f"Compte {user.email} créé ({ROLE_LABELS[user.role]}).", "succes")
    if org is None and user.role == "agent":
        flash(
            "Ce compte n'a pas d'organisation : ses entrées seront publiées sans "
            "producteur (_organisation vide).",
            "erreur",
        )
    return render_account(user, link=one_time_link(user))


def render_account(
    user: User,
    *,
    link: str | None = None,
    token: str | None = None,
    values: dict | None = None,
    errors: list[dict] | None = None,
):
    """The account page; a `link` or a `token` given here is shown this once only."""
    tokens = (
        db.session.execute(
            db.select(ApiToken).filter_by(user_id=user.id).order_by(ApiToken.id)
        )
        .scalars()
        .all()
    )
    errors = errors or []
    body = render_template(
        "admin/account.html",
        user=user,
        tokens=tokens,
        forms=form_choices(),
        is_self=user.id == current_user().id,
        split_codes=split_codes,
        link=link,
        token=token,
        values=values or {"scope": "write", "formulaires": []},
        page_errors=errors,
        field_errors=errors_by_anchor(errors),
    )
    return secret_page(make_response(body, 422 if errors else 200))


@bp.route("/comptes/<int:user_id>")
@admin_required
def account(user_id):
    return render_account(get_user_or_404(user_id))


@bp.route("/comptes/<int:user_id>/lien", methods=["POST"])
@admin_required
def new_link(user_id):
    user = get_user_or_404(user_id)
    if not user.active:
        flash(
            "Ce compte est désactivé : réactivez-le avant de lui donner un lien.",
            "erreur",
        )
        return redirect(url_for("admin.account", user_id=user.id))
    return render_account(user, link=one_time_link(user))


@bp.route("/comptes/<int:user_id>/desactiver", methods=["POST"])
@admin_required
def disable(user_id):
    user = get_user_or_404(user_id)
    if user.id == current_user().id:
        flash(
            "Vous ne pouvez pas désactiver votre propre compte : demandez-le à un "
            "autre administrateur.",
            "erreur",
        )
    elif set_active(user, False):
        flash(
            f"Compte {user.email} désactivé : ses sessions sont fermées et ses "
            "jetons d'API refusés.",
            "succes",
        )
    return redirect(url_for("admin.account", user_id=user.id))


@bp.route("/comptes/<int:user_id>/reactiver", methods=["POST"])
@admin_required
def enable(user_id):
    user = get_user_or_404(user_id)
    if set_active(user, True):
        flash(f"Compte {user.email} réactivé.", "succes")
    return redirect(url_for("admin.account", user_id=user.id))


@bp.route("/comptes/<int:user_id>/jetons/revoquer", methods=["POST"])
@admin_required
def revoke(user_id):
    user = get_user_or_404(user_id)
    count = revoke_tokens(user)
    logger.info("%s API token(s) revoked for account %s", count, user.id)
    flash(f"{count} jeton(s) révoqué(s) pour {user.email}.", "succes")
    return redirect(url_for("admin.account", user_id=user.id))
