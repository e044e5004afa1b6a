"""JSON API under /api/v1/: token auth, strict JSON, one error envelope."""

from __future__ import annotations

import json
import logging

from flask import Blueprint, g, jsonify, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from werkzeug.exceptions import HTTPException

from ..auth import token_from_request
from ..entries import (
    change_entry,
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
    RevisionConflictError,
    SchemaNotFoundError,
)
from ..permissions import can_edit_entry, can_see_entry, manages
from ..store import entries_for, get_entry
from ..validation import (
    apply_read_only,
    finalise,
    normalise_api_entry,
    validate_data,
)

logger = logging.getLogger(__name__)

bp = Blueprint("api", __name__, url_prefix="/api/v1")
PAGE_SIZE = 100

# French, or English with Accept-Language: en (i18n.py).
SUMMARIES = {
    400: _l("Requête mal formée."),
    401: _l(
        "Jeton d'API absent ou invalide : envoyez « Authorization: Bearer <jeton> »."
    ),
    403: _l("Ce jeton ne permet pas cette action sur ce formulaire."),
    404: _l("Introuvable."),
    405: _l("Méthode non permise sur cette adresse."),
    409: _l("Une entrée avec la même clé existe déjà."),
    412: _l(
        "L'entrée a été modifiée depuis votre lecture : relisez-la (GET) puis "
        "renvoyez votre modification avec sa nouvelle révision dans If-Match."
    ),
    413: _l("Corps de requête trop volumineux."),
    415: _l("Type de contenu non pris en charge : envoyez du JSON."),
    503: _l(
        "Service occupé par une importation : rien n'a été enregistré, "
        "renvoyez la même requête plus tard (voir Retry-After)."
    ),
    422: _l("L'entrée contient des erreurs."),
    428: _l(
        "En-tête If-Match manquant : envoyez la révision lue (ETag) pour ne rien "
        "écraser."
    ),
    500: _l("Erreur interne : l'incident est enregistré."),
}


class ApiError(Exception):
    def __init__(self, status: int, error: str | None = None, errors=None, **extra):
        self.status = status
        self.error = str(error or SUMMARIES.get(status, _("Erreur.")))
        self.errors = errors or []
        self.extra = extra


def envelope(status: int, error: str, errors=None, **extra):
    body = {"ok": False, "status": status, "error": error, "errors": errors or []}
    body.update(extra)
    response = jsonify(body)
    response.status_code = status
    return response


@bp.errorhandler(ApiError)
def _api_error(exc: ApiError):
    return envelope(exc.status, exc.error, exc.errors, **exc.extra)


@bp.errorhandler(HTTPException)
def _http_error(exc: HTTPException):
    return envelope(exc.code, str(SUMMARIES.get(exc.code, exc.name)))


@bp.errorhandler(Exception)
def _unexpected(exc: Exception):
    logger.exception("API failure on %s %s", request.method, request.path)
    return envelope(500, str(SUMMARIES[500]))


@bp.before_request
def authenticate():
    token = token_from_request()
    if token is None:
        raise ApiError(401)
    g.token = token
    g.api_user = token.user


def _public_errors(errors: list[dict]) -> list[dict]:
    """Each message names its field, so it reads well out of context."""
    out = []
    for e in errors:
        message = e["message"]
        if e.get("title"):
            message = _(
                "%(title)s : %(message)s",
                title=e["title"],
                message=message[:1].lower() + message[1:],
            )
        out.append({"path": e["path"], "message": message})
    return out


def _form_for(slug: str, *, write: bool):
    token = g.token
    try:
        opened = open_form(slug, g.api_user)
    except SchemaNotFoundError:
        raise ApiError(404, _("Aucun formulaire « %(slug)s ».", slug=slug)) from None
    except FormNotOpenError as exc:
        raise ApiError(403, str(exc)) from None
    if not token.allows_form(slug):
        raise ApiError(403)
    if write and token.scope != "write":
        raise ApiError(403, _("Ce jeton est en lecture seule (scope read)."))
    return opened


@bp.get("/forms")
def forms():
    items = [
        {
            "slug": opened.form.slug,
            "title": opened.title,
            "description": opened.description,
            "form_version": opened.version.number,
        }
        for opened in listed_forms(g.api_user)
        if g.token.allows_form(opened.form.slug)
    ]
    return {"forms": items}


@bp.get("/forms/<slug>/schema")
def schema(slug):
    opened = _form_for(slug, write=False)
    return jsonify(opened.schema)


def _strict_json():
    if not request.is_json:
        raise ApiError(
            415,
            _(
                "Envoyez l'entrée en JSON, avec l'en-tête "
                "« Content-Type: application/json »."
            ),
        )

    def refuse_constant(name):
        raise ValueError(name)

    try:
        return json.loads(request.get_data(cache=False), parse_constant=refuse_constant)
    except json.JSONDecodeError as exc:
        raise ApiError(
            400,
            _(
                "JSON illisible ligne %(line)s, colonne %(column)s.",
                line=exc.lineno,
                column=exc.colno,
            ),
        ) from None
    except (ValueError, UnicodeDecodeError) as exc:
        raise ApiError(
            400,
            _(
                "JSON illisible : %(value)s n'est pas une valeur JSON (utilisez null).",
                value=exc,
            ),
        ) from None


def _valid_entry(opened, previous: dict | None = None) -> dict:
    """The request body as a validated entry, or a 422 listing every error."""
    payload = _strict_json()
    data, errors = normalise_api_entry(payload, opened.specs)
    if isinstance(payload, dict):
        errors += apply_read_only(data, opened.specs, previous)
        errors += validate_data(opened.version.schema_json, data, opened.specs)
        errors += reference_errors(opened, data)
    if errors:
        raise ApiError(422, errors=_public_errors(errors))
    return finalise(data, opened.specs)


@bp.post("/forms/<slug>/entries")
def create(slug):
    opened = _form_for(slug, write=True)
    if opened.form.status == "closed":
        raise ApiError(403, _("Ce formulaire est clos : il n'accepte plus d'entrées."))
    data = _valid_entry(opened)

    try:
        entry = save_new_entry(opened, data, g.api_user)
    except DuplicateEntryError as exc:
        extra = {}
        if _seen_entry(exc.existing_id, opened) is not None:
            extra["existing"] = url_for(
                "api.read", slug=slug, entry_id=exc.existing_id, _external=True
            )
        raise ApiError(409, errors=_public_errors(exc.errors), **extra) from None
    except FormClosedError:
        raise ApiError(403, _("Ce formulaire est clos : il n'accepte plus d'entrées."))

    response = jsonify({"id": entry.id, "revision": entry.revision})
    response.status_code = 201
    response.headers["ETag"] = f'"{entry.revision}"'
    response.headers["Location"] = url_for("api.read", slug=slug, entry_id=entry.id)
    return response


def _seen_entry(entry_id: int, opened):
    """The entry if the caller may see it, else None."""
    try:
        entry = get_entry(opened.form, entry_id)
    except EntryNotFoundError:
        return None
    return entry if can_see_entry(g.api_user, entry) else None


def _visible_entry(opened, entry_id: int):
    entry = _seen_entry(entry_id, opened)
    if entry is None:
        # Another organisation's entry is answered exactly like a missing one.
        raise ApiError(
            404,
            _(
                "Aucune entrée %(id)s dans « %(slug)s ».",
                id=entry_id,
                slug=opened.form.slug,
            ),
        )
    return entry


def _entry_json(entry, opened) -> dict:
    return {
        "id": entry.id,
        "form": opened.form.slug,
        "form_version": entry.form_version,
        "revision": entry.revision,
        "state": entry.state,
        "organisation": entry.organisation.code if entry.organisation else None,
        "data": entry.data,
    }


API_SORTS = {
    "id": "id",
    "-id": "-id",
    "updated": "maj",
    "-updated": "-maj",
    "state": "etat",
    "-state": "-etat",
}


@bp.get("/forms/<slug>/entries")
def list_entries(slug):
    """The caller's organisation's entries (all of them for managers), paged.

    `q` searches every field, `sort` is id, updated or state (prefix - for
    descending), `page` starts at 1.
    """
    opened = _form_for(slug, write=False)
    page = request.args.get("page", "1")
    if not page.isdigit() or int(page) < 1:
        raise ApiError(400, _("« page » doit être un entier à partir de 1."))
    page = int(page)
    sort = request.args.get("sort", "-updated")
    if sort not in API_SORTS:
        raise ApiError(
            400,
            _(
                "« sort » prend l'une des valeurs %(values)s.",
                values=", ".join(API_SORTS),
            ),
        )
    user = g.api_user
    rows, total = entries_for(
        opened.form,
        user,
        every_org=manages(user, opened.form),
        search=request.args.get("q", "").strip(),
        sort=API_SORTS[sort],
        limit=PAGE_SIZE,
        offset=(page - 1) * PAGE_SIZE,
    )
    body = {
        "entries": [_entry_json(e, opened) for e in rows],
        "total": total,
        "next": None,
    }
    if page * PAGE_SIZE < total:
        args = dict(request.args, page=page + 1)
        body["next"] = url_for("api.list_entries", slug=slug, _external=True, **args)
    return body


def _etag_response(body: dict, revision: int, status: int = 200):
    response = jsonify(body)
    response.status_code = status
    response.headers["ETag"] = f'"{revision}"'
    return response


@bp.get("/forms/<slug>/entries/<int:entry_id>")
def read(slug, entry_id):
    opened = _form_for(slug, write=False)
    entry = _visible_entry(opened, entry_id)
    return _etag_response(_entry_json(entry, opened), entry.revision)


def _if_match() -> int:
    """The revision the caller read, from If-Match (quoted or bare)."""
    header = request.headers.get("If-Match")
    if header is None:
        raise ApiError(428)
    value = header.strip().removeprefix("W/").strip('"')
    if not value.isdigit():
        raise ApiError(412, _('If-Match doit contenir une révision, par exemple "3".'))
    return int(value)


def _editable_entry(slug: str, entry_id: int):
    opened = _form_for(slug, write=True)
    entry = _visible_entry(opened, entry_id)
    if not can_edit_entry(g.api_user, entry):
        raise ApiError(
            403,
            _("Cette entrée ne peut plus être modifiée (retirée ou formulaire clos)."),
        )
    return opened, entry


@bp.put("/forms/<slug>/entries/<int:entry_id>")
def replace(slug, entry_id):
    """Replace the entry's data whole, if nobody changed it since If-Match."""
    opened, entry = _editable_entry(slug, entry_id)
    expected = _if_match()
    data = _valid_entry(opened, entry.data)
    try:
        entry = change_entry(
            opened,
            entry,
            expected,
            g.api_user,
            data=data,
            state="submitted",
            action="submit" if entry.state == "draft" else "update",
        )
    except RevisionConflictError as exc:
        raise ApiError(412, revision=exc.current_revision) from None
    except DuplicateEntryError as exc:
        raise ApiError(409, errors=_public_errors(exc.errors)) from None
    return _etag_response({"id": entry.id, "revision": entry.revision}, entry.revision)


@bp.delete("/forms/<slug>/entries/<int:entry_id>")
def delete(slug, entry_id):
    """Withdraw the entry: gone from publication, kept in the history."""
    opened, entry = _editable_entry(slug, entry_id)
    expected = _if_match()
    try:
        entry = change_entry(
            opened, entry, expected, g.api_user, state="withdrawn", action="withdraw"
        )
    except RevisionConflictError as exc:
        raise ApiError(412, revision=exc.current_revision) from None
    return _etag_response(
        {"id": entry.id, "revision": entry.revision, "state": entry.state},
        entry.revision,
    )
