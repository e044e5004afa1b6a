"""Slugs and field names: what may become a table or a column name."""

from __future__ import annotations

import re
import unicodedata

SLUG_RE = re.compile(r"^[a-z][a-z0-9-]{0,62}$")
MAX_FIELD_NAME = 128


def slugify(text: str) -> str:
    """Lowercase ASCII with hyphens, as INTERFACE.md defines slugs."""
    ascii_text = (
        unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    )
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")
    slug = re.sub(r"^[^a-z]+", "", slug)
    return slug[:63].rstrip("-")


def is_valid_slug(slug: str) -> bool:
    return bool(SLUG_RE.match(slug))


def field_name_problem(name: str) -> str | None:
    """Why a property name cannot be a column, or None when it can.

    Names are always quoted in SQL; these rules keep them unambiguous
    next to our reserved columns and the `parent__child` naming.
    """
    if not isinstance(name, str) or not name.strip():
        return "le nom du champ est vide"
    if name != name.strip():
        return "le nom du champ commence ou finit par un espace"
    if len(name) > MAX_FIELD_NAME:
        return f"le nom du champ dépasse {MAX_FIELD_NAME} caractères"
    if name.startswith("_"):
        return "les noms commençant par « _ » sont réservés au service"
    if "__" in name:
        return "« __ » est réservé aux champs imbriqués (parent__enfant)"
    if any(unicodedata.category(c).startswith("C") for c in name):
        return "le nom du champ contient un caractère de contrôle"
    return None
