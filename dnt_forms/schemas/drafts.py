"""Which JSON Schema draft a schema is read with, and its meta-schema check.

A schema is first checked against its own draft's meta-schema; each
refusal is said in French at the keyword the author wrote.
"""

from __future__ import annotations

import json
import re

from jsonschema import Draft7Validator, Draft202012Validator
from jsonschema.exceptions import SchemaError
from jsonschema.validators import validator_for

from ..errors import InvalidSchemaError, SchemaProblem
from ..pointers import pointer

DRAFT_2020 = "https://json-schema.org/draft/2020-12/schema"

DRAFT_07 = "http://json-schema.org/draft-07/schema#"

# Keywords that only a draft-07 schema uses: their presence decides the
# draft of a schema without "$schema".
DRAFT7_MARKERS = ("definitions", "dependencies", "additionalItems")


def detect_draft(schema: dict) -> str:
    """The draft a schema is read with: its $schema, else its keywords."""
    if "$schema" in schema:
        return schema["$schema"]
    if _uses_draft7_keywords(schema):
        return DRAFT_07
    return DRAFT_2020


def _uses_draft7_keywords(node) -> bool:
    if isinstance(node, dict):
        if any(k in node for k in DRAFT7_MARKERS):
            return True
        if isinstance(node.get("items"), list):
            return True
        return any(_uses_draft7_keywords(v) for v in node.values())
    if isinstance(node, list):
        return any(_uses_draft7_keywords(v) for v in node)
    return False


def validator_class(schema: dict):
    """The jsonschema validator class for the schema's draft."""
    draft = detect_draft(schema)
    if draft == DRAFT_07:
        return Draft7Validator
    return validator_for({"$schema": draft}, default=Draft202012Validator)


def check_meta_schema(schema) -> None:
    """Refuse a schema that its own draft's meta-schema rejects, with paths."""
    if not isinstance(schema, dict):
        raise InvalidSchemaError(
            [SchemaProblem("", "le schéma doit être un objet JSON", "type")]
        )
    cls = validator_class(schema)
    try:
        cls.check_schema(schema)
    except SchemaError as exc:
        # check_schema also checks formats (a pattern must be a regex): the
        # listing must too, or such a schema is refused with no problem said.
        checker = cls(cls.META_SCHEMA, format_checker=cls.FORMAT_CHECKER)
        problems = [_meta_problem(error) for error in checker.iter_errors(schema)]
        raise InvalidSchemaError(problems or [_meta_problem(exc)]) from None


JSON_TYPES = "string, integer, number, boolean, array, object ou null"


def _meta_problem(error) -> SchemaProblem:
    """A meta-schema error in French, at the keyword the author wrote."""
    path = list(error.absolute_path)
    keyword = str(path[-1]) if path else str(error.validator)
    value = json.dumps(error.instance, ensure_ascii=False)
    if keyword == "type":
        message = f"type {value} inconnu : utilisez {JSON_TYPES}"
    elif error.validator == "type":
        expected = error.validator_value
        expected = " ou ".join(expected) if isinstance(expected, list) else expected
        message = f"la valeur {value} n'a pas le bon type (attendu : {expected})"
    elif error.validator == "enum":
        allowed = ", ".join(json.dumps(v) for v in error.validator_value)
        message = f"valeur {value} non permise (valeurs permises : {allowed})"
    elif error.validator == "format" and error.validator_value == "regex":
        message = regex_problem(error.instance) or f"expression régulière {value}"
    elif error.validator in ("minimum", "exclusiveMinimum", "minItems", "minLength"):
        message = (
            f"valeur {value} trop petite ({error.validator} {error.validator_value})"
        )
    else:
        message = f"« {error.validator} » : {error.message}"
    return SchemaProblem(pointer(path), message, keyword)


# What re says of a broken pattern, as an admin can act on it.
_REGEX_REASONS = {
    "missing ), unterminated subpattern": "parenthèse ouverte jamais fermée",
    "unbalanced parenthesis": "parenthèse fermée jamais ouverte",
    "unterminated character set": "crochet ouvert jamais fermé",
    "bad character range": "intervalle de caractères à l'envers",
    "nothing to repeat": "répétition (*, + ou ?) sans rien avant",
    "multiple repeat": "deux répétitions de suite",
    "min repeat greater than max repeat": "{n,m} avec n plus grand que m",
    "bad escape": "barre oblique inverse mal placée (doublez-la dans le JSON)",
}


def regex_problem(pattern) -> str | None:
    """Why a pattern is no regular expression, in French; None if it is."""
    if not isinstance(pattern, str):
        return None
    try:
        re.compile(pattern)
    except re.error as exc:
        reason = next(
            (fr for en, fr in _REGEX_REASONS.items() if exc.msg.startswith(en)),
            exc.msg,
        )
        return (
            f"expression régulière « {pattern} » illisible : {reason} "
            f"(caractère n° {(exc.pos or 0) + 1})"
        )
    return None
