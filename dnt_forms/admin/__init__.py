"""Administration pages: forms, organisations, accounts and their API tokens."""

from __future__ import annotations

from flask import Blueprint, abort, render_template
from sqlalchemy import func

from ..auth import admin_required
from ..db import db
from ..models import Entry, Form
from ..schemas.versions import current_version

bp = Blueprint("admin", __name__, url_prefix="/admin")

STATUS_LABELS = {"draft": "Brouillon", "published": "Publié", "closed": "Clos"}
ROLE_LABELS = {
    "admin": "Administrateur",
    "manager": "Gestionnaire",
    "agent": "Agent",
}


@bp.app_template_global()
def role_label(role: str) -> str:
    """A role as people read it."""
    return ROLE_LABELS.get(role, role)


def page_error(anchor: str, title: str, message: str) -> dict:
    """One line of the error summary, linked to the field it is about."""
    return {"anchor": anchor, "title": title, "message": message}


def errors_by_anchor(errors: list[dict]) -> dict[str, str]:
    """The message shown beside each field; two about one field are joined."""
    messages: dict[str, list[str]] = {}
    for e in errors:
        messages.setdefault(e["anchor"], []).append(e["message"])
    return {anchor: " ".join(texts) for anchor, texts in messages.items()}


def secret_page(response):
    """A page that shows a token or a link once must not stay in any cache."""
    response.headers["Cache-Control"] = "no-store"
    return response


def all_forms() -> list[Form]:
    """Every form, drafts and closed ones included, by slug."""
    return db.session.execute(db.select(Form).order_by(Form.slug)).scalars().all()


def form_or_404(slug: str) -> Form:
    form = db.session.execute(db.select(Form).filter_by(slug=slug)).scalar_one_or_none()
    if form is None:
        abort(404)
    return form


def form_title(form: Form) -> str:
    """The title of the version in use, else of the latest draft, else the slug."""
    version = current_version(form) or (form.versions[-1] if form.versions else None)
    return (version.schema.get("title") if version else None) or form.slug


@bp.route("/")
@admin_required
def index():
    counts = dict(
        db.session.execute(
            db.select(Entry.form_id, func.count(Entry.id)).group_by(Entry.form_id)
        ).all()
    )
    rows = [
        {
            "form": form,
            "title": form_title(form),
            "status": STATUS_LABELS.get(form.status, form.status),
            "version": form.current_version,
            "entries": counts.get(form.id, 0),
        }
        for form in all_forms()
    ]
    return render_template("admin/index.html", rows=rows)


# The route modules register on `bp`, so they are imported once it exists.
from . import accounts, forms, organisations, schemas, tokens  # noqa: F401
