"""Compile a canonical form schema into field specs (specs.py).

Plain Python with no Flask: the HTML form, the validator, the projection
into public.db and the exports all read the same specs.
"""

from __future__ import annotations

from .schemas.conditions import VARIANT, object_variants, read_conditions
from .schemas.shapes import is_nullable, labelled_choices, scalar_type
from .specs import (
    NO_PURPOSE,
    ROW,
    SQL_TYPES,
    Choice,
    FieldSpec,
    choice_key,
    instantiate,
    leaves,
    lists_of,
    remove_at,
    set_at,
    units,
    value_at,
    walk,
)

# The spec tree's helpers are used with the compiler everywhere: they are
# importable from here too.
__all__ = [
    "NO_PURPOSE",
    "ROW",
    "SQL_TYPES",
    "Choice",
    "FieldSpec",
    "choice_key",
    "compile_schema",
    "instantiate",
    "is_list_of_objects",
    "leaves",
    "lists_of",
    "remove_at",
    "set_at",
    "units",
    "value_at",
    "walk",
]


# Up to this many choices show as radio buttons, more as a select.
RADIO_MAX = 5
TEXTAREA_MIN_LENGTH = 200


def _typed_example(widget: str, example) -> str:
    if isinstance(example, list):
        return ", ".join(_typed_example(widget, e) for e in example)
    text = str(example)
    if widget in ("number", "geopoint") and isinstance(example, float):
        return text.replace(".", ",")
    if widget == "date" and len(text) == 10 and text[4] == "-" and text[7] == "-":
        return f"{text[8:]}/{text[5:7]}/{text[:4]}"
    return text.rstrip(".")


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
                for choice in spec.choices:
                    choice.conditions.append(condition)
            else:
                # The same field in several branches: one input, every
                # choice, each saying which branches offer it.
                known = {str(c.value): c for c in spec.choices}
                for choice in _choices(prop, spec.widget):
                    if str(choice.value) in known:
                        known[str(choice.value)].conditions.append(condition)
                    else:
                        choice.conditions.append(condition)
                        spec.choices.append(choice)
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


def _is_group(prop: dict) -> bool:
    return (
        scalar_type(prop) == "object"
        and (
            isinstance(prop.get("properties"), dict)
            or object_variants(prop) is not None
        )
        and prop.get("x-type") != "json"
    )


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
