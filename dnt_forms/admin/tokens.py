"""API tokens of an account, created from its page."""

from __future__ import annotations

from flask import flash, request

from ..auth import admin_required, create_token
from . import bp, page_error
from .accounts import forms_errors, get_user_or_404, render_account

SCOPES = ("write", "read")


@bp.route("/comptes/<int:user_id>/jetons", methods=["POST"])
@admin_required
def new_token(user_id):
    user = get_user_or_404(user_id)
    values = {
        "scope": request.form.get("scope", ""),
        "formulaires": request.form.getlist("formulaires"),
    }
    errors = forms_errors(values["formulaires"], "Formulaires du jeton")
    if values["scope"] not in SCOPES:
        errors.insert(
            0, page_error("scope-write", "Portée", "Choisissez une portée du jeton.")
        )
    if errors:
        return render_account(user, values=values, errors=errors)

    token = create_token(user, values["scope"], values["formulaires"])
    flash("Jeton créé.", "succes")
    if not user.active:
        flash(
            "Ce compte est désactivé : le jeton ne fonctionnera qu'après sa "
            "réactivation.",
            "erreur",
        )
    return render_account(user, token=token)
