"""Pages for agents: the forms, new entries, drafts, the organisation's entries."""

from __future__ import annotations

import io
import json
import logging
import re
import tempfile
from datetime import datetime, timezone

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)

from ..auth import current_user, login_required
from ..compiler import instantiate, leaves, value_at, walk
from ..entries import (
    OpenForm,
    form_for_admin,
    listed_forms,
    open_form,
    reference_errors,
    save_new_entry,
)
from ..errors import (
    DuplicateEntryError,
    EntryNotFoundError,
    FormClosedError,
    FormNotOpenError,
    SchemaNotFoundError,
    StoreBusyError,
)
from ..exports import (
    FORMATS,
    MEDIA_TYPES,
    left_out,
    left_out_note,
    write_csv,
    write_json,
    write_xlsx,
)
from ..forms import (
    ADD_ROW,
    REMOVE_ROW,
    display,
    input_names,
    page_form,
    read_form,
    redisplay,
)
from ..permissions import can_see_entry, manages
from ..store import entries_for, get_entry
from ..tabular import frictionless_schema
from ..validation import PARIS, draft_errors

logger = logging.getLogger(__name__)

# Beyond this size a web export is written to disk before it is sent.
EXPORT_IN_MEMORY = 8 * 1024 * 1024

bp = Blueprint("views", __name__)

STATE_LABELS = {
    "draft": "Brouillon",
    "submitted": "Déposée",
    "to_complete": "À compléter",
    "withdrawn": "Retirée",
}
ACTION_LABELS = {
    "create": "dépôt",
    "draft": "brouillon enregistré",
    "update": "modification",
    "submit": "dépôt du brouillon",
    "withdraw": "retrait",
    "restore": "rétablissement",
    "import": "import d'un fichier",
    "migrate": "passage à une nouvelle version du formulaire",
}
PAGE_SIZE = 50
STALE_FORM = (
    "Votre session a expiré ou le formulaire est trop ancien : vérifiez vos "
    "réponses et envoyez-le de nouveau."
)


@bp.app_context_processor
def inject_user():
    return {
        "current_user": current_user(),
        "state_labels": STATE_LABELS,
        "action_labels": ACTION_LABELS,
    }


@bp.app_template_filter("paris")
def paris_time(moment: datetime, pattern: str = "%d/%m/%Y %H:%M") -> str:
    """A stored instant (UTC, without offset, as SQLAlchemy keeps it) in
    the time people read on their clocks."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(PARIS).strftime(pattern)


@bp.app_template_filter("shown")
def shown_filter(value, spec):
    return display(spec, value)


# What a typed input can show: a browser shows an empty box for any other
# value, which a save would then erase (a "to complete" entry may hold
# "deux" in what is now a whole-number field).
_INPUT_VALUES = {
    "number": re.compile(r"-?[0-9]+(\.[0-9]+)?([eE][-+]?[0-9]+)?"),
    "date": re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}"),
    "time": re.compile(r"[0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]+)?)?"),
    "datetime-local": re.compile(
        r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}(:[0-9]{2})?"
    ),
}


@bp.app_template_global("input_type_for")
def input_type_for(input_type: str, value) -> str:
    """The input type, or text when a typed input could not show the value."""
    pattern = _INPUT_VALUES.get(input_type)
    if pattern is None or value in (None, "") or pattern.fullmatch(str(value)):
        return input_type
    return "text"


@bp.app_template_global("added_to")
def added_to(spec) -> bool:
    """Whether this page answers "add a row" to this list: the new row takes
    the focus, where the agent left it (the page is a new one)."""
    return request.method == "POST" and request.form.get(ADD_ROW) == spec.html_name


@bp.app_template_global("removed_at")
def removed_at(spec, count: int) -> int | None:
    """Whether this page answers "remove a row" (or a value) of this list:
    then the row now in its place, else the new last one, takes the focus,
    which would otherwise fall back to the top of a new page."""
    if request.method != "POST" or count == 0:
        return None
    name, _, index = (request.form.get(REMOVE_ROW) or "").rpartition(".")
    if name != spec.html_name or not index.isdigit():
        return None
    return min(int(index), count - 1)


@bp.app_template_global("field_value")
def field_value(data, spec):
    return value_at(data, spec.path)


@bp.app_template_global("field_values")
def field_values(specs, data):
    """(spec, value, the groups and rows it is in) of every field, for
    reading an entry."""
    shown = instantiate(specs, data)
    by_path = {spec.path: spec for spec in walk(shown)}
    return [
        (spec, value_at(data, spec.path), ancestry(spec, by_path))
        for spec in leaves(shown)
    ]


def ancestry(spec, by_path: dict) -> list[str]:
    """The groups and list rows a field is in, as people read them:
    ["Siège"], ["Bénéficiaires, ligne 2"]; not its path's names and
    indexes from 0."""
    parts = []
    path = spec.path
    for k in range(1, len(path)):
        if type(path[k - 1]) is int:
            continue  # a row: said with its list
        owner = by_path.get(path[:k])
        title = owner.title if owner is not None else str(path[k - 1])
        step = path[k]
        parts.append(f"{title}, ligne {step + 1}" if type(step) is int else title)
    return parts


@bp.route("/")
@login_required
def index():
    return render_template("views/index.html", forms=listed_forms(current_user()))


def opened_or_abort(slug: str) -> OpenForm:
    try:
        return open_form(slug, current_user())
    except SchemaNotFoundError:
        abort(404)
    except FormNotOpenError:
        abort(403)


def entry_or_404(opened: OpenForm, entry_id: int):
    """The entry, if the account may see it; any other is simply not found."""
    try:
        entry = get_entry(opened.form, entry_id)
    except EntryNotFoundError:
        abort(404)
    if not can_see_entry(current_user(), entry):
        abort(404)
    return entry


def stale_error() -> dict:
    return {"path": "", "field": None, "title": None, "message": STALE_FORM}


@bp.route("/formulaires/<slug>/", methods=["GET", "POST"])
@login_required
def new_entry(slug):
    opened = opened_or_abort(slug)
    if opened.form.status == "closed":
        flash(
            "Ce formulaire est clos : il n'accepte plus de nouvelles entrées.", "erreur"
        )
        return redirect(url_for("views.entries", slug=slug))

    posted = request.form if request.method == "POST" else None
    page = page_form(opened.specs, posted)
    action = url_for("views.new_entry", slug=slug)
    if posted is None or page.row_action:
        return render_entry_form(opened, page, [], action)

    wtform = page.wtform
    as_draft = request.form.get("action") == "brouillon"
    if not wtform.validate():
        errors = [stale_error()]
    else:
        data, errors = read_form(wtform, page.specs, opened.version.schema_json)
        errors += reference_errors(opened, data)
        if as_draft:
            errors = draft_errors(errors)
        if not errors:
            try:
                entry = save_new_entry(
                    opened, data, current_user(), "draft" if as_draft else "submitted"
                )
            except DuplicateEntryError as exc:
                errors = exc.errors
            except FormClosedError:
                abort(409)
            except StoreBusyError as exc:
                return retry_later(opened, page, action, exc)
            else:
                if as_draft:
                    flash(
                        f"Brouillon n° {entry.id} enregistré. Il reste visible de votre "
                        "seule organisation et n'est pas publié tant qu'il n'est pas "
                        "déposé.",
                        "succes",
                    )
                else:
                    flash(f"Entrée n° {entry.id} enregistrée et publiée.", "succes")
                return redirect(url_for("views.entry", slug=slug, entry_id=entry.id))
    redisplay(wtform, page.specs)
    return render_entry_form(opened, page, errors, action, status=422)


def retry_later(opened, page, action, exc):
    """The page as it was sent, saying that nothing was saved yet (503)."""
    redisplay(page.wtform, page.specs)
    response = render_entry_form(opened, page, exc.errors(), action, status=503)
    return (*response, {"Retry-After": "60"})


def render_entry_form(opened, page, errors, action, status=200, **extra):
    return (
        render_template(
            "views/form.html",
            form=opened.form,
            title=opened.title,
            description=opened.description,
            specs=page.specs,
            wtform=page.wtform,
            action=action,
            page_errors=summary(errors, page.specs),
            errors_by_field=by_field(errors),
            **extra,
        ),
        status,
    )


def by_field(errors: list[dict]) -> dict:
    out: dict = {}
    for error in errors:
        if error.get("field"):
            out.setdefault(error["field"], []).append(error["message"])
    return out


def summary(errors: list[dict], specs) -> list[dict]:
    """The errors in the order of the fields on the page, linked to each."""
    ordered = list(walk(specs))
    by_name = {spec.html_name: spec for spec in ordered}
    by_path = {spec.path: spec for spec in ordered}

    def title(error) -> str | None:
        # A field of a list's row says which row: "Titre" alone would not
        # tell a screen reader user which of the rows to fix.
        spec = by_name.get(error.get("field"))
        if spec is None or not error.get("title"):
            return error.get("title")
        return " › ".join([*ancestry(spec, by_path), error["title"]])

    def position(error):
        spec = by_name.get(error.get("field"))
        return ordered.index(spec) if spec else -1

    out = []
    for error in sorted(errors, key=position):
        spec = by_name.get(error.get("field"))
        anchor = input_names(spec)[0][2] if spec else None
        message = error["message"]
        if error.get("title"):
            message = message[:1].lower() + message[1:]
        out.append({"anchor": anchor, "title": title(error), "message": message})
    return out


@bp.route("/formulaires/<slug>/entrees/")
@login_required
def entries(slug):
    opened = opened_or_abort(slug)
    user = current_user()
    search = request.args.get("q", "").strip()
    sort = request.args.get("tri", "-maj")
    page = request.args.get("page", "1")
    page = int(page) if page.isdigit() and int(page) > 0 else 1
    rows, total = entries_for(
        opened.form,
        user,
        every_org=manages(user, opened.form),
        search=search,
        sort=sort,
        limit=PAGE_SIZE,
        offset=(page - 1) * PAGE_SIZE,
    )
    return render_template(
        "views/entries.html",
        form=opened.form,
        title=opened.title,
        entries=rows,
        total=total,
        page=page,
        pages=max(1, -(-total // PAGE_SIZE)),
        search=search,
        sort=sort,
        shown=list(leaves(opened.specs))[:4],
        every_org=manages(user, opened.form),
        csv_left_out=left_out_note(left_out(opened, "csv")),
        table_schema=frictionless_schema(opened.version) is not None,
    )


@bp.route("/formulaires/<slug>/export.<fmt>")
def export(slug, fmt):
    """The published entries as a file: public, like /data/.

    With `tous=oui`, the unpublished fields too, for the form's managers.
    """
    if fmt not in FORMATS:
        abort(404)
    try:
        opened = form_for_admin(slug)
    except SchemaNotFoundError:
        abort(404)
    if opened.form.status == "draft":
        abort(404)
    all_fields = request.args.get("tous") == "oui"
    if all_fields and not manages(current_user(), opened.form):
        abort(403)
    suffix = "-complet" if all_fields else ""
    name = f"{slug}{suffix}.{fmt}"
    # Written to a temporary file that moves to disk beyond a few
    # megabytes, then streamed: a large form does not sit in memory.
    spooled = tempfile.SpooledTemporaryFile(max_size=EXPORT_IN_MEMORY)  # noqa: SIM115
    if fmt == "xlsx":
        write_xlsx(opened, spooled, all_fields)
    else:
        text = io.TextIOWrapper(spooled, encoding="utf-8", newline="")
        (write_json if fmt == "json" else write_csv)(opened, text, all_fields)
        text.flush()
        text.detach()
    spooled.seek(0)
    response = send_file(
        spooled, mimetype=MEDIA_TYPES[fmt], as_attachment=True, download_name=name
    )
    if all_fields:
        response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/formulaires/<slug>/schema-tableschema.json")
def table_schema(slug):
    """The Table Schema that a Table Schema form's CSV export follows, as
    its import repaired it: what a validator needs to check that file."""
    try:
        opened = form_for_admin(slug)
    except SchemaNotFoundError:
        abort(404)
    schema = frictionless_schema(opened.version)
    if opened.form.status == "draft" or schema is None:
        abort(404)
    response = current_app.response_class(
        json.dumps(schema.to_descriptor(), ensure_ascii=False, indent=2),
        mimetype="application/json",
    )
    response.headers["Content-Disposition"] = (
        f'attachment; filename="{slug}.schema.json"'
    )
    return response


from . import entry  # noqa: F401  (registers the entry page routes)
