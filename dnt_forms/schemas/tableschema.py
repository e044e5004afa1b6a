"""Import a Table Schema (frictionless) as a canonical form schema.

Real schemas of the national catalogue are often slightly malformed. What
has one obvious meaning is repaired and each repair listed as a warning;
keys the service does not act on are kept as metadata and listed too.
"""

from __future__ import annotations

import copy
import logging
import re

from frictionless import FrictionlessException, Schema

from ..errors import InvalidSchemaError, SchemaProblem
from .naming import slugify
from .tablecheck import (
    CONSTRAINT_KEYS,
    FIELD_KEYS,
    frictionless_refusals,
    structure_problems,
)
from .tableconvert import to_json_schema

logger = logging.getLogger(__name__)

# What frictionless accepts as a schema name.
TS_NAME_RE = re.compile(r"^[-a-z0-9._/]+$")


def looks_like_table_schema(data) -> bool:
    """A Table Schema has a list of fields, a JSON Schema has properties."""
    return (
        isinstance(data, dict)
        and isinstance(data.get("fields"), list)
        and "properties" not in data
    )


def import_table_schema(descriptor: dict) -> tuple[dict, list[SchemaProblem], dict]:
    """Return (canonical form schema, warnings, repaired Table Schema)."""
    warnings: list[SchemaProblem] = []
    repaired = repair(copy.deepcopy(descriptor), warnings)
    # Stage after stage: the shape, what frictionless refuses, the
    # conversion. The first stage with problems ends the import, after the
    # later stages have looked at the other fields (_beyond).
    problems = structure_problems(repaired)
    if not problems:
        try:
            schema = Schema.from_descriptor(repaired)
        except FrictionlessException as exc:
            problems = frictionless_refusals(repaired, exc)
    if not problems:
        canonical = to_json_schema(repaired, schema, problems, warnings)
    if problems:
        every = problems + _beyond(repaired, problems)
        raise InvalidSchemaError(sorted(every, key=_position), warnings)
    return canonical, warnings, repaired


_FIELD_INDEX = re.compile(r"^/fields/(\d+)(/|$)")


def _beyond(desc: dict, problems: list[SchemaProblem]) -> list:
    """The later checks (frictionless, bounds, patterns…) on the fields with
    no problem yet, stage after stage, so that one pass lists every problem.
    Best effort: a problem of the whole schema stops here."""
    from . import table_paths
    from .check import check_json_schema

    bad = _field_indexes(problems)
    found: list[SchemaProblem] = []
    while bad is not None:
        kept = [i for i in range(len(desc["fields"])) if i not in bad]
        if not kept:
            break
        rest = {k: v for k, v in desc.items() if k != "primaryKey"}
        rest["fields"] = [desc["fields"][i] for i in kept]
        try:
            canonical, _warnings, _repaired = import_table_schema(rest)
            check_json_schema(canonical)
            break
        except InvalidSchemaError as exc:
            more = []
            for problem in exc.problems:
                # Back to the positions of the admin's file.
                at = _FIELD_INDEX.match(problem.path)
                if at:
                    problem.path = problem.path.replace(
                        at[0].rstrip("/"), f"/fields/{kept[int(at[1])]}", 1
                    )
                elif problem.path.startswith("/properties/"):
                    [problem] = table_paths([problem], desc)
                more.append(problem)
            found += more
            newly = _field_indexes(more)
            bad = bad | newly if newly else None
        except Exception:  # noqa: BLE001 - only extra problems are at stake
            logger.debug("no further check of a Table Schema with problems")
            break
    return found


def _position(problem: SchemaProblem) -> int:
    """Problems in the order of the file's fields (the whole schema's first)."""
    at = _FIELD_INDEX.match(problem.path)
    return int(at[1]) if at else -1


def _field_indexes(problems: list[SchemaProblem]) -> set[int] | None:
    """The fields the problems are in; None if one is about the whole schema."""
    indexes = set()
    for problem in problems:
        at = _FIELD_INDEX.match(problem.path)
        if at:
            indexes.add(int(at[1]))
        elif problem.path != "/primaryKey":
            return None
    return indexes


def repair(desc: dict, warnings: list[SchemaProblem]) -> dict:
    """Fix what has one obvious meaning, noting each fix as a warning."""
    name = desc.get("name")
    if isinstance(name, str) and not TS_NAME_RE.match(name):
        fixed = slugify(name)
        if fixed and fixed != name:
            desc["name"] = fixed
            warnings.append(
                SchemaProblem(
                    "/name",
                    f"nom « {name} » réparé en « {fixed} » (minuscules, sans espace)",
                    "name",
                )
            )

    for i, field in enumerate(desc.get("fields", [])):
        if isinstance(field, dict):
            _repair_field(field, f"/fields/{i}", warnings)
    return desc


def _repair_field(field: dict, path: str, warnings: list) -> None:
    name = field.get("name")
    if isinstance(name, str) and name != name.strip():
        field["name"] = name.strip()
        warnings.append(
            SchemaProblem(
                f"{path}/name", f"espaces retirés autour de « {name} »", "name"
            )
        )

    examples = field.get("examples")
    if examples is not None and not isinstance(examples, list):
        # SCDL schemas write one example as a bare string; read as a list,
        # it would become one "example" per character.
        field["examples"] = [examples]
        warnings.append(
            SchemaProblem(
                f"{path}/examples",
                "« examples » écrit comme une valeur seule, lu comme l'exemple "
                f"« {examples} »",
                "examples",
            )
        )

    constraints = field.setdefault("constraints", {})
    for key in list(field):
        if key in CONSTRAINT_KEYS:
            constraints[key] = field.pop(key)
            warnings.append(
                SchemaProblem(
                    f"{path}/{key}",
                    f"contrainte « {key} » écrite sur le champ, déplacée dans "
                    "« constraints »",
                    key,
                )
            )

    for key in ("minimum", "maximum", "minLength", "maxLength"):
        value = constraints.get(key)
        if not isinstance(value, str):
            continue
        number = _as_number(value)
        wanted_number = key in ("minLength", "maxLength") or field.get("type") in (
            "integer",
            "number",
            "year",
        )
        if number is not None and wanted_number:
            constraints[key] = number
            warnings.append(
                SchemaProblem(
                    f"{path}/constraints/{key}",
                    f"borne « {value} » écrite comme texte, lue comme le nombre {number}",
                    key,
                )
            )
    if not constraints:
        field.pop("constraints")

    for key in list(field):
        if key not in FIELD_KEYS:
            warnings.append(
                SchemaProblem(
                    f"{path}/{key}",
                    f"clé « {key} » non utilisée par le service, gardée comme "
                    "métadonnée",
                    key,
                )
            )


def _as_number(text: str):
    try:
        as_float = float(text.strip())
    except ValueError:
        return None
    return int(as_float) if as_float.is_integer() else as_float
