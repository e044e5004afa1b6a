"""Pages for agents: the forms, a new entry, the organisation's entries."""

from __future__ import annotations

import logging

from flask import Blueprint, abort, flash, redirect, render_template, url_for

from ..auth import current_user, login_required
from ..entries import listed_forms, open_form, reference_errors, save_new_entry
from ..errors import (
    DuplicateEntryError,
    EntryNotFoundError,
    FormClosedError,
    SchemaNotFoundError,
)
from ..forms import (
    build_form_class,
    display,
    input_names,
    prefill,
    read_form,
    redisplay,
)
from ..store import entries_of, get_entry, history_of

logger = logging.getLogger(__name__)

bp = Blueprint("views", __name__)

STATE_LABELS = {
    "draft": "Brouillon",
    "submitted": "Déposée",
    "to_complete": "À compléter",
    "withdrawn": "Retirée",
}


@bp.app_context_processor
def inject_user():
    return {"current_user": current_user(), "state_labels": STATE_LABELS}


@bp.app_template_filter("shown")
def shown_filter(value, spec):
    return display(spec, value)


@bp.route("/")
@login_required
def index():
    return render_template("views/index.html", forms=listed_forms())


def _opened_or_404(slug: str):
    try:
        return open_form(slug, current_user())
    except SchemaNotFoundError:
        abort(404)


@bp.route("/formulaires/<slug>/", methods=["GET", "POST"])
@login_required
def new_entry(slug):
    opened = _opened_or_404(slug)
    form_class = build_form_class(opened.specs)
    wtform = form_class()
    errors: list[dict] = []

    if opened.form.status == "closed":
        flash("Ce formulaire est clos : il n'accepte plus de nouvelles entrées.", "erreur")
        return redirect(url_for("views.entries", slug=slug))

    if wtform.is_submitted():
        if not wtform.validate():
            errors.append(
                {
                    "path": "",
                    "field": None,
                    "title": None,
                    "message": "Votre session a expiré ou le formulaire est trop ancien : "
                    "vérifiez vos réponses et envoyez-le de nouveau.",
                }
            )
        else:
            data, errors = read_form(wtform, opened.specs, opened.version.schema_json)
            errors += reference_errors(opened, data)
            redisplay(wtform, opened.specs)
            if not errors:
                try:
                    entry = save_new_entry(opened, data, current_user())
                except DuplicateEntryError as exc:
                    errors = exc.errors
                except FormClosedError:
                    abort(409)
                else:
                    flash(f"Entrée n° {entry.id} enregistrée et publiée.", "succes")
                    return redirect(url_for("views.entry", slug=slug, entry_id=entry.id))
    else:
        prefill(wtform, opened.specs, None)

    status = 422 if errors else 200
    return (
        render_template(
            "views/form.html",
            form=opened.form,
            title=opened.title,
            description=opened.description,
            specs=opened.specs,
            wtform=wtform,
            action=url_for("views.new_entry", slug=slug),
            submit_label="Envoyer",
            page_errors=_summary(errors, opened.specs),
            errors_by_field=_by_field(errors),
        ),
        status,
    )


def _by_field(errors: list[dict]) -> dict:
    out: dict = {}
    for error in errors:
        if error.get("field"):
            out.setdefault(error["field"], []).append(error["message"])
    return out


def _summary(errors: list[dict], specs) -> list[dict]:
    """The errors in the order of the fields on the page, linked to each."""
    by_name = {spec.name: spec for spec in specs}

    def position(error):
        spec = by_name.get(error.get("field"))
        return spec.position if spec else -1

    out = []
    for error in sorted(errors, key=position):
        spec = by_name.get(error.get("field"))
        anchor = input_names(spec)[0][2] if spec else None
        message = error["message"]
        if error.get("title"):
            message = message[:1].lower() + message[1:]
        out.append({"anchor": anchor, "title": error.get("title"), "message": message})
    return out


@bp.route("/formulaires/<slug>/entrees/")
@login_required
def entries(slug):
    opened = _opened_or_404(slug)
    user = current_user()
    # TODO: search, sort and paging of the list come with the roles issue;
    # until then the 200 most recent entries are shown.
    rows = entries_of(
        opened.form, user.organisation_id, every_org=user.is_admin, limit=200
    )
    return render_template(
        "views/entries.html",
        form=opened.form,
        title=opened.title,
        entries=rows,
        shown=[s for s in opened.specs][:4],
    )


@bp.route("/formulaires/<slug>/entrees/<int:entry_id>")
@login_required
def entry(slug, entry_id):
    opened = _opened_or_404(slug)
    user = current_user()
    try:
        found = get_entry(opened.form, entry_id)
    except EntryNotFoundError:
        abort(404)
    if not user.is_admin and found.organisation_id != user.organisation_id:
        abort(404)
    return render_template(
        "views/entry.html",
        form=opened.form,
        title=opened.title,
        entry=found,
        data=found.data,
        specs=opened.specs,
        history=history_of(found),
    )
