"""Loading form schemas: JSON Schema or Table Schema, into one canonical form."""

from __future__ import annotations

import hashlib
import json
import logging
import re
from dataclasses import dataclass, field
from pathlib import Path

from ..config import schemas_path
from ..errors import InvalidSchemaError, SchemaProblem
from ..pointers import unescape
from .check import check_json_schema
from .drafts import check_meta_schema
from .naming import is_valid_slug, slugify
from .resolve import canonical_schema
from .tableschema import import_table_schema, looks_like_table_schema

logger = logging.getLogger(__name__)


@dataclass
class LoadedSchema:
    """A schema ready to become a form version."""

    canonical: dict
    kind: str
    source_text: str
    warnings: list[SchemaProblem] = field(default_factory=list)
    # The Table Schema as the import repaired it (None for a JSON Schema).
    tableschema: dict | None = None

    @property
    def digest(self) -> str:
        text = json.dumps(self.canonical, sort_keys=True, ensure_ascii=False)
        return hashlib.sha256(text.encode()).hexdigest()

    def slug(self, stem: str | None = None, explicit: str | None = None) -> str:
        """The slug: explicit, else the schema's name, title, then file stem."""
        if explicit:
            return explicit
        candidates = [
            (self.tableschema or {}).get("name"),
            self.canonical.get("name"),
            self.canonical.get("title"),
            stem,
        ]
        for candidate in candidates:
            if isinstance(candidate, str) and slugify(candidate):
                return slugify(candidate)
        raise InvalidSchemaError(
            [SchemaProblem("", "impossible de tirer un identifiant : passez --slug")]
        )


def load_text(text: str, folder: Path | None = None) -> LoadedSchema:
    """Parse and check a schema given as text; raise InvalidSchemaError.

    `folder` is where the schema's file lies: shared definition files it
    references are looked up there, then in the shipped form_schemas/.
    """
    if not text.strip():
        raise InvalidSchemaError(
            [
                SchemaProblem(
                    "",
                    "schéma vide : collez un schéma JSON ou choisissez un fichier",
                    "json",
                )
            ]
        )
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InvalidSchemaError(
            [
                SchemaProblem(
                    "",
                    f"JSON illisible ligne {exc.lineno}, colonne {exc.colno} : "
                    "vérifiez les virgules, guillemets et accolades autour de "
                    "cet endroit",
                    "json",
                )
            ]
        ) from None

    if looks_like_table_schema(data):
        try:
            canonical, warnings, repaired = import_table_schema(data)
            try:
                checked = check_json_schema(canonical)
            except InvalidSchemaError as exc:
                raise InvalidSchemaError(
                    table_paths(exc.problems, repaired),
                    warnings + table_paths(exc.warnings, repaired),
                ) from None
        except InvalidSchemaError as exc:
            raise InvalidSchemaError(
                named(exc.problems, data), named(exc.warnings, data)
            ) from None
        warnings = named(warnings + table_paths(checked, repaired), data)
        return LoadedSchema(canonical, "tableschema", text, warnings, repaired)

    folders = [f for f in (folder, schemas_path()) if f is not None]
    try:
        check_meta_schema(data)
    except InvalidSchemaError as exc:
        more = _beyond_meta(data, exc.problems, folders)
        raise InvalidSchemaError(exc.problems + more, exc.warnings) from None
    canonical = canonical_schema(data, folders)
    warnings = check_json_schema(canonical)
    return LoadedSchema(canonical, "jsonschema", text, warnings)


def _beyond_meta(data, problems: list[SchemaProblem], folders) -> list[SchemaProblem]:
    """The form's own checks on the fields the meta-schema did not refuse,
    so that one pass lists every problem (bounds, patterns…), not the first
    kind found. Best effort: a schema too broken to read gives none."""
    if not isinstance(data, dict) or not isinstance(data.get("properties"), dict):
        return []
    refused = set()
    for problem in problems:
        parts = problem.path.split("/")
        if len(parts) < 3 or parts[1] != "properties":
            return []  # a problem of the whole schema: nothing to add safely
        refused.add(unescape(parts[2]))
    kept = {k: v for k, v in data["properties"].items() if k not in refused}
    if not kept:
        return []
    rest = {
        **data,
        "properties": kept,
        "required": [n for n in data.get("required") or [] if n in kept],
    }
    try:
        check_json_schema(canonical_schema(rest, folders))
    except InvalidSchemaError as exc:
        return [p for p in exc.problems if p.path.startswith("/properties/")]
    except Exception:  # noqa: BLE001 - only extra problems are at stake
        logger.debug("no further check of a schema the meta-schema refused")
    return []


def table_paths(problems: list[SchemaProblem], table: dict) -> list[SchemaProblem]:
    """Problems found on the JSON Schema made from a Table Schema, at the
    place of the Table Schema file that the admin edits: /fields/3, not
    /properties/nom."""
    index = {f["name"]: i for i, f in enumerate(table["fields"])}
    out = []
    for problem in problems:
        parts = problem.path.split("/")
        if len(parts) >= 3 and parts[1] == "properties" and parts[2] in index:
            field = table["fields"][index[parts[2]]]
            rest = parts[3:]
            # A keyword that came from the field's constraints goes back there.
            if rest and rest[0] in (field.get("constraints") or {}):
                rest = ["constraints", *rest]
            path = "/".join(["", "fields", str(index[parts[2]]), *rest])
            problem = SchemaProblem(path, problem.message, problem.keyword)
        out.append(problem)
    return out


_FIELD_PATH = re.compile(r"^/fields/(\d+)(/|$)")


def named(problems: list[SchemaProblem], table: dict) -> list[SchemaProblem]:
    """The problems, each pointing into a field knowing that field's name."""
    fields = table.get("fields") or []
    for problem in problems:
        found = _FIELD_PATH.match(problem.path)
        if found and int(found[1]) < len(fields):
            field = fields[int(found[1])]
            name = field.get("name") if isinstance(field, dict) else None
            if isinstance(name, str) and name:
                problem.field = name
    return problems


def load_file(path: str | Path) -> LoadedSchema:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise InvalidSchemaError(
            [SchemaProblem("", f"fichier introuvable : {path}", "file")]
        ) from None
    except IsADirectoryError:
        raise InvalidSchemaError(
            [SchemaProblem("", f"{path} est un dossier, pas un fichier", "file")]
        ) from None
    except UnicodeDecodeError:
        raise InvalidSchemaError(
            [SchemaProblem("", f"{path} n'est pas encodé en UTF-8", "file")]
        ) from None
    except OSError as exc:
        raise InvalidSchemaError(
            [SchemaProblem("", f"fichier illisible : {path} ({exc.strerror})", "file")]
        ) from None
    return load_text(text, path.parent)


def check_slug(slug: str) -> None:
    if not is_valid_slug(slug):
        raise InvalidSchemaError(
            [
                SchemaProblem(
                    "",
                    f"identifiant « {slug} » invalide : minuscules ASCII, chiffres et "
                    "tirets, commençant par une lettre, 63 caractères au plus",
                    "slug",
                )
            ]
        )
