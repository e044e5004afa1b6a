"""Administration pages."""

from __future__ import annotations

from flask import Blueprint, render_template
from sqlalchemy import func

from ..auth import admin_required
from ..db import db
from ..models import Entry, Form
from ..schemas.versions import current_version

bp = Blueprint("admin", __name__, url_prefix="/admin")

STATUS_LABELS = {"draft": "Brouillon", "published": "Publié", "closed": "Clos"}


@bp.route("/")
@admin_required
def index():
    counts = dict(
        db.session.execute(
            db.select(Entry.form_id, func.count(Entry.id)).group_by(Entry.form_id)
        ).all()
    )
    forms = db.session.execute(db.select(Form).order_by(Form.slug)).scalars().all()
    rows = []
    for form in forms:
        version = current_version(form) or (form.versions[-1] if form.versions else None)
        rows.append(
            {
                "form": form,
                "title": (version.schema.get("title") if version else None) or form.slug,
                "status": STATUS_LABELS.get(form.status, form.status),
                "version": form.current_version,
                "entries": counts.get(form.id, 0),
                "warnings": version.warnings_json if version else "[]",
            }
        )
    return render_template("admin/index.html", rows=rows)
