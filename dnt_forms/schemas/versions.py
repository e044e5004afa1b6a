"""Forms and their numbered versions in the private store."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from ..compiler import FieldSpec, compile_schema
from ..db import db
from ..errors import InvalidSchemaError, SchemaNotFoundError
from ..models import Form, FormVersion
from . import LoadedSchema, check_slug, load_file

logger = logging.getLogger(__name__)


@dataclass
class Installed:
    form: Form
    version: FormVersion
    changed: bool


def install(
    loaded: LoadedSchema, slug: str, *, draft: bool = False, origin: str | None = None
) -> Installed:
    """Store a schema as a new version of form `slug` (unless it is unchanged)."""
    check_slug(slug)
    form = db.session.execute(db.select(Form).filter_by(slug=slug)).scalar_one_or_none()
    if form is None:
        form = Form(slug=slug, status="draft" if draft else "published", origin=origin)
        db.session.add(form)
        db.session.flush()

    latest = form.versions[-1] if form.versions else None
    if latest is not None and latest.digest == loaded.digest:
        if not draft and not latest.published:
            _publish_version(form, latest)
            db.session.commit()
            return Installed(form, latest, True)
        return Installed(form, latest, False)

    version = FormVersion(
        form=form,
        number=(latest.number + 1) if latest else 1,
        published=False,
        schema_json=json.dumps(loaded.canonical, ensure_ascii=False),
        source_text=loaded.source_text,
        source_kind=loaded.kind,
        digest=loaded.digest,
        warnings_json=json.dumps([str(w) for w in loaded.warnings], ensure_ascii=False),
    )
    db.session.add(version)
    if origin:
        form.origin = origin
    if not draft:
        _publish_version(form, version)
    db.session.commit()
    logger.info("form %s: version %s stored (draft=%s)", slug, version.number, draft)
    return Installed(form, version, True)


def _publish_version(form: Form, version: FormVersion) -> None:
    version.published = True
    form.current_version = version.number
    if form.status == "draft":
        form.status = "published"


def publish_latest(slug: str) -> FormVersion:
    """Publish the latest draft version of a form."""
    form = get_form(slug)
    latest = form.versions[-1]
    _publish_version(form, latest)
    db.session.commit()
    return latest


def close(slug: str) -> Form:
    form = get_form(slug)
    form.status = "closed"
    db.session.commit()
    return form


def get_form(slug: str) -> Form:
    form = db.session.execute(db.select(Form).filter_by(slug=slug)).scalar_one_or_none()
    if form is None:
        raise SchemaNotFoundError(f"Aucun formulaire « {slug} ».")
    return form


def current_version(form: Form) -> FormVersion | None:
    """The published version new entries use, None while only drafts exist."""
    for version in reversed(form.versions):
        if version.number == form.current_version:
            return version
    return None


def specs_of(version: FormVersion) -> list[FieldSpec]:
    return _compiled(version.schema_json)


@lru_cache(maxsize=256)
def _compiled(schema_json: str) -> list[FieldSpec]:
    return compile_schema(json.loads(schema_json))


def load_directory(folder: Path) -> list[tuple[str, str, list[str]]]:
    """Install every schema file of a folder; a bad file is reported and skipped.

    Returns (file name, outcome, messages) for each file.
    """
    report = []
    for path in sorted(folder.glob("*.json")):
        if path.name.startswith("_"):
            # Files starting with "_" hold shared definitions, not forms.
            continue
        try:
            loaded = load_file(path)
            slug = loaded.slug(stem=path.stem)
            installed = install(loaded, slug, origin=f"form_schemas/{path.name}")
        except InvalidSchemaError as exc:
            db.session.rollback()
            logger.warning("schema %s refused: %s", path.name, exc)
            report.append((path.name, "refusé", [str(p) for p in exc.problems]))
            continue
        outcome = (
            f"{slug} : version {installed.version.number}"
            if installed.changed
            else f"{slug} : inchangé"
        )
        report.append((path.name, outcome, [str(w) for w in loaded.warnings]))
    return report
