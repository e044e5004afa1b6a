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
from ..migrate import MigrationRefused
from ..models import Form, FormVersion
from . import LoadedSchema, check_slug, load_file

logger = logging.getLogger(__name__)


@dataclass
class Installed:
    form: Form
    version: FormVersion
    changed: bool
    # The migration that published it, if it was published.
    plan: object = None


def install(
    loaded: LoadedSchema,
    slug: str,
    *,
    draft: bool = False,
    origin: str | None = None,
    to_complete: bool = False,
    user=None,
) -> Installed:
    """Store a schema as a new version of form `slug` (unless it is unchanged).

    Unless `draft`, the version is published through `publish_version`: its
    entries are migrated, and MigrationRefused (the version kept as a draft)
    when some no longer validate and `to_complete` is not set.
    """
    check_slug(slug)
    form = db.session.execute(db.select(Form).filter_by(slug=slug)).scalar_one_or_none()
    if form is None:
        form = Form(slug=slug, status="draft" if draft else "published", origin=origin)
        db.session.add(form)
        db.session.flush()

    latest = form.versions[-1] if form.versions else None
    if latest is not None and latest.digest == loaded.digest:
        if not draft and not latest.published:
            done = publish_version(form, latest, to_complete=to_complete, user=user)
            return Installed(form, latest, True, done)
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
    db.session.commit()
    logger.info("form %s: version %s stored (draft=%s)", slug, version.number, draft)
    done = None
    if not draft:
        done = publish_version(form, version, to_complete=to_complete, user=user)
    return Installed(form, version, True, done)


def publish_version(form: Form, version: FormVersion, *, to_complete=False, user=None):
    """Publish a version: check and migrate the entries first (migrate.py)."""
    from ..migrate import apply, plan

    return apply(plan(form, version), to_complete=to_complete, user=user)


def publish_latest(slug: str, *, to_complete: bool = False, user=None) -> FormVersion:
    """Publish the latest draft version of a form."""
    form = get_form(slug)
    latest = form.versions[-1]
    if latest.published and form.current_version == latest.number:
        # Already the version in use: its entries were checked then.
        if form.status == "draft":
            form.status = "published"
            db.session.commit()
        return latest
    publish_version(form, latest, to_complete=to_complete, user=user)
    return latest


def publication_specs(form: Form, version: FormVersion) -> list[FieldSpec]:
    """What public.db shows of a form: its fields, then its removed ones."""
    from ..migrate import retired_specs

    return specs_of(version) + retired_specs(form)


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

    A file seeds its form, and later versions of the file are applied too,
    but only while the form's latest version came from that file: once an
    administrator has changed the form (admin pages, `schema import`), a
    restart must not undo that change. Such a file is reported, not applied.

    Returns (file name, outcome, messages) for each file.
    """
    report = []
    for path in sorted(folder.glob("*.json")):
        if path.name.startswith("_"):
            # Files starting with "_" hold shared definitions, not forms.
            continue
        origin = f"form_schemas/{path.name}"
        try:
            loaded = load_file(path)
            slug = loaded.slug(stem=path.stem)
            form = db.session.execute(
                db.select(Form).filter_by(slug=slug)
            ).scalar_one_or_none()
            if form is not None and form.versions and form.origin != origin:
                report.append((path.name, _changed_elsewhere(form), []))
                continue
            installed = install(loaded, slug, origin=origin)
        except InvalidSchemaError as exc:
            db.session.rollback()
            logger.warning("schema %s refused: %s", path.name, exc)
            report.append((path.name, "refusé", [str(p) for p in exc.problems]))
            continue
        except MigrationRefused as exc:
            db.session.rollback()
            logger.warning("schema %s kept as a draft: %s", path.name, exc)
            report.append((path.name, "gardé en brouillon", [str(exc)]))
            continue
        outcome = (
            f"{slug} : version {installed.version.number}"
            if installed.changed
            else f"{slug} : inchangé"
        )
        report.append((path.name, outcome, [str(w) for w in loaded.warnings]))
    return report


def _changed_elsewhere(form: Form) -> str:
    by = (
        "les pages d'administration"
        if form.origin == "administration"
        else f"« {form.origin} »"
        if form.origin
        else "une autre source"
    )
    logger.info(
        "form %s: changed from %s, its shipped file not applied",
        form.slug,
        form.origin,
    )
    return (
        f"{form.slug} : fichier non appliqué, le formulaire a été modifié depuis "
        f"par {by} (version {form.versions[-1].number})"
    )
