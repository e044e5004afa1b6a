"""HTML forms from field specs: WTForms classes, French input, errors by field."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

from flask_wtf import FlaskForm
from werkzeug.datastructures import MultiDict
from wtforms import Field, StringField

from . import french
from .compiler import (
    FieldSpec,
    choice_key,
    instantiate,
    leaves,
    remove_at,
    set_at,
    value_at,
    walk,
)
from .validation import apply_read_only, error, validate_data

TRUE_WORD, FALSE_WORD = "oui", "non"


class MultiValueField(Field):
    """Every value posted under one name (a group of checkboxes)."""

    def process_formdata(self, valuelist):
        self.data = [v for v in valuelist if v != ""]

    def _value(self):
        return self.data or []


class EntryForm(FlaskForm):
    """Base of generated forms; carries the CSRF token."""

    class Meta:
        csrf_field_name = "csrf_token"


@dataclass
class PageForm:
    """The inputs of one page: concrete specs (rows included) and their form."""

    specs: list[FieldSpec]
    wtform: EntryForm
    # The post only added or removed a row: show the page again, save nothing.
    row_action: bool = False


def page_form(specs: list[FieldSpec], formdata=None, data=None) -> PageForm:
    """The form for a page: bound to a post, or filled from data (or defaults)."""
    row_action = False
    if formdata is not None and formdata.get(REMOVE_ROW):
        formdata = without_row(formdata, formdata[REMOVE_ROW])
        row_action = True
    elif formdata is not None and formdata.get(ADD_ROW):
        row_action = True
    counts = row_counts(specs, formdata, data)
    concrete = instantiate(specs, data, counts)
    wtform = build_form_class(concrete)(formdata=formdata)
    if formdata is None:
        prefill(wtform, concrete, data)
    return PageForm(concrete, wtform, row_action)


def build_form_class(specs: list[FieldSpec]) -> type[EntryForm]:
    """A WTForms class with one field per input, named as INTERFACE.md says."""
    attrs = {}
    for spec in walk(specs):
        if spec.variants:
            attrs[variant_attr(spec)] = StringField(
                name=spec.variant_name, id=spec.variant_id
            )
    for spec in leaves(specs):
        for attr, name, input_id in input_names(spec):
            if spec.widget == "checkboxes":
                attrs[attr] = MultiValueField(name=name, id=input_id, default=[])
            else:
                attrs[attr] = StringField(name=name, id=input_id)
    return type("GeneratedEntryForm", (EntryForm,), attrs)


def variant_attr(spec: FieldSpec) -> str:
    return "f" + "_".join(str(i) for i in spec.ids) + "_variante"


def input_names(spec: FieldSpec) -> list[tuple[str, str, str]]:
    """(attribute, HTML name, HTML id) of each input of a field.

    A group has no input of its own: its first field's input stands for it.
    """
    if spec.is_group:
        return input_names(next(leaves([spec])))
    base = "f" + "_".join(str(i) for i in (spec.ids or (spec.position,)))
    name = spec.html_name
    if spec.widget == "geopoint":
        return [
            (f"{base}_lon", f"{name}.lon", f"{spec.html_id}-lon"),
            (f"{base}_lat", f"{name}.lat", f"{spec.html_id}-lat"),
        ]
    if spec.widget == "repeated":
        # The first input has the field's id: labels and error links find it.
        return [
            (f"{base}_{i}", f"{name}.{i}", spec.html_id + (f"-{i + 1}" if i else ""))
            for i in range(max(spec.count, 1))
        ]
    return [(base, name, spec.html_id)]


def prefill(form: EntryForm, specs: list[FieldSpec], data: dict | None) -> None:
    """Fill the inputs from stored data or, for a new entry, from defaults."""
    for spec in walk(specs):
        if spec.variants and data is not None:
            chosen = spec.variant_of(value_at(data, spec.path))
            if chosen is not None:
                form[variant_attr(spec)].data = str(chosen)
    for spec in leaves(specs):
        value = value_at(data, spec.path) if data is not None else spec.default
        if value is None:
            continue
        fields = [form[attr] for attr, _, _ in input_names(spec)]
        if spec.widget == "geopoint" and isinstance(value, list) and len(value) == 2:
            fields[0].data = french.format_number(value[0])
            fields[1].data = french.format_number(value[1])
        elif spec.widget == "repeated" and isinstance(value, list):
            for field, item in zip(fields, value, strict=False):
                field.data = _item_text(spec, item)
        else:
            fields[0].data = display_value(spec, value)


def display_value(spec: FieldSpec, value):
    if spec.widget == "const":
        return display(spec, value)
    if spec.widget == "checkboxes":
        return [choice_key(v) for v in value] if isinstance(value, list) else []
    if spec.widget == "boolean":
        return TRUE_WORD if value else FALSE_WORD
    if spec.widget in ("select", "radio"):
        return choice_key(value)
    if spec.widget == "number":
        return french.format_number(value)
    if spec.widget == "datetime" and isinstance(value, str):
        return french.local_datetime(value)
    if spec.widget == "lines" and isinstance(value, list):
        return "\n".join(str(v) for v in value)
    if spec.widget == "json":
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def redisplay(form: EntryForm, specs: list[FieldSpec]) -> None:
    """Show readable dates again in the form a date input understands.

    A date input only takes ISO values: `12/03/2025` typed in an old browser
    (where the input is plain text) is shown back as 2025-03-12. A value
    that cannot be read stays exactly as typed.
    """
    for spec in leaves(specs):
        if spec.widget not in ("date", "datetime"):
            continue
        field = form[input_names(spec)[0][0]]
        if not field.data:
            continue
        try:
            if spec.widget == "date":
                field.data = french.parse_date(field.data)
            else:
                field.data = french.parse_datetime(field.data)[:16]
        except french.InputError:
            pass


def display(spec: FieldSpec, value) -> str:
    """A stored value as people read it: labels, French numbers and dates."""
    if value is None:
        return ""
    labels = {c.key: c.label for c in spec.choices}
    if spec.is_list and isinstance(value, list):
        return " ; ".join(
            f"ligne {i + 1} : "
            + ", ".join(f"{k} = {v}" for k, v in row.items() if v is not None)
            for i, row in enumerate(value)
            if isinstance(row, dict)
        )
    if spec.widget == "geopoint" and isinstance(value, list):
        return " ; ".join(french.format_number(v) for v in value)
    if isinstance(value, list):
        return ", ".join(labels.get(choice_key(v), str(v)) for v in value)
    if spec.widget == "boolean":
        return "Oui" if value else "Non"
    if choice_key(value) in labels:
        return labels[choice_key(value)]
    if spec.widget == "number":
        return french.format_number(value)
    if spec.widget == "date" and isinstance(value, str) and len(value) == 10:
        return f"{value[8:]}/{value[5:7]}/{value[:4]}"
    if spec.widget == "datetime" and isinstance(value, str) and len(value) >= 16:
        return f"{value[8:10]}/{value[5:7]}/{value[:4]} {value[11:16]}"
    if isinstance(value, dict):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


ADD_ROW = "_ajouter_ligne"
REMOVE_ROW = "_retirer_ligne"
_ROW_KEY = re.compile(r"^(.+?)\.(\d+)\.")
# One of a field's repeated inputs: "tags.2".
_VALUE_KEY = re.compile(r"^(.+)\.(\d+)$")


def row_counts(specs: list[FieldSpec], formdata, data: dict | None = None) -> dict:
    """How many rows each repeatable group (and inputs each list of values) shows.

    From a posted page: the rows it posted, one more where "add a row" was
    pressed. Otherwise, or for a list the page did not post: the rows of
    the data, and at least the minimum the schema asks for (one blank row
    to start with).
    """
    counts = {}
    for spec in walk(specs):
        if spec.is_list or spec.widget == "repeated":
            stored = value_at(data, spec.path) if data is not None else None
            number = len(stored) if isinstance(stored, list) else 0
            counts[spec.html_name] = max(number, spec.min_rows, 1)
    if formdata is None:
        return counts
    posted: dict[str, int] = {}
    for key in formdata.keys():
        match = _ROW_KEY.match(key) or _VALUE_KEY.match(key)
        if match and match[1] in counts:
            posted[match[1]] = max(posted.get(match[1], 0), int(match[2]) + 1)
    # What the page posted wins over the data: a removed row stays removed.
    counts.update(posted)
    added = formdata.get(ADD_ROW)
    if added in counts:
        counts[added] += 1
    return counts


def without_row(formdata, target: str):
    """The posted values with one row removed and the next ones moved up."""
    list_name, _, index = target.rpartition(".")
    if not index.isdigit():
        return formdata
    removed = int(index)
    out = MultiDict()
    prefix = f"{list_name}."
    for key, value in formdata.items(multi=True):
        if key.startswith(prefix):
            rest = key[len(prefix) :]
            row, dot, tail = rest.partition(".")
            if row.isdigit() and dot:
                if int(row) == removed:
                    continue
                if int(row) > removed:
                    key = f"{prefix}{int(row) - 1}.{tail}"
            elif row.isdigit():
                # One of repeated inputs: "tags.2".
                if int(row) == removed:
                    continue
                if int(row) > removed:
                    key = f"{prefix}{int(row) - 1}"
        out.add(key, value)
    return out


def read_form(
    form: EntryForm,
    specs: list[FieldSpec],
    schema_json: str,
    previous: dict | None = None,
    posted: set | None = None,
):
    """(data, errors): the posted form read, converted and validated.

    When editing, a field whose inputs were not posted at all keeps its
    previous value: a page that does not show a field cannot erase it.
    Checkboxes are the exception, since browsers never post unticked ones.
    """
    data = {}
    errors = []
    answered = set()
    unticked = []
    for spec in leaves(specs):
        if spec.readonly:
            continue
        fields = [form[attr] for attr, _, _ in input_names(spec)]
        if previous is not None and not _posted(spec, fields):
            kept = value_at(previous, spec.path)
            if kept is not None:
                set_at(data, spec.path, kept)
            continue
        raw = [field.data for field in fields]
        kept = value_at(previous, spec.path) if previous is not None else None
        if kept is not None and _fits(spec, kept) and _shown_unchanged(spec, raw, kept):
            # Sent back as shown: the stored value stays exactly as it was
            # (a date-time's seconds, a number's written form).
            set_at(data, spec.path, kept)
            answered.add(spec.path)
            continue
        try:
            value = convert(spec, raw)
        except french.InputError as exc:
            errors.append(error(spec.path, spec, str(exc)))
            continue
        if value is False and not fields[0].data and spec.conditions:
            unticked.append(spec)
        if value is not None or spec.nullable:
            set_at(data, spec.path, value)
        if any((f.data or "") != "" for f in fields):
            answered.add(spec.path)
    # An unticked box says "no" only where its question applies.
    for spec in unticked:
        if not any(condition_holds(c, data) for c in spec.conditions):
            remove_at(data, spec.path)
    _keep_chosen_variants(form, specs, data, answered)
    _drop_unanswered_groups(specs, data, answered)
    _drop_trailing_blank_rows(specs, data, answered)
    errors += apply_read_only(data, specs, previous)
    if previous is not None and posted is not None:
        _keep_unposted_lists(specs, data, previous, posted)

    # A field that could not be read already has its error; the schema's
    # "required" on the same field would only repeat it.
    unreadable = {e["field"] for e in errors}
    for problem in validate_data(schema_json, data, specs):
        if problem["field"] not in unreadable:
            errors.append(problem)
    return data, errors


def _keep_chosen_variants(form, specs, data: dict, answered: set) -> None:
    """Only the chosen variant's fields are kept (all show without JavaScript).

    Without a choice, the variant is the one whose fields were filled in.
    """
    for spec in walk(specs):
        if not spec.variants:
            continue
        value = value_at(data, spec.path)
        if not isinstance(value, dict):
            continue
        picked = form[variant_attr(spec)].data or ""
        chosen = int(picked) if picked.isdigit() else None
        if chosen is None or chosen >= len(spec.variants):
            typed = {
                leaf.path[len(spec.path)]
                for leaf in leaves([spec])
                if leaf.path in answered
            }
            chosen = spec.variant_of({name: True for name in typed})
        if chosen is None:
            continue
        keep = spec.variant_fields[chosen] | (
            set(value) - set().union(*spec.variant_fields)
        )
        for name in list(value):
            if name not in keep:
                del value[name]
                answered.difference_update(
                    {
                        p
                        for p in answered
                        if p[: len(spec.path) + 1] == spec.path + (name,)
                    }
                )


def condition_holds(condition: dict, data: dict) -> bool:
    """Whether a field's condition holds for the answers read so far."""
    path = tuple(
        int(part) if part.isdigit() else part for part in condition["field"].split(".")
    )
    value = value_at(data, path)
    if condition["values"] is None:
        hit = value not in (None, "", [])
    elif isinstance(value, list):
        hit = any(v in condition["values"] for v in value)
    else:
        hit = value is not None and value in condition["values"]
    return not hit if condition["negate"] else hit


def _item_text(spec: FieldSpec, item) -> str:
    if spec.item_type == "number" and isinstance(item, (int, float)):
        return french.format_number(item)
    return str(item)


_PYTHON_TYPES = {
    "string": str,
    "integer": int,
    "number": (int, float),
    "boolean": bool,
    "array": list,
    "object": dict,
}


def _fits(spec: FieldSpec, kept) -> bool:
    """Whether a stored value is of the field's type: after a type change
    an entry keeps its old value ("210" as text), and the agent sending it
    back as shown means the value read anew, as the field now reads it."""
    expected = _PYTHON_TYPES.get(spec.json_type)
    if expected is None:
        return True
    if isinstance(kept, bool) and spec.json_type != "boolean":
        return False
    return isinstance(kept, expected)


def _shown_unchanged(spec: FieldSpec, raw: list, kept) -> bool:
    if spec.widget in ("geopoint", "boolean", "repeated"):
        return False
    shown = display_value(spec, kept)
    posted = raw[0]
    if isinstance(posted, str):
        posted = posted.replace("\r\n", "\n")
    return posted == shown


def _drop_trailing_blank_rows(specs, data: dict, answered: set) -> None:
    """Blank rows at the end of a list are no answer (the starting row)."""
    for spec in walk(specs):
        if not spec.is_list:
            continue
        rows = value_at(data, spec.path)
        if not isinstance(rows, list):
            continue
        while rows and not _row_answered(spec, len(rows) - 1, answered):
            rows.pop()
        if not rows:
            remove_at(data, spec.path)


def _row_answered(spec: FieldSpec, index: int, answered: set) -> bool:
    if index >= len(spec.rows):
        return False
    return any(leaf.path in answered for leaf in leaves(spec.rows[index]))


def _keep_unposted_lists(specs, data: dict, previous: dict, posted: set) -> None:
    """A list the page did not show keeps its rows."""
    for spec in walk(specs):
        if not spec.is_list:
            continue
        prefix = spec.html_name + "."
        if not any(key.startswith(prefix) for key in posted):
            kept = value_at(previous, spec.path)
            if kept is not None:
                set_at(data, spec.path, kept)


def _drop_unanswered_groups(specs, data: dict, answered: set) -> None:
    """An optional group where nothing was typed is no answer at all.

    Values the page gives without the agent typing anything (a default,
    a group of unticked checkboxes) must not make it look begun, or its
    required fields would be asked for.
    """
    for spec in walk(specs):
        if not spec.is_group or spec.required:
            continue
        inside = {leaf.path for leaf in leaves([spec])}
        if not inside & answered:
            remove_at(data, spec.path)


def _posted(spec: FieldSpec, fields) -> bool:
    if spec.widget == "checkboxes" or (spec.widget == "boolean" and not spec.required):
        return True
    return any(field.raw_data for field in fields)


def convert(spec: FieldSpec, raw: list):
    """The typed value of a field from its raw input(s); None when empty."""
    if spec.widget == "checkboxes":
        values = raw[0] or []
        return [_choice_value(spec, v) for v in values] or None
    if spec.widget == "repeated":
        items = [text.strip() for text in raw if text and text.strip()]
        return [typed_item(spec, item) for item in items] or None
    if spec.widget == "geopoint":
        lon, lat = ((r or "").strip() for r in raw)
        if not lon and not lat:
            return None
        if not lon or not lat:
            raise french.InputError("Indiquez la longitude et la latitude.")
        return [french.parse_number(lon), french.parse_number(lat)]

    if spec.widget == "const":
        # Whatever was posted, the schema fixes the value.
        return spec.prop["const"]
    text = raw[0]
    if spec.widget == "boolean":
        if text in (None, ""):
            # An unticked checkbox sends nothing: that answer is "no". A
            # required boolean is a Oui/Non choice, where nothing means blank.
            return None if spec.required else False
        return text == TRUE_WORD
    if text is None:
        return None
    text = text.replace("\r\n", "\n")
    if not text.strip():
        return None
    return convert_text(spec, text)


def convert_text(spec: FieldSpec, text: str):
    """A field's value from text a person typed (form input or file cell)."""
    if spec.widget in ("select", "radio"):
        return _choice_value(spec, text)
    if spec.json_type == "integer":
        return french.parse_integer(text)
    if spec.json_type == "number":
        return french.parse_number(text)
    if spec.widget == "date":
        return french.parse_date(text)
    if spec.widget == "datetime":
        return french.parse_datetime(text)
    if spec.widget == "time":
        return french.parse_time(text)
    if spec.widget == "lines":
        items = [line.strip() for line in text.split("\n") if line.strip()]
        return [typed_item(spec, item) for item in items]
    if spec.widget == "json":
        try:
            return json.loads(text)
        except json.JSONDecodeError:
            raise french.InputError("Doit être du JSON valide.") from None
    if spec.widget in ("email", "url"):
        # Spaces around an address are never part of it.
        return text.strip()
    # Free text keeps what was typed, spaces included.
    return text


def typed_item(spec: FieldSpec, text: str):
    if spec.item_type == "integer":
        return french.parse_integer(text)
    if spec.item_type == "number":
        return french.parse_number(text)
    return text


def _choice_value(spec: FieldSpec, text: str):
    # Choices are posted as text; the stored value is the schema's own value
    # with its own type.
    for choice in spec.choices:
        if choice.key == text:
            return choice.value
    return typed_item(spec, text) if spec.json_type != "array" else text
