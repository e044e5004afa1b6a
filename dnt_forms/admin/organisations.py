"""Organisations: the list, with how many accounts each has, and a new one."""

from __future__ import annotations

import logging

from flask import flash, redirect, render_template, request, url_for
from sqlalchemy import func

from ..auth import admin_required, find_org, valid_org_code
from ..db import db
from ..models import Organisation, User
from . import bp, errors_by_anchor, page_error
from .actions import ORG_CODE_HELP

logger = logging.getLogger(__name__)

# The width of Organisation.name.
NAME_MAX = 300


@bp.route("/organisations", methods=["GET", "POST"])
@admin_required
def organisations():
    values = {"code": "", "nom": ""}
    errors: list[dict] = []
    if request.method == "POST":
        values = {
            "code": request.form.get("code", "").strip().upper(),
            "nom": " ".join(request.form.get("nom", "").split()),
        }
        errors = _org_errors(values)
        if not errors:
            db.session.add(Organisation(code=values["code"], name=values["nom"]))
            db.session.commit()
            logger.info("organisation %s created", values["code"])
            flash(f"Organisation {values['code']} créée : {values['nom']}.", "succes")
            return redirect(url_for("admin.organisations"))

    counts = dict(
        db.session.execute(
            db.select(User.organisation_id, func.count(User.id)).group_by(
                User.organisation_id
            )
        ).all()
    )
    orgs = db.session.execute(
        db.select(Organisation).order_by(Organisation.code)
    ).scalars()
    rows = [{"org": org, "accounts": counts.get(org.id, 0)} for org in orgs]
    return (
        render_template(
            "admin/organisations.html",
            rows=rows,
            values=values,
            page_errors=errors,
            field_errors=errors_by_anchor(errors),
        ),
        422 if errors else 200,
    )


def _org_errors(values: dict) -> list[dict]:
    errors = []
    code = values["code"]
    if not code:
        errors.append(page_error("code", "Code", f"Indiquez {ORG_CODE_HELP}."))
    elif not valid_org_code(code):
        errors.append(
            page_error(
                "code",
                "Code",
                f"« {code} » n'est pas valide : indiquez {ORG_CODE_HELP}.",
            )
        )
    elif find_org(code):
        errors.append(page_error("code", "Code", f"L'organisation {code} existe déjà."))

    if not values["nom"]:
        errors.append(
            page_error(
                "nom",
                "Nom",
                "Indiquez le nom de l'organisation, par exemple « Ville de Rennes ».",
            )
        )
    elif len(values["nom"]) > NAME_MAX:
        errors.append(
            page_error(
                "nom", "Nom", f"Le nom dépasse {NAME_MAX} caractères : abrégez-le."
            )
        )
    return errors
