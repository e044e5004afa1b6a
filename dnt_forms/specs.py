"""Field specs: what the service knows about each field, and the tree they form.

A spec says how a field is shown, checked, stored and published; the
helpers below walk a tree of specs and the nested data it describes.
`compiler.py` builds specs from a schema.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field

from . import bounds
from .pointers import pointer as json_pointer
from .schemas.conditions import VARIANT

NO_PURPOSE = "finalité non renseignée"
# Stands for the row number in the paths of a repeatable group's fields.
ROW = "*"

# SQLite column type of each JSON type (INTERFACE.md's type table).
SQL_TYPES = {"integer": "INTEGER", "number": "REAL", "boolean": "INTEGER"}


def choice_key(value) -> str:
    """A choice's value as an input posts it (an object as its JSON)."""
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    return str(value)


@dataclass
class Choice:
    value: object
    label: str
    # For a field that several conditional branches define, each with its
    # own choices: the conditions of the branches offering this one.
    conditions: list = field(default_factory=list)

    @property
    def key(self) -> str:
        return choice_key(self.value)

    @property
    def script_conditions(self) -> list[dict]:
        return script_conditions(self.conditions)


def script_conditions(conditions: list[dict]) -> list[dict]:
    """Conditions as the page's script reads them: values as posted."""

    def posted(value) -> str:
        if isinstance(value, bool):
            return "oui" if value else "non"
        return choice_key(value)

    return [
        {
            "champ": c["field"],
            "valeurs": None
            if c["values"] is None
            else [posted(v) for v in c["values"]],
            "sauf": c["negate"],
        }
        for c in conditions
    ]


@dataclass
class FieldSpec:
    """Everything the service needs to know about one field."""

    name: str
    title: str
    purpose: str | None
    widget: str
    json_type: str
    required: bool = False
    nullable: bool = False
    published: bool = True
    choices: list[Choice] = field(default_factory=list)
    default: object = None
    examples: list[str] = field(default_factory=list)
    item_type: str | None = None
    unique: bool = False
    ref: dict | None = None
    prop: dict = field(default_factory=dict)
    position: int = 0
    # Where the field sits: its keys from the root of the entry, and its
    # positions among siblings (for HTML ids). A top-level field has one of each.
    path: tuple = ()
    ids: tuple = ()
    # A nested object is a group of fields, shown as a fieldset.
    children: list[FieldSpec] = field(default_factory=list)
    # Titles of the fields that, once filled in, make this one required.
    required_when: list[str] = field(default_factory=list)
    # When the field applies: [{"field", "title", "values", "labels",
    # "negate"}], any of them; empty means always. required_if: when it is
    # required.
    conditions: list[dict] = field(default_factory=list)
    required_if: list[dict] = field(default_factory=list)
    # A repeatable group (list of objects) once instantiated: its fields
    # copied for each row, the row number in their paths.
    rows: list[list[FieldSpec]] = field(default_factory=list)
    # A group whose variants no field tells apart: the agent picks one
    # (titles here, in order), then fills in its fields. The pick is not
    # stored: the data show which variant they follow.
    variants: list[str] = field(default_factory=list)
    # Per variant, the names of its fields.
    variant_fields: list[set] = field(default_factory=list)
    # A field removed by a later version: its column stays published, its
    # values come from the entry's retired values.
    retired: bool = False
    # Repeated inputs (a list of free values), once instantiated: how many.
    count: int = 0

    @property
    def variant_name(self) -> str:
        return f"{self.html_name}.{VARIANT}"

    @property
    def variant_id(self) -> str:
        return f"{self.html_id}-variante"

    def variant_of(self, value) -> int | None:
        """Which variant some stored data follow: the one declaring most of its keys."""
        if not self.variants or not isinstance(value, dict) or not value:
            return None
        keys = set(value)
        scores = [
            (not keys - names, len(keys & names), -i)
            for i, names in enumerate(self.variant_fields)
        ]
        best = max(scores)
        return -best[2] if best[1] else None

    @property
    def script_conditions(self) -> list[dict]:
        return script_conditions(self.conditions)

    @property
    def choices_by_branch(self) -> bool:
        """Whether its choices depend on which condition holds (each branch
        of an if/then offering its own)."""
        first = self.choices[0].conditions if self.choices else []
        return any(choice.conditions != first for choice in self.choices)

    @property
    def readonly(self) -> bool:
        return self.prop.get("readOnly") is True

    @property
    def is_list(self) -> bool:
        return self.widget == "list"

    @property
    def min_rows(self) -> int:
        return int(self.prop.get("minItems") or 0)

    @property
    def max_rows(self) -> int | None:
        value = self.prop.get("maxItems")
        return int(value) if value is not None else None

    @property
    def is_group(self) -> bool:
        return self.widget == "group"

    @property
    def column(self) -> str:
        """Published column: nested fields are flattened as parent__child."""
        return "__".join(self.path or (self.name,))

    @property
    def html_name(self) -> str:
        """Input name: the property, parent.child in a group, list.2.child in a row."""
        return ".".join(str(k) for k in (self.path or (self.name,)))

    @property
    def pointer(self) -> str:
        """JSON Pointer of the field in an entry, as error paths give it."""
        keys = self.path or (self.name,)
        return json_pointer(keys)

    @property
    def sql_type(self) -> str:
        return SQL_TYPES.get(self.json_type, "TEXT")

    @property
    def purpose_text(self) -> str:
        return self.purpose or NO_PURPOSE

    @property
    def html_id(self) -> str:
        ids = self.ids or (self.position,)
        return "champ-" + "-".join(str(i) for i in ids)

    @property
    def tableschema(self) -> dict:
        return self.prop.get("x-tableschema") or {}

    def hint(self) -> str | None:
        """What the agent should type, from format, bounds and examples."""
        parts = []
        if self.required_if:
            parts.append(f"Obligatoire {_when(self.required_if)}.")
        elif self.conditions:
            parts.append(f"À remplir seulement {_when(self.conditions)}.")
        if self.required_when and not self.required:
            when = " ou ".join(f"« {t} »" for t in self.required_when)
            parts.append(f"Obligatoire quand {when} est rempli.")
        if self.readonly:
            parts.append("Champ en lecture seule : sa valeur ne se modifie pas ici.")
        if self.choices_by_branch:
            parts.append(self._choices_hint())
        fmt_hint = FORMAT_HINTS.get(self.widget)
        if self.widget == "json":
            # A shape the form cannot draw is typed as JSON: say it before
            # the agent types plain words and gets refused.
            fmt_hint = JSON_HINTS.get(self.json_type, JSON_HINTS[None])
        if fmt_hint:
            parts.append(fmt_hint)
        if self.ref:
            parts.append(f"Numéro d'une entrée du formulaire « {self.ref['form']} ».")
        bounds = _bounds_hint(self.prop)
        if bounds:
            parts.append(bounds)
        if self.examples:
            shown = ", ".join(f"« {e} »" for e in self.examples[:3])
            parts.append(f"Exemple : {shown}.")
        return " ".join(parts) or None

    def _choices_hint(self) -> str:
        """« Choix si « Animal » vaut « Chat » : « Viande », « Herbe » ; … »:
        without the script, every choice shows."""
        groups: dict = {}
        for choice in self.choices:
            key = _condition_set(choice.conditions)
            groups.setdefault(key, (choice.conditions, []))[1].append(choice.label)
        said = [
            (f"{_when(conditions)} : " if conditions else "toujours : ")
            + ", ".join(f"« {label} »" for label in labels)
            for conditions, labels in groups.values()
        ]
        return "Choix " + " ; ".join(said) + "."


def _condition_set(conditions: list[dict]) -> str:
    return json.dumps(conditions, sort_keys=True, default=str)


FORMAT_HINTS = {
    "date": "Date au format JJ/MM/AAAA (AAAA-MM-JJ est aussi compris).",
    "datetime": "Date et heure.",
    "time": "Heure au format HH:MM.",
    "email": "Adresse électronique, par exemple nom@commune.fr.",
    "url": "Adresse web complète, commençant par https://.",
    "number": "Nombre ; la virgule décimale est acceptée.",
    "year": "Année sur quatre chiffres.",
    "geopoint": "Longitude et latitude en degrés décimaux (WGS 84).",
    "lines": "Une valeur par ligne.",
    "repeated": "Une valeur par case ; le bouton « Ajouter une valeur » en ajoute une.",
    "const": "Valeur fixée par le formulaire : elle ne se modifie pas.",
}

JSON_HINTS = {
    "array": 'À saisir en JSON : une liste entre crochets, par exemple ["Dupont", 42].',
    "object": 'À saisir en JSON : un objet entre accolades, par exemple {"nom": "Dupont"}.',
    None: 'À saisir en JSON, par exemple ["Dupont", 42] ou {"nom": "Dupont"}.',
}


def _when(conditions: list[dict]) -> str:
    """« si « Animal » vaut « Chat » ou « Poisson » », in plain French."""
    parts = []
    for c in conditions:
        if c["values"] is None:
            parts.append(f"si « {c['title']} » est rempli")
            continue
        shown = " ou ".join(f"« {c['labels'].get(str(v), v)} »" for v in c["values"])
        verb = "ne vaut pas" if c["negate"] else "vaut"
        parts.append(f"si « {c['title']} » {verb} {shown}")
    return ", ou ".join(parts)


def _bounds_hint(prop: dict) -> str | None:
    parts = []
    if "minimum" in prop:
        parts.append(f"au moins {prop['minimum']}")
    if "exclusiveMinimum" in prop:
        parts.append(f"plus de {prop['exclusiveMinimum']}")
    if "maximum" in prop:
        parts.append(f"au plus {prop['maximum']}")
    if "exclusiveMaximum" in prop:
        parts.append(f"moins de {prop['exclusiveMaximum']}")
    parts.extend(bounds.hint(prop))
    if "multipleOf" in prop:
        parts.append(f"multiple de {prop['multipleOf']}")
    if "minLength" in prop and prop["minLength"] > 1:
        parts.append(f"{prop['minLength']} caractères au moins")
    if "maxLength" in prop:
        parts.append(f"{prop['maxLength']} caractères au plus")
    if not parts:
        return None
    return "Valeur : " + ", ".join(parts) + "."


def instantiate(specs: list[FieldSpec], data=None, counts=None) -> list[FieldSpec]:
    """Concrete specs: each repeatable group gets its rows.

    The number of rows comes from `counts` (by the list's input name) when
    given, else from the data.
    """
    if not any(spec.is_list or spec.widget == "repeated" for spec in walk(specs)):
        # Nothing repeats: the specs are already concrete.
        return specs
    out = []
    for spec in specs:
        copy = dataclasses.replace(spec)
        if spec.widget == "repeated":
            if counts is not None and spec.html_name in counts:
                copy.count = counts[spec.html_name]
            else:
                stored = value_at(data, spec.path)
                copy.count = len(stored) if isinstance(stored, list) else 0
            copy.count = max(copy.count, 1)
        if spec.is_group:
            copy.children = instantiate(spec.children, data, counts)
        elif spec.is_list:
            if counts is not None and spec.html_name in counts:
                number = counts[spec.html_name]
            else:
                number = len(value_at(data, spec.path) or [])
            copy.rows = [
                [_in_row(child, len(spec.path), i, spec.ids) for child in spec.children]
                for i in range(number)
            ]
        out.append(copy)
    return out


def _in_row(spec: FieldSpec, depth: int, row: int, list_ids: tuple) -> FieldSpec:
    copy = dataclasses.replace(spec)
    copy.path = spec.path[:depth] + (row,) + spec.path[depth + 1 :]
    copy.ids = list_ids + (f"r{row}",) + spec.ids[len(list_ids) :]
    copy.children = [_in_row(c, depth, row, list_ids) for c in spec.children]
    # A condition inside a row tests the field of the same row.
    copy.conditions = [_condition_in_row(c, depth, row) for c in spec.conditions]
    copy.required_if = [_condition_in_row(c, depth, row) for c in spec.required_if]
    return copy


def _condition_in_row(condition: dict, depth: int, row: int) -> dict:
    parts = condition["field"].split(".")
    if len(parts) > depth and parts[depth] == ROW:
        parts[depth] = str(row)
    return dict(condition, field=".".join(parts))


def leaves(specs: list[FieldSpec]):
    """Every field that holds a value, depth first, in order.

    Groups are entered; a repeatable group yields the fields of its rows
    (none for compiled specs, which have no rows yet).
    """
    for spec in specs:
        if spec.is_group:
            yield from leaves(spec.children)
        elif spec.is_list:
            for row in spec.rows:
                yield from leaves(row)
        else:
            yield spec


def walk(specs: list[FieldSpec]):
    """Every spec, groups, lists and rows included, depth first."""
    for spec in specs:
        yield spec
        yield from walk(spec.children if not spec.rows else [])
        for row in spec.rows:
            yield from walk(row)


def units(specs: list[FieldSpec]):
    """What two versions of an entry are compared by: each value, each list whole."""
    for spec in specs:
        if spec.is_group:
            yield from units(spec.children)
        else:
            yield spec


def lists_of(specs: list[FieldSpec]):
    """The repeatable groups of a form (not those inside another list)."""
    for spec in specs:
        if spec.is_list:
            yield spec
        elif spec.is_group:
            yield from lists_of(spec.children)


def value_at(data, path: tuple):
    """The value at a path of keys (and row numbers) in nested data, or None."""
    node = data
    for key in path:
        if isinstance(key, int):
            if not isinstance(node, list) or key >= len(node):
                return None
            node = node[key]
        elif isinstance(node, dict):
            node = node.get(key)
        else:
            return None
    return node


def set_at(data: dict, path: tuple, value) -> None:
    node = data
    for key, following in zip(path[:-1], path[1:]):
        empty = [] if isinstance(following, int) else {}
        if isinstance(key, int):
            while len(node) <= key:
                node.append({} if not isinstance(following, int) else [])
            node = node[key]
        else:
            node = node.setdefault(key, empty)
    last = path[-1]
    if isinstance(last, int):
        while len(node) <= last:
            node.append(None)
    node[last] = value


def remove_at(data: dict, path: tuple) -> None:
    """Remove the value at a path, and the groups it leaves empty."""
    node = data
    parents = []
    for key in path[:-1]:
        child = value_at(node, (key,))
        if not isinstance(child, (dict, list)):
            return
        parents.append((node, key))
        node = child
    if isinstance(node, dict):
        node.pop(path[-1], None)
    for parent, key in reversed(parents):
        if isinstance(key, int) or value_at(parent, (key,)):
            break
        parent.pop(key)
