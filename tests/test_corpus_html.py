"""The HTML form of every corpus Table Schema: labels, purposes, inputs, posting."""

from __future__ import annotations

import json
import re
from datetime import date, datetime, time
from decimal import Decimal

import pytest
from conftest import corpus_path, csrf_from
from frictionless import Resource, Schema
from markupsafe import escape

from dnt_forms.compiler import NO_PURPOSE
from dnt_forms.schemas import load_file
from dnt_forms.schemas.tableschema import repair
from dnt_forms.schemas.versions import specs_of

INPUT_TYPES = {
    "text": "text",
    "email": "email",
    "url": "url",
    "integer": "number",
    "year": "number",
    "number": "text",
    "date": "date",
    "datetime": "datetime-local",
    "time": "time",
    "password": "password",
}


def _folders() -> list[str]:
    base = corpus_path() / "tableschema"
    return sorted(p.parent.name for p in base.glob("*/schema.json")) or ["(absent)"]


@pytest.fixture
def opened(app, agent, corpus, request):
    folder = request.param
    path = corpus / "tableschema" / folder / "schema.json"
    slug = "html-" + folder
    with app.app_context():
        from dnt_forms.schemas.versions import install

        install(load_file(path), slug)
    return slug, path


def _specs(app, slug):
    from dnt_forms.schemas.versions import current_version, get_form

    with app.app_context():
        return specs_of(current_version(get_form(slug)))


@pytest.mark.parametrize("opened", _folders(), indirect=True)
def test_form_shows_label_purpose_and_input_for_every_field(app, agent, opened):
    slug, _ = opened
    html = agent.get(f"/formulaires/{slug}/").text
    for spec in _specs(app, slug):
        assert escape(spec.purpose or NO_PURPOSE) in html, spec.name
        if spec.widget in ("radio", "checkboxes", "geopoint") or (
            spec.json_type == "boolean" and spec.required
        ):
            assert f"<legend>{escape(spec.title)}" in html, spec.name
            continue
        assert re.search(
            f'<label for="{spec.html_id}"[^>]*>{re.escape(escape(spec.title))}', html
        ), spec.name
        if spec.widget == "select":
            assert f'<select id="{spec.html_id}"' in html
        elif spec.widget in ("textarea", "lines", "json"):
            assert f'<textarea id="{spec.html_id}"' in html
        elif spec.widget == "repeated":
            assert f'<input type="text" id="{spec.html_id}"' in html
        elif spec.json_type == "boolean":
            assert f'<input type="checkbox" id="{spec.html_id}"' in html
        else:
            wanted = INPUT_TYPES[spec.widget]
            assert f'<input type="{wanted}" id="{spec.html_id}"' in html, spec.name


def _typed_rows(path, count=3):
    descriptor = repair(json.loads(path.read_text()), [])
    csv = path.parent / "valid.csv"
    with Resource(
        path=csv.name,
        basepath=str(path.parent),
        schema=Schema.from_descriptor(descriptor),
    ) as resource:
        rows = []
        for row in resource.row_stream:
            rows.append(row.to_dict())
            if len(rows) == count:
                break
    return rows


def _as_typed(spec, value) -> object:
    """What the agent types into the form for this value."""
    if value is None:
        return None
    if spec.widget == "geopoint":
        lon, lat = (value.lon, value.lat) if hasattr(value, "lon") else value
        return {
            f"{spec.name}.lon": str(lon).replace(".", ","),
            f"{spec.name}.lat": str(lat).replace(".", ","),
        }
    if spec.json_type == "boolean":
        return "oui" if value else ("non" if spec.required else None)
    if spec.widget == "checkboxes":
        return list(value)
    if spec.widget == "repeated":
        return {f"{spec.name}.{i}": str(v) for i, v in enumerate(value)}
    if isinstance(value, Decimal) or isinstance(value, float):
        return str(value).replace(".", ",")
    if isinstance(value, date) and not isinstance(value, datetime):
        return value.strftime("%d/%m/%Y")
    if isinstance(value, (datetime, time)):
        return value.isoformat()
    return str(value)


def _form_data(specs, row) -> dict:
    data = {}
    for spec in specs:
        typed = _as_typed(spec, row.get(spec.name))
        if isinstance(typed, dict):
            data.update(typed)
        elif typed is not None:
            data[spec.name] = typed
    return data


def _expected(spec, value):
    if value is None:
        return None
    if spec.widget == "geopoint":
        lon, lat = (value.lon, value.lat) if hasattr(value, "lon") else value
        return [float(lon), float(lat)]
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, datetime):
        return value.isoformat() if value.tzinfo else None  # compared loosely
    if isinstance(value, (date, time)):
        return value.isoformat()
    if isinstance(value, list):
        return list(value)
    return value


def _valid_folders() -> list[str]:
    base = corpus_path() / "tableschema"
    return [f for f in _folders() if (base / f / "valid.csv").exists()] or ["(absent)"]


@pytest.mark.parametrize("opened", _valid_folders(), indirect=True)
def test_valid_post_is_stored_and_invalid_post_keeps_values(app, agent, opened):
    from dnt_forms.db import db
    from dnt_forms.models import Entry

    slug, path = opened
    specs = _specs(app, slug)
    rows = _typed_rows(path)
    url = f"/formulaires/{slug}/"
    for row in rows:
        data = _form_data(specs, row)
        page = agent.get(url).text
        response = agent.post(url, data={"csrf_token": csrf_from(page), **data})
        assert response.status_code == 302, _errors(response.text)

    with app.app_context():
        stored = [
            e.data
            for e in db.session.execute(db.select(Entry).order_by(Entry.id)).scalars()
        ]
    assert len(stored) == len(rows)
    for got, row in zip(stored, rows):
        for spec in specs:
            wanted = _expected(spec, row.get(spec.name))
            if spec.widget == "datetime" and wanted is None and row.get(spec.name):
                assert got[spec.name].startswith(row[spec.name].isoformat()[:16])
                continue
            if wanted is None or wanted is False and not spec.required:
                assert got.get(spec.name) in (None, False), spec.name
                continue
            assert got.get(spec.name) == wanted, spec.name

    # Now leave one required field blank: the error names it, the rest stays.
    data = _form_data(specs, rows[0])
    required = next(s for s in specs if s.required)
    for key in (required.name, f"{required.name}.lon", f"{required.name}.lat"):
        data.pop(key, None)
    kept = next(
        s
        for s in specs
        if s is not required
        and isinstance(data.get(s.name), str)
        and s.widget in ("text", "email", "url", "number", "integer", "year", "date")
    )
    page = agent.get(url).text
    response = agent.post(url, data={"csrf_token": csrf_from(page), **data})
    assert response.status_code == 422
    assert response.text.count('class="resume-erreurs"') == 1
    anchor = required.html_id + ("-lon" if required.widget == "geopoint" else "")
    assert f'href="#{anchor}"' in response.text
    assert f'value="{escape(data[kept.name])}"' in response.text
    with app.app_context():
        assert db.session.query(Entry).count() == len(rows)


def _errors(html: str) -> str:
    found = re.findall(r'<p class="message-erreur"[^>]*>(.*?)</p>', html, re.DOTALL)
    return " | ".join(found) or html[:500]
