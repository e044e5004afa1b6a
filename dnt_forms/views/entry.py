"""One entry: view, edit (conflict-safe), history, withdrawal and restoration."""

from __future__ import annotations

import copy
import json

from flask import abort, flash, redirect, render_template, request, url_for

from ..auth import current_user, login_required
from ..compiler import remove_at, set_at, units, value_at
from ..entries import change_entry, reference_errors
from ..errors import DuplicateEntryError, RevisionConflictError, StoreBusyError
from ..forms import page_form, read_form, redisplay
from ..permissions import can_edit_entry, can_restore
from ..store import data_at, history_of
from ..validation import draft_errors, validate_data
from . import (
    bp,
    by_field,
    entry_or_404,
    opened_or_abort,
    stale_error,
    summary,
)


def _revision_posted() -> int:
    value = request.form.get("revision", "")
    if not value.isdigit():
        abort(400)
    return int(value)


def _target_state(entry, action: str) -> tuple[str, str]:
    """(new state, history action) for an edit of this entry."""
    if entry.state == "draft":
        return ("draft", "draft") if action == "brouillon" else ("submitted", "submit")
    # A "to complete" entry becomes submitted again once it validates.
    return "submitted", "update"


def _check(opened, data: dict, state: str) -> list[dict]:
    errors = validate_data(opened.version.schema_json, data, opened.specs)
    errors += reference_errors(opened, data)
    return draft_errors(errors) if state == "draft" else errors


def _page(opened, entry, page=None, errors=(), status=200, revision=None):
    user = current_user()
    editable = can_edit_entry(user, entry)
    if page is None and editable:
        page = page_form(opened.specs, None, entry.data)
    history = history_of(entry)
    errors = list(errors)
    pending = []
    if not errors and entry.state == "to_complete":
        # What the current version asks of it, said where the agent fixes it.
        pending = _check(opened, entry.data, "submitted")
    shown_specs = page.specs if page else opened.specs
    return (
        render_template(
            "views/entry.html",
            form=opened.form,
            title=opened.title,
            entry=entry,
            data=entry.data,
            specs=opened.specs,
            history=history,
            history_changes={
                line.id: json.loads(line.changes_json) for line in history
            },
            editable=editable,
            restorable=can_restore(user, entry),
            wtform=page.wtform if page else None,
            edit_specs=page.specs if page else [],
            revision=revision or entry.revision,
            page_errors=summary(errors, shown_specs),
            pending=summary(pending, shown_specs),
            errors_by_field=by_field(errors or pending),
        ),
        status,
    )


@bp.route("/formulaires/<slug>/entrees/<int:entry_id>", methods=["GET", "POST"])
@login_required
def entry(slug, entry_id):
    if request.method == "GET":
        opened = opened_or_abort(slug)
        return _page(opened, entry_or_404(opened, entry_id))

    opened, found = _editable(slug, entry_id)
    page = page_form(opened.specs, request.form, found.data)
    revision = _revision_posted()
    if page.row_action:
        return _page(opened, found, page, (), 200, revision)
    if not page.wtform.validate():
        return _page(opened, found, page, [stale_error()], 422, revision)

    state, action = _target_state(found, request.form.get("action", ""))
    data, errors = read_form(
        page.wtform,
        page.specs,
        opened.version.schema_json,
        previous=found.data,
        posted=set(request.form.keys()),
    )
    errors += reference_errors(opened, data)
    if state == "draft":
        errors = draft_errors(errors)
    if errors:
        redisplay(page.wtform, page.specs)
        return _page(opened, found, page, errors, 422, revision)

    return _save(opened, found, revision, data, state, action)


def _save(opened, found, revision, data, state, action):
    try:
        change_entry(
            opened,
            found,
            revision,
            current_user(),
            data=data,
            state=state,
            action=action,
        )
    except RevisionConflictError:
        return _conflict(opened, found, revision, data, request.form.get("action", ""))
    except DuplicateEntryError as exc:
        page = page_form(opened.specs, request.form, found.data)
        redisplay(page.wtform, page.specs)
        return _page(opened, found, page, exc.errors, 409, revision)
    except StoreBusyError as exc:
        page = page_form(opened.specs, request.form, found.data)
        redisplay(page.wtform, page.specs)
        body, status = _page(opened, found, page, exc.errors(), 503, revision)
        return body, status, {"Retry-After": "60"}

    flash(_saved_message(found, state), "succes")
    return redirect(url_for("views.entry", slug=opened.form.slug, entry_id=found.id))


def _saved_message(entry, state) -> str:
    if state == "draft":
        return f"Brouillon n° {entry.id} enregistré (non publié)."
    return f"Entrée n° {entry.id} enregistrée et publiée (révision {entry.revision})."


def _conflict(opened, entry, base_revision, mine, action, errors=(), choices=None):
    """Both versions side by side, field by field, for the agent to choose."""
    base = data_at(entry, base_revision)
    theirs = entry.data
    rows = []
    for spec in units(opened.specs):
        name = spec.html_name
        ours, stored, before = (value_at(d, spec.path) for d in (mine, theirs, base))
        if ours == stored:
            continue
        changed_mine = ours != before
        changed_theirs = stored != before
        default = None
        if changed_mine and not changed_theirs:
            default = "mine"
        elif changed_theirs and not changed_mine:
            default = "theirs"
        rows.append(
            {
                "spec": spec,
                "mine": ours,
                "theirs": stored,
                "choice": (choices or {}).get(name, default),
            }
        )
    last = history_of(entry)[-1]
    return (
        render_template(
            "views/conflict.html",
            form=opened.form,
            title=opened.title,
            entry=entry,
            rows=rows,
            mine_json=json.dumps(mine, ensure_ascii=False),
            action=action,
            last=last,
            page_errors=errors,
        ),
        409,
    )


def _editable(slug: str, entry_id: int):
    """(form, entry) for a change by the signed-in account, or abort."""
    opened = opened_or_abort(slug)
    found = entry_or_404(opened, entry_id)
    if not can_edit_entry(current_user(), found):
        abort(403)
    return opened, found


def _merge(opened, found, mine: dict) -> tuple[dict, dict, list]:
    """(merged data, choices made, fields still to choose) from the posted page."""
    merged = copy.deepcopy(found.data)
    choices = {}
    missing = []
    for spec in units(opened.specs):
        ours = value_at(mine, spec.path)
        if ours == value_at(found.data, spec.path):
            continue
        choice = request.form.get(f"choix-{spec.html_id}")
        if choice not in ("mine", "theirs"):
            missing.append(spec)
            continue
        choices[spec.html_name] = choice
        if choice == "theirs":
            continue
        if ours is not None:
            set_at(merged, spec.path, ours)
        else:
            remove_at(merged, spec.path)
    return merged, choices, missing


@bp.route("/formulaires/<slug>/entrees/<int:entry_id>/conflit", methods=["POST"])
@login_required
def resolve_conflict(slug, entry_id):
    opened, found = _editable(slug, entry_id)
    revision = _revision_posted()
    try:
        mine = json.loads(request.form.get("mine", ""))
    except json.JSONDecodeError:
        abort(400)
    if not isinstance(mine, dict):
        abort(400)
    action = request.form.get("action", "")
    if revision != found.revision:
        # A third change came in while this page was open: compare again.
        return _conflict(opened, found, revision, mine, action)

    merged, choices, missing = _merge(opened, found, mine)
    if missing:
        errors = [
            {
                "anchor": f"choix-{s.html_id}",
                "title": s.title,
                "message": "choisissez la version à garder.",
            }
            for s in missing
        ]
        return _conflict(opened, found, revision, mine, action, errors, choices)

    state, history_action = _target_state(found, action)
    errors = _check(opened, merged, state)
    if errors:
        page = page_form(opened.specs, None, merged)
        return _page(opened, found, page, errors, 422, revision)
    return _save(opened, found, revision, merged, state, history_action)


@bp.route("/formulaires/<slug>/entrees/<int:entry_id>/retrait", methods=["POST"])
@login_required
def withdraw(slug, entry_id):
    opened, found = _editable(slug, entry_id)
    try:
        change_entry(
            opened,
            found,
            _revision_posted(),
            current_user(),
            state="withdrawn",
            action="withdraw",
        )
    except RevisionConflictError:
        flash(
            "L'entrée a été modifiée entre-temps : relisez-la avant de la retirer.",
            "erreur",
        )
    else:
        flash(
            f"Entrée n° {found.id} retirée : elle n'est plus publiée et reste dans "
            "l'historique.",
            "succes",
        )
    return redirect(url_for("views.entry", slug=slug, entry_id=found.id))


@bp.route("/formulaires/<slug>/entrees/<int:entry_id>/retablissement", methods=["POST"])
@login_required
def restore(slug, entry_id):
    opened = opened_or_abort(slug)
    found = entry_or_404(opened, entry_id)
    if not can_restore(current_user(), found):
        abort(403)
    previous = "submitted"
    for line in reversed(history_of(found)):
        changes = json.loads(line.changes_json)
        if line.action == "withdraw" and "_state" in changes:
            previous = changes["_state"][0]
            break
    try:
        change_entry(
            opened,
            found,
            _revision_posted(),
            current_user(),
            state=previous,
            action="restore",
        )
    except (RevisionConflictError, DuplicateEntryError) as exc:
        flash(f"Rétablissement impossible : {exc}", "erreur")
    else:
        flash(f"Entrée n° {found.id} rétablie.", "succes")
    return redirect(url_for("views.entry", slug=slug, entry_id=found.id))
