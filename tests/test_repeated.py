"""Lists of free values: one input per value, added and removed without
JavaScript, every value kept in order and typed."""

from __future__ import annotations

import json
import re
from html import unescape

import pytest
from conftest import csrf_from, public_rows
from werkzeug.datastructures import MultiDict

FORM = {
    "title": "Marché",
    "type": "object",
    "properties": {
        "produits": {
            "type": "array",
            "title": "Produits vendus",
            "x-purpose": "Orienter les visiteurs.",
            "items": {"type": "string", "minLength": 2},
            "maxItems": 3,
        },
        "prix": {
            "type": "array",
            "title": "Prix relevés",
            "x-purpose": "Suivre les prix.",
            "items": {"type": "number"},
        },
    },
}


@pytest.fixture
def page(agent, make_form):
    make_form(FORM, "marche")
    return agent


def _post(client, pairs):
    html = client.get("/formulaires/marche/").text
    return client.post(
        "/formulaires/marche/",
        data=MultiDict([("csrf_token", csrf_from(html)), *pairs]),
    )


def test_one_labelled_input_per_value(page):
    html = page.get("/formulaires/marche/").text
    assert "<legend>Produits vendus" in html
    assert re.search(r'<label for="champ-0">Produits vendus : valeur 1</label>', html)
    assert 'name="produits.0"' in html and 'name="produits.1"' not in html
    assert 'name="_ajouter_ligne" value="produits"' in html


def test_add_and_remove_values_without_javascript(page, app):
    added = _post(page, [("produits.0", "pommes"), ("_ajouter_ligne", "produits")])
    assert added.status_code == 200
    html = added.text
    assert 'value="pommes"' in html and 'name="produits.1"' in html
    # The new value's input takes the focus, where the agent was.
    assert re.search(r'<input[^>]*name="produits\.1"[^>]*autofocus', html)
    assert public_rows(app, "marche") == []  # adding a value saves nothing

    removed = _post(
        page,
        [
            ("produits.0", "pommes"),
            ("produits.1", "poires"),
            ("produits.2", "prunes"),
            ("_retirer_ligne", "produits.1"),
        ],
    )
    html = removed.text
    assert 'name="produits.1" value="prunes"' in html
    assert 'name="produits.2"' not in html
    # The value now in its place takes the focus.
    assert re.findall(r'<input[^>]*name="(produits\.\d)"[^>]*autofocus', html) == [
        "produits.1"
    ]

    saved = _post(
        page,
        [
            ("produits.0", "pommes"),
            ("produits.1", ""),
            ("produits.2", "prunes"),
            ("prix.0", "1 234,5"),
            ("prix.1", "2"),
            ("action", "envoyer"),
        ],
    )
    assert saved.status_code == 302, saved.text[:2000]
    row = public_rows(app, "marche")[0]
    assert json.loads(row["produits"]) == ["pommes", "prunes"]
    assert json.loads(row["prix"]) == [1234.5, 2]

    # The entry page shows each value in its own input again.
    edit = page.get(saved.headers["Location"]).text
    assert 'name="prix.0" value="1234,5"' in edit


def test_an_error_points_at_the_value(page, app):
    response = _post(
        page, [("produits.0", "pommes"), ("produits.1", "x"), ("action", "envoyer")]
    )
    assert response.status_code == 422
    html = unescape(response.text)
    assert "Produits vendus" in html and "au moins 2 caractère" in html
    assert 'value="x"' in html
    assert public_rows(app, "marche") == []


def test_removing_a_row_while_editing_leaves_no_blank_row(agent, token, make_form):
    """The rows the page posted count, not the stored ones."""
    from htmlform import posted_pairs

    schema = {
        "type": "object",
        "properties": {
            "lignes": {
                "type": "array",
                "title": "Lignes",
                "items": {
                    "type": "object",
                    "properties": {"n": {"type": "string", "title": "N"}},
                },
            }
        },
    }
    make_form(schema, "lignes")
    created = agent.post(
        "/api/v1/forms/lignes/entries",
        json={"lignes": [{"n": "a"}, {"n": "b"}, {"n": "c"}]},
        headers={"Authorization": f"Bearer {token}"},
    )
    url = f"/formulaires/lignes/entrees/{created.get_json()['id']}"
    pairs = posted_pairs(agent.get(url).text, url)
    html = agent.post(
        url, data=MultiDict([*pairs, ("_retirer_ligne", "lignes.1")])
    ).text
    assert 'name="lignes.1.n" value="c"' in html
    assert 'name="lignes.2.n"' not in html
