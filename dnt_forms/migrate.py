"""Publishing a new version of a form that already has entries.

Nothing is lost, whatever the change:
- an added field adds a column;
- a removed field leaves the form, but its values stay with their entries
  (`Entry.retired_json`) and its column stays published, described as
  removed;
- a field declaring `x-renamed-from` takes the values of the old name;
- every entry is then checked against the new version: one that no longer
  validates (a new required field, a changed type, a tighter constraint)
  is never cast, truncated or dropped. Either the whole publication is
  refused, listing those entries, or they become "to complete": still
  published, with that `_state`, and their `_form_version` stays the last
  version they were valid under.
"""

from __future__ import annotations

import copy
import json
import logging
from dataclasses import dataclass, field
from functools import lru_cache

from .compiler import FieldSpec, compile_schema, remove_at, units, value_at
from .db import db
from .errors import DntFormsError
from .models import Entry, EntryHistory, Form, FormVersion, User, utcnow
from .validation import draft_errors, validate_data

logger = logging.getLogger(__name__)

# What says how a field is shown or explained, not which values it takes.
DESCRIPTIVE = {
    "title",
    "description",
    "x-purpose",
    "examples",
    "$comment",
    "default",
    "x-renamed-from",
    "x-enum-labels",
    "x-widget",
}


@dataclass
class Change:
    kind: str  # added, removed, renamed, changed, described
    column: str
    title: str
    details: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        words = {
            "added": "ajouté",
            "removed": "retiré (ses valeurs restent publiées)",
            "renamed": "renommé",
            "changed": "modifié",
            "described": "libellé ou finalité modifiés",
        }
        text = f"« {self.title} » ({self.column}) : {words[self.kind]}"
        return text + (" — " + " ; ".join(self.details) if self.details else "")


@dataclass
class Failure:
    entry_id: int
    state: str
    errors: list[dict]


@dataclass
class Plan:
    form: Form
    old: FormVersion | None
    new: FormVersion
    changes: list[Change]
    renames: dict[tuple, tuple]
    removed: list[FieldSpec]
    checked: int = 0
    failures: list[Failure] = field(default_factory=list)
    migrated: dict[int, tuple[dict, dict]] = field(default_factory=dict)


class MigrationRefused(DntFormsError):
    def __init__(self, plan: Plan):
        self.plan = plan
        count = len(plan.failures)
        super().__init__(
            f"{count} entrée(s) sur {plan.checked} ne respectent pas la version "
            f"{plan.new.number} : publication refusée. Corrigez-les, ou publiez en les "
            "passant « à compléter »."
        )


def _by_column(specs) -> dict[str, FieldSpec]:
    return {spec.column: spec for spec in units(specs)}


def _assertions(prop: dict) -> dict:
    return {k: v for k, v in prop.items() if k not in DESCRIPTIVE}


def _renamed_from(spec: FieldSpec) -> tuple | None:
    old = spec.prop.get("x-renamed-from")
    if not isinstance(old, str) or not old:
        return None
    return spec.path[:-1] + (old,)


def diff(old_schema: dict | None, new_schema: dict) -> tuple[list[Change], dict, list]:
    """(changes, renames {old path: new path}, removed specs) between versions."""
    old = _by_column(compile_schema(old_schema)) if old_schema else {}
    new = _by_column(compile_schema(new_schema))
    old_required = {spec.column for spec in old.values() if spec.required}
    changes, renames = [], {}
    for column, spec in new.items():
        source = _renamed_from(spec)
        source_column = "__".join(source) if source else None
        if column not in old and source_column in old:
            renames[source] = spec.path
            before = old[source_column]
            details = [f"ancien nom : {source_column}"]
            details += _differences(before, spec, before.column in old_required)
            changes.append(Change("renamed", column, spec.title, details))
            continue
        if column not in old:
            details = ["obligatoire"] if spec.required else []
            if source_column and source_column not in old:
                details.append(
                    f"renommé depuis « {source_column} », qui n'existait pas : "
                    "le champ commence vide"
                )
            changes.append(Change("added", column, spec.title, details))
            continue
        else:
            before = old[column]
        details = _differences(before, spec, before.column in old_required)
        if details:
            changes.append(Change("changed", column, spec.title, details))
        elif (before.title, before.purpose) != (spec.title, spec.purpose):
            changes.append(Change("described", column, spec.title))
    moved = {"__".join(path) for path in renames}
    removed = [
        spec
        for column, spec in old.items()
        if column not in new and column not in moved
    ]
    changes.extend(Change("removed", s.column, s.title) for s in removed)
    return changes, renames, removed


def _differences(before: FieldSpec, after: FieldSpec, was_required: bool) -> list[str]:
    out = []
    if was_required != after.required:
        out.append("devient obligatoire" if after.required else "devient facultatif")
    old_rules, new_rules = _rules(before.prop), _rules(after.prop)
    changed = {
        key
        for key in set(old_rules) | set(new_rules)
        if old_rules.get(key) != new_rules.get(key)
    }
    if "type" in changed:
        # The Table Schema type moves with it: said once.
        changed.discard(("x-tableschema", "type"))
    for key in sorted(changed, key=str):
        if True:
            name = f"{key[1]} (Table Schema)" if isinstance(key, tuple) else key
            shown = [
                _shown_rule(key, rules.get(key)) for rules in (old_rules, new_rules)
            ]
            out.append(f"{name} : {shown[0]} → {shown[1]}")
    return out


def _rules(prop: dict) -> dict:
    """The field's rules as the admin wrote them: a Table Schema pattern
    without the anchors its conversion added (tableschema._anchor), and the
    Table Schema's own reading keys (format, true words…) one by one rather
    than as the x-tableschema object that carries them."""
    rules = _assertions(prop)
    table = rules.pop("x-tableschema", None)
    if isinstance(table, dict):
        pattern = rules.get("pattern")
        if (
            isinstance(pattern, str)
            and pattern.startswith("^(?:")
            and pattern.endswith(")$")
        ):
            rules["pattern"] = pattern[4:-2]
        # x-type is the conversion's mark of the Table Schema type, said there.
        rules.pop("x-type", None)
        for key, value in table.items():
            rules[("x-tableschema", key)] = value
    return rules


# JSON types as an admin reads them in a diff.
_TYPE_WORDS = {
    "string": "texte",
    "integer": "nombre entier",
    "number": "nombre",
    "boolean": "oui/non",
    "array": "liste",
    "object": "groupe",
    "null": "vide",
}


def _shown_rule(key, value) -> str:
    if key == "type" and isinstance(value, str) and value in _TYPE_WORDS:
        return f"{_TYPE_WORDS[value]} ({value})"
    return json.dumps(value, ensure_ascii=False)


def _move(data: dict, renames: dict) -> dict:
    out = copy.deepcopy(data)
    for old_path, new_path in renames.items():
        node = out
        for key in old_path[:-1]:
            node = node.get(key) if isinstance(node, dict) else None
        if not isinstance(node, dict) or old_path[-1] not in node:
            continue
        value = node.pop(old_path[-1])
        target = out
        for key in new_path[:-1]:
            target = target.setdefault(key, {})
        target[new_path[-1]] = value
    return out


def _retire(data: dict, removed: list[FieldSpec]) -> dict:
    """Take the removed fields' values out of the data: {column: value}."""
    retired = {}
    for spec in removed:
        parent = value_at(data, spec.path[:-1])
        if isinstance(parent, dict) and spec.path[-1] in parent:
            retired[spec.column] = parent[spec.path[-1]]
            remove_at(data, spec.path)
    return retired


def plan(form: Form, new: FormVersion) -> Plan:
    """Check every entry against the new version, changing nothing yet."""
    from .schemas.versions import current_version, specs_of

    old = current_version(form)
    changes, renames, removed = diff(old.schema if old else None, new.schema)
    result = Plan(form, old, new, changes, renames, removed)
    specs = specs_of(new)
    entries = db.session.execute(
        db.select(Entry).filter(Entry.form_id == form.id, Entry.state != "withdrawn")
    ).scalars()
    for entry in entries:
        data = _move(entry.data, renames)
        retired = _retire(data, removed)
        result.checked += 1
        errors = validate_data(new.schema_json, data, specs)
        if entry.state == "draft":
            errors = draft_errors(errors)
        if errors:
            result.failures.append(Failure(entry.id, entry.state, errors))
        result.migrated[entry.id] = (data, retired)
    return result


def apply(plan: Plan, *, to_complete: bool, user: User | None = None) -> Plan:
    """Migrate every entry and publish the version, in one transaction."""
    if plan.failures and not to_complete:
        raise MigrationRefused(plan)
    failing = {f.entry_id for f in plan.failures}
    now = utcnow()
    retired_fields = _retired_fields(plan)
    for entry_id, (data, retired) in plan.migrated.items():
        entry = db.session.get(Entry, entry_id)
        old_data = entry.data
        changes = {}
        for old_path, new_path in plan.renames.items():
            # [before, after] as for any change, so that store.data_at can
            # rebuild the entry as it was: the value left the old name for
            # the new one.
            moved = value_at(old_data, old_path)
            if moved is not None:
                old_name, new_name = "__".join(old_path), "__".join(new_path)
                changes[old_name] = [moved, f"(renommé en « {new_name} »)"]
                changes[new_name] = [None, moved]
        if retired:
            stored = json.loads(entry.retired_json or "{}")
            stored.update(retired)
            entry.retired_json = json.dumps(stored, ensure_ascii=False)
            for column, value in retired.items():
                changes[column] = [value, "(champ retiré, valeur gardée)"]
        state = entry.state
        if entry_id in failing and entry.state == "submitted":
            state = "to_complete"
        elif entry_id not in failing:
            entry.form_version = plan.new.number
        if state != entry.state:
            changes["_state"] = [entry.state, state]
        if data == old_data and not changes:
            continue
        entry.data_json = json.dumps(data, ensure_ascii=False)
        entry.state = state
        entry.revision += 1
        entry.updated_at = now
        db.session.add(
            EntryHistory(
                entry_id=entry.id,
                revision=entry.revision,
                user_id=user.id if user else None,
                action="migrate",
                changes_json=json.dumps(changes, ensure_ascii=False),
                at=now,
            )
        )
    plan.form.retired_json = json.dumps(retired_fields, ensure_ascii=False)
    plan.new.published = True
    plan.form.current_version = plan.new.number
    if plan.form.status == "draft":
        plan.form.status = "published"
    db.session.commit()
    logger.info(
        "form %s: version %s published, %s entries checked, %s to complete",
        plan.form.slug,
        plan.new.number,
        plan.checked,
        len(failing),
    )
    return plan


def _retired_fields(plan: Plan) -> list[dict]:
    """Removed fields whose column stays published (until a field takes it back)."""
    current = {s.column for s in units(compile_schema(plan.new.schema))}
    kept = [
        f
        for f in json.loads(plan.form.retired_json or "[]")
        if f["column"] not in current
    ]
    known = {f["column"] for f in kept}
    for spec in plan.removed:
        # A removed list keeps its published table (`<slug>__<column>`),
        # its rows read from Entry.retired_json like any removed value.
        if spec.column in known or not spec.published:
            continue
        kept.append(
            {
                "column": spec.column,
                "title": spec.title,
                "purpose": spec.purpose_text,
                "prop": spec.prop,
                "removed_in": plan.new.number,
            }
        )
    return kept


def removed_in(form: Form) -> dict[str, int]:
    """The version that removed each retired field, by its column and its
    title (casefolded, as a file's header names them)."""
    out: dict[str, int] = {}
    for item in json.loads(form.retired_json or "[]"):
        for key in (item["column"], item["title"].strip()):
            out.setdefault(key.casefold(), item["removed_in"])
    return out


def retired_specs(form: Form) -> list[FieldSpec]:
    """Published columns of removed fields, as specs reading Entry.retired_json."""
    return _retired_specs(form.retired_json or "[]")


@lru_cache(maxsize=256)
def _retired_specs(retired_json: str) -> list[FieldSpec]:
    # Every published save asks for them: compiled once per list.
    out = []
    for position, item in enumerate(json.loads(retired_json)):
        (spec,) = compile_schema(
            {"type": "object", "properties": {item["column"]: item["prop"]}}
        )
        spec.title = item["title"]
        spec.purpose = (
            f"Champ retiré du formulaire en version {item['removed_in']} ; valeurs "
            f"gardées. {item['purpose']}"
        )
        spec.retired = True
        spec.position = 10_000 + position
        out.append(spec)
    return out
