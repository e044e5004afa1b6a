"""Bring a JSON Schema to one canonical shape before it is checked.

- Every `$ref` is replaced by what it points to (a local `$defs` or
  `definitions` entry, or an entry of a shared dictionary file next to the
  schema, such as `_dictionnaire.json#/$defs/siret`). A recursive reference
  cannot become a finite form and is refused, naming the `$ref`.
- A draft-07 schema is rewritten with its 2020-12 equivalents (`dependencies`,
  tuple `items`, `additionalItems`), so that the compiler and the validator
  read one draft only, with the draft-07 meaning kept.
"""

from __future__ import annotations

import copy
import json
import logging
from pathlib import Path
from urllib.parse import unquote

from ..errors import InvalidSchemaError, SchemaProblem
from ..pointers import escape, unescape
from .drafts import DRAFT_07, DRAFT_2020, detect_draft

logger = logging.getLogger(__name__)

# Keywords that hold subschemas, and how: one schema, a list, or a mapping.
_ONE = (
    "items",
    "additionalItems",
    "not",
    "if",
    "then",
    "else",
    "contains",
    "additionalProperties",
    "propertyNames",
    "unevaluatedItems",
    "unevaluatedProperties",
)
_LIST = ("allOf", "anyOf", "oneOf", "prefixItems")
_MAP = ("properties", "patternProperties", "$defs", "definitions", "dependentSchemas")


def canonical_schema(schema: dict, folders: list[Path] | None = None) -> dict:
    """The schema with references inlined and written in draft 2020-12."""
    draft = detect_draft(schema)
    resolver = _Resolver(schema, folders or [])
    resolved = resolver.resolve(schema, "", ())
    if resolver.problems:
        raise InvalidSchemaError(resolver.problems)

    resolved.pop("$defs", None)
    resolved.pop("definitions", None)
    if draft == DRAFT_07:
        resolved = _from_draft7(resolved)
    if draft in (DRAFT_07, DRAFT_2020) or "$schema" not in schema:
        resolved["$schema"] = DRAFT_2020
    return resolved


class _Resolver:
    def __init__(self, root: dict, folders: list[Path]):
        self.root = root
        self.folders = folders
        self.files: dict[str, dict] = {}
        self.problems: list[SchemaProblem] = []

    def resolve(self, node, path: str, stack: tuple):
        if isinstance(node, list):
            return [self.resolve(v, f"{path}/{i}", stack) for i, v in enumerate(node)]
        if not isinstance(node, dict):
            return node

        if isinstance(node.get("$ref"), str):
            return self._inline(node, path, stack)

        out = {}
        for key, value in node.items():
            if key in ("$defs", "definitions") and path == "":
                # Kept until the end: references point into them.
                out[key] = value
            elif key in _MAP and isinstance(value, dict):
                out[key] = {
                    name: self.resolve(sub, f"{path}/{key}/{escape(name)}", stack)
                    for name, sub in value.items()
                }
            elif key in _ONE or key in _LIST:
                out[key] = self.resolve(value, f"{path}/{key}", stack)
            else:
                out[key] = value
        return out

    def _inline(self, node: dict, path: str, stack: tuple):
        ref = node["$ref"]
        where = f"{path}/$ref"
        if ref in stack:
            self.problems.append(
                SchemaProblem(
                    where,
                    f"référence récursive « {ref} » : un formulaire ne peut pas "
                    "s'imbriquer lui-même sans fin",
                    "$ref",
                )
            )
            return {}
        target, document = self._target(ref, where)
        if target is None:
            return {}

        # The target is resolved within its own document, so that a shared
        # dictionary's internal references point into the dictionary.
        saved_root = self.root
        self.root = document
        resolved = self.resolve(copy.deepcopy(target), path, stack + (ref,))
        self.root = saved_root

        # Keywords written beside the $ref (a title, a purpose) refine it.
        siblings = {k: v for k, v in node.items() if k != "$ref"}
        resolved.update(self.resolve(siblings, path, stack))
        return resolved

    def _target(self, ref: str, where: str):
        file_part, _, pointer = ref.partition("#")
        document = self.root
        if file_part:
            document = self._file(file_part, where)
            if document is None:
                return None, None
        try:
            return _walk(document, pointer), document
        except (KeyError, IndexError, TypeError):
            self.problems.append(
                SchemaProblem(where, f"référence « {ref} » introuvable", "$ref")
            )
            return None, None

    def _file(self, name: str, where: str) -> dict | None:
        if "/" in name or "\\" in name or not name.endswith(".json"):
            self.problems.append(
                SchemaProblem(
                    where,
                    f"« {name} » : seules les références locales ou vers un fichier "
                    "de définitions du dossier des schémas sont permises",
                    "$ref",
                )
            )
            return None
        if name in self.files:
            return self.files[name]
        for folder in self.folders:
            candidate = folder / name
            if candidate.is_file():
                self.files[name] = json.loads(candidate.read_text(encoding="utf-8"))
                return self.files[name]
        self.problems.append(
            SchemaProblem(
                where, f"fichier de définitions « {name} » introuvable", "$ref"
            )
        )
        return None


def _walk(document, pointer: str):
    node = document
    for part in pointer.lstrip("/").split("/") if pointer.strip("/") else []:
        part = unescape(unquote(part))
        node = node[int(part)] if isinstance(node, list) else node[part]
    return node


def _from_draft7(node):
    """Draft-07 keywords rewritten as their 2020-12 equivalents."""
    if isinstance(node, list):
        return [_from_draft7(v) for v in node]
    if not isinstance(node, dict):
        return node

    out = {k: _from_draft7(v) for k, v in node.items()}
    dependencies = out.pop("dependencies", None)
    if isinstance(dependencies, dict):
        for name, value in dependencies.items():
            target = (
                "dependentRequired" if isinstance(value, list) else "dependentSchemas"
            )
            out.setdefault(target, {})[name] = value
    if isinstance(out.get("items"), list):
        out["prefixItems"] = out.pop("items")
        if "additionalItems" in out:
            out["items"] = out.pop("additionalItems")
    else:
        # Without tuple items, additionalItems has no effect in draft-07.
        out.pop("additionalItems", None)
    out.pop("$schema", None)
    return out
