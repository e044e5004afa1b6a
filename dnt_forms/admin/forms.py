"""Settings of one form: its status and the organisations it is open to."""

from __future__ import annotations

import logging

from flask import abort, current_app, flash, redirect, render_template, request, url_for

from ..auth import admin_required
from ..db import db
from ..errors import DntFormsError
from ..models import Form, Organisation, User
from ..publish import sync_form
from ..schemas.versions import close
from ..tabular import frictionless_schema
from . import STATUS_LABELS, bp, form_or_404, form_title, page_error
from .actions import managers_of, reopen, restrict_form, split_codes, unknown_org_codes
from .schemas import publish_form

logger = logging.getLogger(__name__)


def _render(form: Form, errors: list[dict] | None = None, ticked=None):
    errors = errors or []
    orgs = (
        db.session.execute(db.select(Organisation).order_by(Organisation.code))
        .scalars()
        .all()
    )
    latest = form.versions[-1] if form.versions else None
    admins = (
        db.session.execute(db.select(User).filter_by(role="admin").order_by(User.email))
        .scalars()
        .all()
    )
    body = render_template(
        "admin/form.html",
        form=form,
        title=form_title(form),
        status=STATUS_LABELS.get(form.status, form.status),
        latest=latest,
        orgs=orgs,
        current=split_codes(form.restricted_orgs),
        ticked=split_codes(form.restricted_orgs) if ticked is None else ticked,
        managers=managers_of(form),
        admins=admins,
        page_errors=errors,
        **_export_notes(form),
    )
    return body, 422 if errors else 200


def _export_notes(form: Form) -> dict:
    """What the export links say: entries the CSV leaves out, and whether it
    follows a Table Schema (whose link is then shown)."""
    from ..entries import form_for_admin
    from ..exports import left_out, left_out_note

    if not form.current_version:
        return {"csv_left_out": None, "table_schema": False}
    opened = form_for_admin(form.slug)
    return {
        "csv_left_out": left_out_note(left_out(opened, "csv")),
        "table_schema": frictionless_schema(opened.version) is not None,
    }


@bp.route("/formulaires/<slug>")
@admin_required
def form_settings(slug):
    return _render(form_or_404(slug))


@bp.route("/formulaires/<slug>/etat", methods=["POST"])
@admin_required
def form_status(slug):
    form = form_or_404(slug)
    action = request.form.get("action")
    try:
        if action == "publier":
            # Publication checks the entries first, and may ask to confirm.
            return publish_form(form, form.versions[-1])
        if action == "clore":
            close(slug)
            message = "Formulaire clos : il n'accepte plus de nouvelles entrées."
        elif action == "rouvrir":
            reopen(form)
            message = "Formulaire rouvert aux nouvelles entrées."
        else:
            abort(400)
    except DntFormsError as exc:
        flash(str(exc), "erreur")
        return redirect(url_for("admin.form_settings", slug=slug))

    # The catalogue of public.db shows each form's status.
    sync_form(current_app.extensions["dnt_public"], form)
    logger.info("form %s: status set by an administrator (%s)", slug, action)
    flash(message, "succes")
    return redirect(url_for("admin.form_settings", slug=slug))


@bp.route("/formulaires/<slug>/organisations", methods=["POST"])
@admin_required
def form_organisations(slug):
    form = form_or_404(slug)
    codes = request.form.getlist("organisations")
    unknown = unknown_org_codes(codes)
    if unknown:
        first = (
            db.session.execute(db.select(Organisation.code).order_by(Organisation.code))
            .scalars()
            .first()
        )
        error = page_error(
            f"org-{first}" if first else "",
            "Organisations",
            f"Organisation(s) inconnue(s) : {', '.join(unknown)}. Rechargez la page "
            "et recommencez.",
        )
        return _render(form, [error], ticked=codes)

    restrict_form(form, codes)
    if codes:
        flash(f"Formulaire réservé à : {', '.join(sorted(set(codes)))}.", "succes")
    else:
        flash("Formulaire ouvert à toutes les organisations.", "succes")
    return redirect(url_for("admin.form_settings", slug=slug))
