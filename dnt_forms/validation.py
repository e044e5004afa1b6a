"""Validate entries with jsonschema and say what is wrong in plain French.

One validator per form version, shared by the HTML form, the JSON API and
file imports, so an entry is judged the same whichever way it arrives.
"""

from __future__ import annotations

import copy
import logging
import re
from datetime import date, datetime, time
from functools import lru_cache
from zoneinfo import ZoneInfo

import email_validator
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from jsonschema import FormatChecker
from jsonschema.validators import extend

from . import bounds
from .compiler import FieldSpec, instantiate, leaves, set_at, value_at, walk
from .pointers import pointer
from .schemas.conditions import is_variant
from .schemas.drafts import validator_class

logger = logging.getLogger(__name__)

PARIS = ZoneInfo("Europe/Paris")
SQLITE_INT_MIN = -(2**63)
SQLITE_INT_MAX = 2**63 - 1

_DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_TIME_RE = re.compile(r"^(\d{2}):(\d{2})(?::(\d{2})(\.\d{1,6})?)?$")
_NAIVE_DATETIME_RE = re.compile(r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?$")

# jsonschema names the fields of a dependentRequired error only in its message.
_DEPENDENCY_RE = re.compile(r"^'(.*)' is a dependency of '(.*)'$", re.DOTALL)

format_checker = FormatChecker()


# A plain local part (RFC 5322 dot-atom, ASCII): for such an address
# email-validator's verdict is its verdict on the domain, which a file of
# thousands of rows repeats; so the domain's is computed once.
_PLAIN_LOCAL = re.compile(
    r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
)


@lru_cache(maxsize=4096)
def _domain_ok(domain: str) -> bool:
    try:
        email_validator.validate_email(f"a@{domain}", check_deliverability=False)
    except email_validator.EmailNotValidError:
        return False
    return True


@format_checker.checks("email", raises=email_validator.EmailNotValidError)
def _is_email(value) -> bool:
    # jsonschema alone only looks for an "@"; a real check catches the
    # addresses that would bounce for want of a domain or with bad characters.
    if not isinstance(value, str):
        return True
    local, at, domain = value.rpartition("@")
    if at and len(local) <= 64 and len(value) <= 254 and _PLAIN_LOCAL.fullmatch(local):
        return _domain_ok(domain)
    email_validator.validate_email(value, check_deliverability=False)
    return True


def _luhn(digits: str) -> bool:
    total = 0
    for i, char in enumerate(reversed(digits)):
        digit = int(char) * (2 if i % 2 else 1)
        total += digit - 9 if digit > 9 else digit
    return total % 10 == 0


# La Poste's establishments share one SIREN and break the Luhn rule; INSEE
# checks them by the sum of their digits instead.
LA_POSTE_SIREN = "356000000"


@format_checker.checks("siren")
def _is_siren(value) -> bool:
    if not isinstance(value, str):
        return True
    return bool(re.fullmatch(r"\d{9}", value)) and _luhn(value)


@format_checker.checks("siret")
def _is_siret(value) -> bool:
    if not isinstance(value, str):
        return True
    if not re.fullmatch(r"\d{14}", value):
        return False
    if value.startswith(LA_POSTE_SIREN):
        return sum(int(c) for c in value) % 5 == 0
    return _luhn(value)


@format_checker.checks("date", raises=ValueError)
def _is_date(value) -> bool:
    if not isinstance(value, str):
        return True
    return bool(_DATE_RE.match(value)) and bool(date.fromisoformat(value))


@format_checker.checks("time", raises=ValueError)
def _is_time(value) -> bool:
    # A time of day without offset ("10:30:00"), as Table Schema writes it;
    # RFC 3339's full-time (jsonschema's reading) would demand an offset.
    if not isinstance(value, str):
        return True
    match = _TIME_RE.match(value)
    if not match:
        return False
    hours, minutes, seconds = int(match[1]), int(match[2]), int(match[3] or 0)
    return hours < 24 and minutes < 60 and seconds < 60


@lru_cache(maxsize=256)
def _validator(schema_json: str):
    import json

    schema = json.loads(schema_json)
    cls = extend(validator_class(schema), bounds.VALIDATORS)
    return cls(schema, format_checker=format_checker)


def validate_data(schema_json: str, data: dict, specs: list[FieldSpec]) -> list[dict]:
    """Every error of a normalised entry: [{"path", "message", "field"}]."""
    concrete = instantiate(specs, data)
    by_pointer = {spec.pointer: spec for spec in walk(concrete)}
    errors = []
    for error, variant in _leaf_errors(_validator(schema_json).iter_errors(data)):
        path, spec = _error_path(error, by_pointer)
        message = french_message(error, spec)
        if variant:
            message = _(
                "%(message)s (variante « %(variant)s »).",
                message=message[:-1],
                variant=variant,
            )
        described = _describe(path, spec, message)
        described["keyword"] = str(error.validator)
        errors.append(described)

    errors.extend(_range_errors(data, concrete))
    return _dedupe(errors)


def _leaf_errors(errors, variant: str | None = None):
    """(error, variant title) pairs, the errors of object variants opened up.

    "Matches none of the variants" tells an agent nothing: the variant the
    data follow is picked (the one whose selecting field matches, then the
    one declaring most of the data's keys), and its own errors are given,
    each naming the variant.
    """
    for error in errors:
        chosen = _chosen_variant(error)
        if chosen is None:
            yield error, variant
            continue
        title, inner = chosen
        yield from _leaf_errors(inner, title)


def _chosen_variant(error):
    if error.validator not in ("oneOf", "anyOf") or not error.context:
        return None
    variants = error.validator_value
    if not isinstance(error.instance, dict) or not all(is_variant(v) for v in variants):
        return None
    by_variant: dict[int, list] = {}
    for inner in error.context:
        by_variant.setdefault(inner.relative_schema_path[0], []).append(inner)
    keys = set(error.instance)

    def rank(index: int):
        variant = variants[index]
        declared = set(variant.get("properties") or {})
        inner = by_variant.get(index, [])
        pinned_wrong = any(
            e.validator in ("enum", "const") and len(e.relative_path) == 1
            for e in inner
        )
        return (pinned_wrong, -len(keys & declared), len(inner), index)

    index = min(by_variant, key=rank)
    title = variants[index].get("title") or f"variante {index + 1}"
    return title, by_variant[index]


def _error_path(error, by_pointer) -> tuple[str, FieldSpec | None]:
    """The error's JSON Pointer, and the field it belongs to.

    An error inside a value (the latitude of a geopoint, the third item of
    a list) belongs to the nearest field above it.
    """
    parts = [str(p) for p in error.absolute_path]
    if error.validator == "required":
        missing = _quoted_name(error.message)
        parts.append(missing)
    elif error.validator in ("dependentRequired", "dependencies"):
        # "'b' is a dependency of 'a'": the error belongs to the missing b.
        match = _DEPENDENCY_RE.match(error.message)
        if match:
            parts.append(match[1])
    elif error.validator == "additionalProperties":
        extra = _extra_names(error)
        if extra:
            parts.append(extra[0])
    for end in range(len(parts), 0, -1):
        spec = by_pointer.get(pointer(parts[:end]))
        if spec is not None:
            return pointer(parts), spec
    return pointer(parts), None


def _quoted_name(message: str) -> str:
    # jsonschema gives the missing property only inside its message:
    # "'name' is a required property".
    match = re.match(r"^(['\"])(.*)\1 is a required property$", message, re.DOTALL)
    return match[2] if match else message


def _extra_names(error) -> list[str]:
    allowed = set(error.schema.get("properties", {}))
    return [k for k in error.instance if k not in allowed]


def french_message(error, spec: FieldSpec | None) -> str:
    """Plain French for one jsonschema error."""
    keyword = error.validator
    value = error.validator_value
    handler = _MESSAGES.get(keyword)
    if handler is None:
        logger.debug("no French message for %s: %s", keyword, error.message)
        return _("Valeur invalide.")
    return handler(value, error, spec)


def _type_message(value, error, spec) -> str:
    kinds = value if isinstance(value, list) else [value]
    names = [str(TYPE_NAMES.get(k, k)) for k in kinds if k != "null"]
    instance = error.instance
    if isinstance(instance, str) and "string" not in kinds:
        # "4" is not 4: without the value, the message reads as nonsense
        # (a value kept as typed when a field changed type, a quoted number).
        return _(
            "Doit être %(kinds)s : « %(value)s » est un texte.",
            kinds=_(" ou ").join(names),
            value=_short(instance),
        )
    return _("Doit être %(kinds)s.", kinds=_(" ou ").join(names))


TYPE_NAMES = {
    "string": _l("un texte"),
    "integer": _l("un nombre entier"),
    "number": _l("un nombre"),
    "boolean": _l("vrai ou faux (true ou false)"),
    "array": _l("une liste"),
    "object": _l("un objet"),
}
FORMAT_MESSAGES = {
    "date": _l(
        "Doit être une date valide au format AAAA-MM-JJ, par exemple 2025-03-12."
    ),
    "date-time": _l(
        "Doit être une date et heure valide, par exemple 2025-03-12T10:00:00+01:00."
    ),
    "time": _l("Doit être une heure valide, par exemple 10:30:00."),
    "email": _l(
        "Doit être une adresse électronique valide, par exemple nom@commune.fr."
    ),
    "uri": _l(
        "Doit être une adresse web complète, par exemple https://www.commune.fr/page."
    ),
    "uuid": _l("Doit être un identifiant UUID."),
    "duration": _l(
        "Doit être une durée ISO 8601, par exemple P1DT2H pour un jour et deux heures."
    ),
    "siren": _l(
        "Doit être un numéro SIREN : 9 chiffres dont le dernier est une clé "
        "de contrôle (vérifiez qu'aucun chiffre n'a été inversé)."
    ),
    "siret": _l(
        "Doit être un numéro SIRET : 14 chiffres dont le dernier est une clé "
        "de contrôle (vérifiez qu'aucun chiffre n'a été inversé)."
    ),
}


def _format_message(value, error, spec) -> str:
    if value in FORMAT_MESSAGES:
        return str(FORMAT_MESSAGES[value])
    return _("Ne respecte pas le format « %(format)s ».", format=value)


def _pattern_message(value, error, spec) -> str:
    typed = _short(error.instance)
    if spec and spec.examples:
        return _(
            "« %(typed)s » ne respecte pas la forme attendue, par exemple "
            "« %(example)s ».",
            typed=typed,
            example=spec.examples[0],
        )
    return _(
        "« %(typed)s » ne respecte pas la forme attendue (motif %(pattern)s).",
        typed=typed,
        pattern=value,
    )


def _short(value) -> str:
    text = str(value)
    return text if len(text) <= 40 else text[:39] + "…"


def _enum_message(value, error, spec) -> str:
    shown = ", ".join(_("« %(value)s »", value=v) for v in value[:12])
    more = " …" if len(value) > 12 else ""
    return _("Valeur non autorisée : choisissez parmi %(values)s.", values=shown + more)


_MESSAGES = {
    "required": lambda v, e, s: _("Ce champ est obligatoire."),
    "type": _type_message,
    "format": _format_message,
    "pattern": _pattern_message,
    "enum": _enum_message,
    "minLength": lambda v, e, s: _("Doit compter au moins %(n)s caractère(s).", n=v),
    "maxLength": lambda v, e, s: _("Doit compter au plus %(n)s caractères.", n=v),
    "minimum": lambda v, e, s: _("Doit être supérieur ou égal à %(n)s.", n=v),
    "maximum": lambda v, e, s: _("Doit être inférieur ou égal à %(n)s.", n=v),
    "exclusiveMinimum": lambda v, e, s: _(
        "Doit être strictement supérieur à %(n)s.", n=v
    ),
    "exclusiveMaximum": lambda v, e, s: _(
        "Doit être strictement inférieur à %(n)s.", n=v
    ),
    "multipleOf": lambda v, e, s: _("Doit être un multiple de %(n)s.", n=v),
    "formatMinimum": lambda v, e, s: _(
        "Ne doit pas être antérieur à %(bound)s.", bound=_bound(v, e)
    ),
    "formatMaximum": lambda v, e, s: _(
        "Ne doit pas être postérieur à %(bound)s.", bound=_bound(v, e)
    ),
    "formatExclusiveMinimum": lambda v, e, s: _(
        "Doit être postérieur à %(bound)s.", bound=_bound(v, e)
    ),
    "formatExclusiveMaximum": lambda v, e, s: _(
        "Doit être antérieur à %(bound)s.", bound=_bound(v, e)
    ),
    "minItems": lambda v, e, s: _(
        "Choisissez ou saisissez au moins %(n)s valeur(s).", n=v
    ),
    "maxItems": lambda v, e, s: _(
        "Choisissez ou saisissez au plus %(n)s valeur(s).", n=v
    ),
    "uniqueItems": lambda v, e, s: _("Chaque valeur ne doit figurer qu'une fois."),
    "additionalProperties": lambda v, e, s: _(
        "Ce champ n'existe pas dans le formulaire."
    ),
    "items": lambda v, e, s: _("Trop de valeurs dans la liste."),
    "oneOf": lambda v, e, s: _alternatives_message(v),
    "anyOf": lambda v, e, s: _alternatives_message(v),
    "const": lambda v, e, s: _("Seule la valeur « %(value)s » est permise.", value=v),
    "dependentRequired": lambda v, e, s: _(
        "Ce champ est obligatoire quand « %(field)s » est rempli.",
        field=_dependency_trigger(e),
    ),
}


def _bound(bound, error) -> str:
    return bounds.shown(bound, error.schema.get("format"))


def _alternatives_message(variants) -> str:
    if isinstance(variants, list) and variants and all(map(is_variant, variants)):
        # Valid under several variants at once (oneOf), or none could be told.
        return _("Remplissez les champs d'une seule des variantes proposées.")
    return _("Choisissez l'une des valeurs proposées.")


def _dependency_trigger(error) -> str:
    match = _DEPENDENCY_RE.match(error.message)
    if not match:
        return _("un autre champ")
    props = error.schema.get("properties", {})
    return props.get(match[2], {}).get("title") or match[2]


def _range_errors(data: dict, specs: list[FieldSpec]) -> list[dict]:
    # SQLite stores integers on 64 bits; a larger one would be silently
    # turned into a float, so it is refused here instead.
    errors = []
    for spec in leaves(specs):
        value = value_at(data, spec.path)
        if spec.json_type != "integer" or isinstance(value, bool):
            continue
        if isinstance(value, (int, float)) and not (
            SQLITE_INT_MIN <= value <= SQLITE_INT_MAX
        ):
            errors.append(
                _describe(
                    spec.pointer,
                    spec,
                    _(
                        "Nombre trop grand pour être enregistré (entre "
                        "-9 223 372 036 854 775 808 et 9 223 372 036 854 775 807)."
                    ),
                )
            )
    return errors


def _describe(path: str, spec: FieldSpec | None, message: str) -> dict:
    return {
        "path": path,
        "message": message,
        "field": spec.html_name if spec else None,
        "title": spec.title if spec else None,
        "keyword": None,
    }


# What a draft is checked for: that each value has the right type, so that
# it can be stored and shown again; completeness waits for submission.
DRAFT_KEYWORDS = {None, "type", "additionalProperties"}


def draft_errors(errors: list[dict]) -> list[dict]:
    return [e for e in errors if e.get("keyword") in DRAFT_KEYWORDS]


def _dedupe(errors: list[dict]) -> list[dict]:
    seen = set()
    out = []
    for error in errors:
        key = (error["path"], error["message"])
        if key not in seen:
            seen.add(key)
            out.append(error)
    return out


def error(path_parts, spec: FieldSpec | None, message: str) -> dict:
    """An error in the same shape as validation's, for checks made elsewhere."""
    return _describe(pointer(path_parts), spec, message)


def normalise_api_entry(payload, specs: list[FieldSpec]) -> tuple[dict, list[dict]]:
    """Strict JSON in: drop blanks, refuse unknown keys, date-times get an offset.

    Absent, null and "" are the same empty answer; the stored entry holds
    only answered fields.
    """
    if not isinstance(payload, dict):
        return {}, [error([], None, _("L'entrée doit être un objet JSON {…}."))]
    errors: list[dict] = []
    return _normalise_object(payload, specs, (), errors), errors


def _normalise_object(payload: dict, specs, path: tuple, errors: list) -> dict:
    by_name = {spec.name: spec for spec in specs}
    data: dict = {}
    for key, value in payload.items():
        spec = by_name.get(key)
        if spec is None:
            errors.append(
                error(
                    path + (key,), None, _("Ce champ n'existe pas dans le formulaire.")
                )
            )
            continue
        if value is None or value == "":
            # A nullable field's empty answer is an explicit null; any other
            # empty answer is no answer at all.
            if spec.nullable:
                data[key] = None
            continue
        if spec.is_group and isinstance(value, dict):
            value = _normalise_object(value, spec.children, path + (key,), errors)
            if not value:
                continue
        if spec.is_list and isinstance(value, list):
            value = [
                _normalise_object(item, spec.children, path + (key, i), errors)
                if isinstance(item, dict)
                else item
                for i, item in enumerate(value)
            ]
        if spec.widget == "datetime" and isinstance(value, str):
            value = with_paris_offset(value)
        data[key] = value
    return data


def apply_read_only(data: dict, specs: list[FieldSpec], previous: dict | None):
    """Read-only fields keep their value (stored, else the default): errors.

    An API client may send such a field back unchanged; a different value is
    refused rather than dropped, so the client knows it did not take.
    """
    errors = []
    for spec in leaves(instantiate(specs, data)):
        if not spec.readonly:
            continue
        expected = (
            value_at(previous, spec.path) if previous is not None else spec.default
        )
        sent = value_at(data, spec.path)
        if sent is None:
            if expected is not None:
                set_at(data, spec.path, expected)
        elif sent != expected:
            shown = (
                _("vide") if expected is None else _("« %(value)s »", value=expected)
            )
            errors.append(
                _describe(
                    spec.pointer,
                    spec,
                    _(
                        "Champ en lecture seule : sa valeur reste %(value)s.",
                        value=shown,
                    ),
                )
            )
    return errors


def with_paris_offset(value: str) -> str:
    """A date-time without offset is read as Paris time, offset added."""
    if not _NAIVE_DATETIME_RE.match(value):
        return value
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return value
    return parsed.replace(tzinfo=PARIS).isoformat()


def finalise(data: dict, specs: list[FieldSpec]) -> dict:
    """After validation: integers as int, times as HH:MM:SS."""
    out = copy.deepcopy(data)
    for spec in leaves(instantiate(specs, out)):
        value = value_at(out, spec.path)
        if value is None:
            continue
        if spec.json_type == "integer" and isinstance(value, float):
            set_at(out, spec.path, int(value))
        elif spec.widget == "time" and isinstance(value, str):
            set_at(out, spec.path, _full_time(value))
    return out


def _full_time(value: str) -> str:
    match = _TIME_RE.match(value)
    if not match:
        return value
    parsed = time(int(match[1]), int(match[2]), int(match[3] or 0))
    return parsed.isoformat() + (match[4] or "")
