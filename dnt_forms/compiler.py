"""Compile a canonical form schema into field specs.

Plain Python with no Flask: the HTML form, the validator, the projection
into public.db and the exports all read the same specs.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field

from .schemas.check import is_nullable, labelled_choices, scalar_type
from .schemas.conditions import VARIANT, object_variants, read_conditions

NO_PURPOSE = "finalité non renseignée"
# Stands for the row number in the paths of a repeatable group's fields.
ROW = "*"

# SQLite column type of each JSON type (INTERFACE.md's type table).
SQL_TYPES = {"integer": "INTEGER", "number": "REAL", "boolean": "INTEGER"}
# Up to this many choices show as radio buttons, more as a select.
RADIO_MAX = 5
TEXTAREA_MIN_LENGTH = 200


def choice_key(value) -> str:
    """A choice's value as an input posts it (an object as its JSON)."""
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    return str(value)


@dataclass
class Choice:
    value: object
    label: str

    @property
    def key(self) -> str:
        return choice_key(self.value)


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
        """The conditions as the page's script reads them: values as posted."""

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
            for c in self.conditions
        ]

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
        return "".join("/" + str(k).replace("~", "~0").replace("/", "~1") for k in keys)

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
        fmt_hint = FORMAT_HINTS.get(self.widget)
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


FORMAT_HINTS = {
    "date": "Date au format JJ/MM/AAAA.",
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


def _typed_example(widget: str, example) -> str:
    if isinstance(example, list):
        return ", ".join(_typed_example(widget, e) for e in example)
    text = str(example)
    if widget in ("number", "geopoint") and isinstance(example, float):
        return text.replace(".", ",")
    if widget == "date" and len(text) == 10 and text[4] == "-" and text[7] == "-":
        return f"{text[8:]}/{text[5:7]}/{text[:4]}"
    return text.rstrip(".")


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
    if "multipleOf" in prop:
        parts.append(f"multiple de {prop['multipleOf']}")
    if "minLength" in prop and prop["minLength"] > 1:
        parts.append(f"{prop['minLength']} caractères au moins")
    if "maxLength" in prop:
        parts.append(f"{prop['maxLength']} caractères au plus")
    if not parts:
        return None
    return "Valeur : " + ", ".join(parts) + "."


def compile_schema(schema: dict) -> list[FieldSpec]:
    """The field specs of a form schema, in the schema's order."""
    unique_key = schema.get("x-unique") or []
    specs = _compile_object(schema, (), (), True)
    for spec in specs:
        spec.unique = bool(spec.prop.get("x-unique")) or (
            len(unique_key) == 1 and unique_key[0] == spec.name
        )
    return specs


def _compile_object(schema: dict, path: tuple, ids: tuple, published: bool):
    branches, always_required, _ = read_conditions(schema)
    required = set(schema.get("required", [])) | set(always_required)
    # Fields required only once another one is filled in.
    required_when: dict[str, list[str]] = {}
    properties = schema.get("properties", {})
    for trigger, names in (schema.get("dependentRequired") or {}).items():
        for name in names:
            title = properties.get(trigger, {}).get("title") or trigger
            required_when.setdefault(name, []).append(title)
    specs = []
    for position, (name, prop) in enumerate(schema.get("properties", {}).items()):
        spec = _compile_property(name, prop, name in required)
        spec.position = position
        spec.path = path + (name,)
        spec.ids = ids + (position,)
        spec.published = spec.published and published
        spec.required_when = required_when.get(name, [])
        if _is_group(prop):
            spec.children = _compile_object(prop, spec.path, spec.ids, spec.published)
            _set_variants(spec, prop)
        elif spec.is_list and ROW in path:
            # A list inside a list's rows is kept whole, as JSON.
            spec.widget = "json"
        elif spec.widget == "repeated" and ROW in path:
            # Free values inside a row: one per line of a text area.
            spec.widget = "lines"
        elif spec.is_list:
            spec.children = _compile_object(
                prop["items"], spec.path + (ROW,), spec.ids, spec.published
            )
        specs.append(spec)
    _add_conditional_fields(specs, branches, schema, path, ids, published)
    return specs


def _set_variants(spec: FieldSpec, prop: dict) -> None:
    branches = [b for b in read_conditions(prop)[0] if b.trigger == VARIANT]
    spec.variants = [b.label for b in branches]
    spec.variant_fields = [set(b.properties) for b in branches]


def _variant_selector(trigger: str, branches, schema: dict) -> dict:
    """The field that selects among variants pinning it, when the object lacks it.

    Its choices are the pinned values, labelled with the variants' titles.
    """
    mine = [b for b in branches if b.trigger == trigger]
    values, labels = [], {}
    for branch in mine:
        for value in branch.values or []:
            if value not in values:
                values.append(value)
                labels[str(value)] = branch.label
    first = mine[0].pin or {}
    prop = {k: v for k, v in first.items() if k in ("title", "description", "type")}
    prop.update({"enum": values, "x-enum-labels": labels})
    prop.setdefault("title", schema.get("title") or trigger)
    if "type" not in prop:
        prop["type"] = scalar_type({"enum": values}) or "string"
    return prop


def _add_conditional_fields(specs, branches, schema, path, ids, published):
    """The fields a condition adds, each saying when it applies."""
    properties = schema.get("properties", {})
    by_name = {spec.name: spec for spec in specs}
    selectors = {}
    for branch in branches:
        trigger = properties.get(branch.trigger) or selectors.get(branch.trigger)
        if trigger is None and branch.trigger == VARIANT:
            trigger = {
                "title": schema.get("title") or "Variante",
                "x-enum-labels": {
                    str(b.values[0]): b.label for b in branches if b.trigger == VARIANT
                },
            }
            selectors[VARIANT] = trigger
        elif trigger is None:
            # Variants pin a field the object does not declare: it becomes
            # the first question, its answers the variants.
            trigger = _variant_selector(branch.trigger, branches, schema)
            selectors[branch.trigger] = trigger
            required = all(
                b.pin_required for b in branches if b.trigger == branch.trigger
            )
            spec = _compile_property(branch.trigger, trigger, required)
            spec.position = len(specs)
            spec.path = path + (branch.trigger,)
            spec.ids = ids + (spec.position,)
            spec.published = spec.published and published
            specs.insert(0, spec)
            by_name[branch.trigger] = spec
        labels = {str(v): label for v, label in (labelled_choices(trigger) or [])}
        labels.update(trigger.get("x-enum-labels") or {})
        condition = {
            "field": ".".join(str(k) for k in path + (branch.trigger,)),
            "title": trigger.get("title") or branch.trigger,
            "values": branch.values,
            "labels": labels,
            "negate": branch.negate,
        }
        for name, prop in branch.properties.items():
            if name in properties:
                continue
            spec = by_name.get(name)
            if spec is None:
                spec = _compile_property(name, prop, False)
                spec.position = len(specs)
                spec.path = path + (name,)
                spec.ids = ids + (spec.position,)
                spec.published = spec.published and published
                specs.append(spec)
                by_name[name] = spec
            else:
                # The same field in several branches: one input, every choice.
                known = {str(c.value) for c in spec.choices}
                extra = _choices(prop, spec.widget)
                spec.choices += [c for c in extra if str(c.value) not in known]
                if spec.widget == "radio" and len(spec.choices) > RADIO_MAX:
                    spec.widget = "select"
            spec.conditions.append(condition)
            if name in branch.required:
                spec.required_if.append(condition)


def is_list_of_objects(prop: dict) -> bool:
    items = prop.get("items")
    prefix = prop.get("prefixItems")
    if prefix is not None and any(p != items for p in prefix):
        # A tuple whose positions differ is kept whole, as JSON.
        return False
    return (
        scalar_type(prop) == "array"
        and isinstance(items, dict)
        and _is_group(items)
        and prop.get("x-type") is None
    )


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


def _is_group(prop: dict) -> bool:
    return (
        scalar_type(prop) == "object"
        and (
            isinstance(prop.get("properties"), dict)
            or object_variants(prop) is not None
        )
        and prop.get("x-type") != "json"
    )


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


def _container(name: str, prop: dict, required: bool, widget: str) -> FieldSpec:
    """A group or a repeatable group: it holds fields, not a value of its own."""
    return FieldSpec(
        name=name,
        title=prop.get("title") or name,
        purpose=prop.get("x-purpose") or prop.get("description") or None,
        widget=widget,
        json_type="array" if widget == "list" else "object",
        required=required,
        published=prop.get("x-publish") is not False,
        prop=prop,
    )


def _compile_property(name: str, prop: dict, required: bool) -> FieldSpec:
    if is_list_of_objects(prop):
        return _container(name, prop, required, "list")
    if _is_group(prop):
        return _container(name, prop, required, "group")
    json_type = scalar_type(prop) or "string"
    widget, item_type = _widget(prop, json_type)
    choices = _choices(prop, widget)
    if widget == "select" and len(choices) <= RADIO_MAX:
        widget = "radio"

    published = not (
        prop.get("x-publish") is False
        or prop.get("writeOnly") is True
        or prop.get("format") == "password"
    )
    # An example of a yes/no answer ("True") only confuses next to Oui/Non.
    widget_examples = [
        e for e in prop.get("examples", []) if e is not None and json_type != "boolean"
    ]
    examples = [_typed_example(widget, e) for e in widget_examples]
    return FieldSpec(
        name=name,
        title=prop.get("title") or name,
        purpose=prop.get("x-purpose") or prop.get("description") or None,
        widget=widget,
        json_type=json_type,
        required=required,
        nullable=is_nullable(prop),
        published=published,
        choices=choices,
        default=prop.get("default"),
        examples=examples,
        item_type=item_type,
        ref=prop.get("x-ref"),
        prop=prop,
    )


def _widget(prop: dict, json_type: str) -> tuple[str, str | None]:
    if "const" in prop and json_type in ("string", "integer", "number", "boolean"):
        # A fixed value: shown, never typed.
        return "const", None
    x_type = prop.get("x-type")
    if x_type == "geopoint":
        return "geopoint", "number"
    if x_type == "json":
        return "json", None
    if x_type == "year":
        return "year", None

    if json_type == "array":
        if "prefixItems" in prop:
            return "json", None
        items = prop.get("items") if isinstance(prop.get("items"), dict) else {}
        item_type = scalar_type(items) if items else None
        if items and ("enum" in items or labelled_choices(items) is not None):
            return "checkboxes", item_type
        if item_type not in ("string", "integer", "number"):
            # A list of lists (or of free objects) is kept whole, as JSON.
            return "json", None
        # One input per value; the server adds or removes one on request.
        return "repeated", item_type
    if labelled_choices(prop) is not None or (
        "enum" in prop and json_type != "boolean"
    ):
        # Yes/no with labels of their own ("Enable"/"Disable") keeps the labels.
        return "select", None
    if json_type in ("integer", "number", "boolean"):
        return json_type, None

    fmt = prop.get("format")
    widget = {
        "date": "date",
        "date-time": "datetime",
        "time": "time",
        "email": "email",
        "uri": "url",
        "password": "password",
    }.get(fmt)
    if widget:
        return widget, None
    if prop.get("x-widget") == "textarea" or (
        prop.get("maxLength", 0) > TEXTAREA_MIN_LENGTH
    ):
        return "textarea", None
    return "text", None


def _choices(prop: dict, widget: str) -> list[Choice]:
    source = prop["items"] if widget == "checkboxes" else prop
    if widget not in ("checkboxes", "select", "radio"):
        return []
    labelled = labelled_choices(source)
    if labelled is not None:
        return [Choice(v, label) for v, label in labelled if v is not None]
    labels = prop.get("x-enum-labels") or {}
    values = source.get("enum", [])
    return [
        Choice(v, str(labels.get(str(v)) or _label_of(v)))
        for v in values
        if v is not None
    ]


def _label_of(value) -> str:
    """How an allowed value reads: an object by its name, if it has one."""
    if isinstance(value, dict):
        for key in ("title", "titre", "name", "nom", "label", "libelle"):
            if isinstance(value.get(key), str):
                return value[key]
    return choice_key(value)
