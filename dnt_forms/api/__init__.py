"""JSON API under /api/v1/: token auth, strict JSON, one error envelope."""

from __future__ import annotations

import json
import logging

from flask import Blueprint, g, jsonify, request, url_for
from werkzeug.exceptions import HTTPException

from ..auth import token_from_request
from ..entries import listed_forms, open_form, reference_errors, save_new_entry
from ..errors import (
    DuplicateEntryError,
    EntryNotFoundError,
    FormClosedError,
    SchemaNotFoundError,
)
from ..store import entries_of, get_entry
from ..validation import finalise, normalise_api_entry, validate_data

logger = logging.getLogger(__name__)

bp = Blueprint("api", __name__, url_prefix="/api/v1")
PAGE_SIZE = 100

SUMMARIES = {
    400: "Requête mal formée.",
    401: "Jeton d'API absent ou invalide : envoyez « Authorization: Bearer <jeton> ».",
    403: "Ce jeton ne permet pas cette action sur ce formulaire.",
    404: "Introuvable.",
    405: "Méthode non permise sur cette adresse.",
    409: "Une entrée avec la même clé existe déjà.",
    413: "Corps de requête trop volumineux.",
    415: "Type de contenu non pris en charge : envoyez du JSON.",
    422: "L'entrée contient des erreurs.",
    500: "Erreur interne : l'incident est enregistré.",
}


class ApiError(Exception):
    def __init__(self, status: int, error: str | None = None, errors=None, **extra):
        self.status = status
        self.error = error or SUMMARIES.get(status, "Erreur.")
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
    return envelope(exc.code, SUMMARIES.get(exc.code, exc.name))


@bp.errorhandler(Exception)
def _unexpected(exc: Exception):
    logger.exception("API failure on %s %s", request.method, request.path)
    return envelope(500, SUMMARIES[500])


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
            message = f"{e['title']} : {message[:1].lower()}{message[1:]}"
        out.append({"path": e["path"], "message": message})
    return out


def _form_for(slug: str, *, write: bool):
    token = g.token
    try:
        opened = open_form(slug, g.api_user)
    except SchemaNotFoundError:
        raise ApiError(404, f"Aucun formulaire « {slug} ».") from None
    if not token.allows_form(slug):
        raise ApiError(403)
    if write and token.scope != "write":
        raise ApiError(403, "Ce jeton est en lecture seule (scope read).")
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
        for opened in listed_forms()
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
            415, "Envoyez l'entrée en JSON, avec l'en-tête "
            "« Content-Type: application/json »."
        )

    def refuse_constant(name):
        raise ValueError(name)

    try:
        return json.loads(request.get_data(cache=False), parse_constant=refuse_constant)
    except json.JSONDecodeError as exc:
        raise ApiError(
            400, f"JSON illisible ligne {exc.lineno}, colonne {exc.colno}."
        ) from None
    except (ValueError, UnicodeDecodeError) as exc:
        raise ApiError(
            400, f"JSON illisible : {exc} n'est pas une valeur JSON (utilisez null)."
        ) from None


@bp.post("/forms/<slug>/entries")
def create(slug):
    opened = _form_for(slug, write=True)
    payload = _strict_json()

    data, errors = normalise_api_entry(payload, opened.specs)
    if isinstance(payload, dict):
        errors += validate_data(opened.version.schema_json, data, opened.specs)
        errors += reference_errors(opened, data)
    if errors:
        raise ApiError(422, errors=_public_errors(errors))

    try:
        entry = save_new_entry(opened, finalise(data, opened.specs), g.api_user)
    except DuplicateEntryError as exc:
        extra = {}
        if _may_see(exc.existing_id, opened):
            extra["existing"] = url_for(
                "api.read", slug=slug, entry_id=exc.existing_id, _external=True
            )
        raise ApiError(409, errors=_public_errors(exc.errors), **extra) from None
    except FormClosedError:
        raise ApiError(403, "Ce formulaire est clos : il n'accepte plus d'entrées.")

    response = jsonify({"id": entry.id, "revision": entry.revision})
    response.status_code = 201
    response.headers["ETag"] = f'"{entry.revision}"'
    response.headers["Location"] = url_for("api.read", slug=slug, entry_id=entry.id)
    return response


def _may_see(entry_id: int, opened) -> bool:
    try:
        entry = get_entry(opened.form, entry_id)
    except EntryNotFoundError:
        return False
    user = g.api_user
    return user.is_admin or entry.organisation_id == user.organisation_id


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


@bp.get("/forms/<slug>/entries")
def list_entries(slug):
    opened = _form_for(slug, write=False)
    page = request.args.get("page", "1")
    if not page.isdigit() or int(page) < 1:
        raise ApiError(400, "« page » doit être un entier à partir de 1.")
    page = int(page)
    user = g.api_user
    rows = entries_of(
        opened.form,
        user.organisation_id,
        every_org=user.is_admin,
        limit=PAGE_SIZE + 1,
        offset=(page - 1) * PAGE_SIZE,
    )
    body = {"entries": [_entry_json(e, opened) for e in rows[:PAGE_SIZE]], "next": None}
    if len(rows) > PAGE_SIZE:
        body["next"] = url_for("api.list_entries", slug=slug, page=page + 1, _external=True)
    return body


@bp.get("/forms/<slug>/entries/<int:entry_id>")
def read(slug, entry_id):
    opened = _form_for(slug, write=False)
    if not _may_see(entry_id, opened):
        # Another organisation's entry is answered exactly like a missing one.
        raise ApiError(404, f"Aucune entrée {entry_id} dans « {slug} ».")
    entry = get_entry(opened.form, entry_id)
    response = jsonify(_entry_json(entry, opened))
    response.headers["ETag"] = f'"{entry.revision}"'
    return response
