"""Forms by their schema: create, edit with a preview, versions and their diffs,
publication (with its check of the existing entries), bulk import."""

from __future__ import annotations

import json
import logging
import secrets
import tempfile
from pathlib import Path

from flask import (
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask_wtf.csrf import validate_csrf
from wtforms import ValidationError

from ..auth import admin_required, current_user
from ..compiler import compile_schema
from ..db import db
from ..entries import form_for_admin
from ..errors import InvalidSchemaError, SchemaProblem
from ..forms import page_form
from ..imports import ImportRefused, import_file
from ..migrate import MigrationRefused, diff, plan
from ..models import Form, Organisation
from ..publish import sync_form
from ..schemas import LoadedSchema, check_slug, load_text
from ..schemas.versions import current_version, install, publish_version
from . import bp, form_or_404, form_title, page_error

logger = logging.getLogger(__name__)

MAX_SCHEMA_BYTES = 2 * 1024 * 1024


def _posted_text() -> str:
    """The schema from the uploaded file, else from the text area."""
    upload = request.files.get("fichier")
    if upload and upload.filename:
        raw = upload.read(MAX_SCHEMA_BYTES + 1)
        if len(raw) > MAX_SCHEMA_BYTES:
            raise InvalidSchemaError(
                [_problem("fichier trop volumineux (2 Mo au plus)", "file")]
            )
        try:
            return raw.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise InvalidSchemaError(
                [_problem("le fichier n'est pas encodé en UTF-8", "file")]
            ) from None
    return request.form.get("schema", "")


def _problem(message: str, keyword: str) -> SchemaProblem:
    return SchemaProblem("", message, keyword)


def _editor(form: Form | None, text: str, loaded=None, problems=(), status=200):
    """The editor page: the schema, its problems by path, and a preview."""
    preview = None
    if loaded is not None:
        preview = page_form(compile_schema(loaded.canonical))
    errors = [
        page_error("slug", "Identifiant", p.message)
        if p.keyword == "slug" and form is None
        else page_error("schema", p.place, f"{p.message} [{p.keyword}]")
        for p in problems
    ]
    body = render_template(
        "admin/schema.html",
        form=form,
        title=f"Schéma : {form_title(form)}" if form else "Nouveau formulaire",
        text=text,
        slug=request.form.get("slug", ""),
        warnings=loaded.warnings if loaded else [],
        problems=problems,
        preview=preview,
        page_errors=errors,
    )
    return body, status


def _save(form: Form | None, text: str, loaded: LoadedSchema, action: str):
    slug = form.slug if form else loaded.slug(explicit=request.form.get("slug") or None)
    installed = install(
        loaded, slug, draft=True, origin="administration", user=current_user()
    )
    if action == "publier":
        return publish_form(installed.form, installed.version)
    sync_form(current_app.extensions["dnt_public"], installed.form)
    flash(f"Version {installed.version.number} enregistrée comme brouillon.", "succes")
    return redirect(url_for("admin.form_settings", slug=slug))


@bp.route("/formulaires/apercu", methods=["POST"])
@admin_required
def schema_preview():
    """The problems and the preview of a schema, as a piece of the editor
    page (apercu.js asks for it as the admin types)."""
    from urllib.parse import quote

    text = request.form.get("schema", "")
    loaded, problems = None, []
    try:
        loaded = load_text(text)
    except InvalidSchemaError as exc:
        problems = exc.problems
    preview = page_form(compile_schema(loaded.canonical)) if loaded else None
    body = render_template(
        "admin/_schema_result.html",
        problems=problems,
        warnings=loaded.warnings if loaded else [],
        preview=preview,
    )
    if problems:
        state = f"Aperçu mis à jour : {len(problems)} problème(s) à corriger."
    else:
        state = "Aperçu mis à jour : schéma valide."
    # A header carries only Latin-1: the text travels percent-encoded.
    response = current_app.response_class(body, mimetype="text/html")
    response.headers["X-Apercu-Etat"] = quote(state)
    return response


@bp.route("/formulaires/nouveau", methods=["GET", "POST"])
@admin_required
def schema_new():
    return _schema_page(None)


@bp.route("/formulaires/<slug>/schema", methods=["GET", "POST"])
@admin_required
def schema_edit(slug):
    return _schema_page(form_or_404(slug))


def _schema_page(form: Form | None):
    if request.method == "GET":
        latest = form.versions[-1] if form and form.versions else None
        text = latest.source_text if latest else ""
        loaded = load_text(text) if latest else None
        return _editor(form, text, loaded)

    # The uploaded file's text comes back in the text area, problems or not:
    # a browser never sends a file input back, so the file would be lost.
    text = request.form.get("schema", "")
    try:
        validate_csrf(request.form.get("csrf_token"))
    except ValidationError:
        # A stale page (the session ended): the pasted schema comes back with
        # a fresh token; nothing is saved without one.
        expired = _problem(
            "session expirée : rien n'a été enregistré ; vérifiez de nouveau puis "
            "enregistrez",
            "csrf_token",
        )
        return _editor(form, text, None, [expired], 400)
    try:
        text = _posted_text()
        loaded = load_text(text)
        if form is None:
            slug = loaded.slug(explicit=request.form.get("slug") or None)
            check_slug(slug)
            if db.session.execute(db.select(Form).filter_by(slug=slug)).scalar():
                raise InvalidSchemaError(
                    [_problem(f"un formulaire « {slug} » existe déjà", "slug")]
                )
    except InvalidSchemaError as exc:
        return _editor(form, text, None, exc.problems, 422)

    action = request.form.get("action", "verifier")
    if action in ("brouillon", "publier"):
        return _save(form, text, loaded, action)
    return _editor(form, text, loaded)


def publish_form(form: Form, version, to_complete: bool = False):
    """Publish after checking the entries; show those the version would break."""
    try:
        done = publish_version(
            form, version, to_complete=to_complete, user=current_user()
        )
    except MigrationRefused as exc:
        db.session.rollback()
        return render_template(
            "admin/publish_check.html",
            form=form,
            title=form_title(form),
            plan=exc.plan,
        ), 409
    sync_form(current_app.extensions["dnt_public"], form)
    message = f"Version {version.number} publiée."
    changed = [f for f in done.failures if f.state == "submitted"]
    if changed:
        message += f" {len(changed)} entrée(s) passée(s) « à compléter »."
    flash(message, "succes")
    return redirect(url_for("admin.form_settings", slug=form.slug))


@bp.route("/formulaires/<slug>/publier", methods=["POST"])
@admin_required
def publish_latest_version(slug):
    form = form_or_404(slug)
    if not form.versions:
        abort(404)
    return publish_form(
        form, form.versions[-1], request.form.get("a_completer") == "oui"
    )


@bp.route("/formulaires/<slug>/versions")
@admin_required
def versions(slug):
    form = form_or_404(slug)
    rows = []
    previous = None
    for version in form.versions:
        changes = diff(previous.schema if previous else None, version.schema)[0]
        rows.append({"version": version, "changes": changes, "first": previous is None})
        previous = version
    return render_template(
        "admin/versions.html",
        form=form,
        title=form_title(form),
        rows=list(reversed(rows)),
        current=current_version(form),
    )


@bp.route("/formulaires/<slug>/versions/<int:number>")
@admin_required
def version_source(slug, number):
    form = form_or_404(slug)
    version = next((v for v in form.versions if v.number == number), None)
    if version is None:
        abort(404)
    pretty = version.source_text
    try:
        pretty = json.dumps(
            json.loads(version.source_text), ensure_ascii=False, indent=2
        )
    except ValueError:
        pass
    return render_template(
        "admin/version.html",
        form=form,
        title=form_title(form),
        version=version,
        source=pretty,
    )


@bp.route("/formulaires/<slug>/verification")
@admin_required
def publish_check(slug):
    """What publishing the latest draft would do to the entries, before doing it."""
    form = form_or_404(slug)
    if not form.versions:
        abort(404)
    latest = form.versions[-1]
    if latest.number == form.current_version:
        return render_template(
            "admin/publish_check.html", form=form, title=form_title(form), plan=None
        )
    checked = plan(form, latest)
    db.session.rollback()
    return render_template(
        "admin/publish_check.html", form=form, title=form_title(form), plan=checked
    )


# -- Bulk import --------------------------------------------------------------


def _reports_dir() -> Path:
    folder = Path(current_app.instance_path) / "rapports"
    folder.mkdir(exist_ok=True)
    return folder


@bp.route("/formulaires/<slug>/import", methods=["GET", "POST"])
@admin_required
def bulk_import(slug):
    form = form_or_404(slug)
    orgs = db.session.execute(db.select(Organisation).order_by(Organisation.code))
    orgs = orgs.scalars().all()
    admin = current_user()

    def page(status=200, **context):
        return render_template(
            "admin/import.html",
            form=form,
            title=form_title(form),
            orgs=orgs,
            chosen=request.form.get("organisation", admin.org_code or ""),
            **context,
        ), status

    if request.method == "GET":
        return page()
    errors = []
    code = request.form.get("organisation", "")
    organisation = next((o for o in orgs if o.code == code), None)
    if code and organisation is None:
        errors.append(
            page_error(
                "organisation",
                "Organisation productrice",
                "Choisissez une organisation de la liste.",
            )
        )
    upload = request.files.get("fichier")
    if not upload or not upload.filename:
        errors.append(
            page_error("fichier", "Fichier", "Choisissez un fichier CSV ou XLSX.")
        )
    if errors:
        return page(422, page_errors=errors)
    suffix = Path(upload.filename).suffix.lower()
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"import{suffix}"
        upload.save(path)
        try:
            result = import_file(
                form_for_admin(slug), path, admin, organisation=organisation
            )
        except ImportRefused as refused:
            name = f"{slug}-{secrets.token_hex(8)}.csv"
            (_reports_dir() / name).write_text(
                refused.report_csv(), encoding="utf-8-sig"
            )
            error = page_error(
                "fichier",
                "Fichier",
                f"{str(refused)[:1].upper()}{str(refused)[1:]}. Corrigez le fichier "
                "et recommencez.",
            )
            return page(
                422,
                refused=refused,
                report=name,
                page_errors=[error],
                summary_heading="Fichier refusé : rien n'a été importé",
            )
    producer = f"à {organisation.name}" if organisation else "à aucune organisation"
    flash(f"{result.created} entrée(s) importée(s), attribuée(s) {producer}.", "succes")
    return redirect(url_for("admin.form_settings", slug=slug))


@bp.route("/rapports/<name>")
@admin_required
def import_report(name):
    path = _reports_dir() / name
    if "/" in name or not name.endswith(".csv") or not path.is_file():
        abort(404)
    return send_file(path, mimetype="text/csv", as_attachment=True, download_name=name)
