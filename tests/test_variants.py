"""Variants (oneOf/anyOf between objects), choices among objects, read-only fields.

The agent picks a variant, then fills in its fields; an error inside a
variant names the variant and the field, in the HTML page and in the API.
"""

import json
import re
from html import unescape

import pytest
from conftest import csrf_from, public_rows

FORM = {
    "title": "Demande de subvention",
    "type": "object",
    "required": ["objet", "demandeur"],
    "properties": {
        "objet": {"type": "string", "title": "Objet", "x-purpose": "Instruction."},
        # Variants told apart by a field they pin: that field is the choice.
        "demandeur": {
            "title": "Demandeur",
            "x-purpose": "Savoir à qui verser la subvention.",
            "type": "object",
            "oneOf": [
                {
                    "title": "Personne physique",
                    "properties": {
                        "nature": {"const": "physique"},
                        "nom": {
                            "type": "string",
                            "title": "Nom",
                            "x-purpose": "Identité.",
                        },
                    },
                    "required": ["nature", "nom"],
                },
                {
                    "title": "Association ou entreprise",
                    "properties": {
                        "nature": {"const": "morale"},
                        "siret": {
                            "type": "string",
                            "format": "siret",
                            "title": "SIRET",
                            "x-purpose": "Vérifier l'existence.",
                        },
                    },
                    "required": ["nature", "siret"],
                },
            ],
        },
        # Variants that only their fields tell apart: the agent picks one.
        "contact": {
            "title": "Contact",
            "x-purpose": "Prévenir de la décision.",
            "oneOf": [
                {
                    "title": "Par courriel",
                    "type": "object",
                    "properties": {
                        "courriel": {
                            "type": "string",
                            "format": "email",
                            "title": "Courriel",
                            "x-purpose": "Envoyer la décision.",
                        }
                    },
                    "required": ["courriel"],
                },
                {
                    "title": "Par courrier",
                    "type": "object",
                    "properties": {
                        "adresse": {
                            "type": "string",
                            "title": "Adresse postale",
                            "x-purpose": "Envoyer la décision.",
                        },
                        "code_postal": {
                            "type": "string",
                            "pattern": "^[0-9]{5}$",
                            "title": "Code postal",
                            "x-purpose": "Envoyer la décision.",
                        },
                    },
                    "required": ["adresse", "code_postal"],
                },
            ],
        },
        "exercice": {
            "type": "integer",
            "title": "Exercice budgétaire",
            "x-purpose": "Année du budget qui paie.",
            "default": 2026,
            "readOnly": True,
        },
    },
}
VALID = {
    "objet": "Fête de quartier",
    "demandeur": {"nature": "morale", "siret": "21750001600019"},
    "contact": {"adresse": "1 place de l'Hôtel de Ville", "code_postal": "75004"},
}


@pytest.fixture
def api_form(app, agent, token, make_form):
    make_form(FORM, "subvention")
    return {"Authorization": f"Bearer {token}"}


def test_variants_round_trip_through_the_api(app, agent, api_form):
    created = agent.post(
        "/api/v1/forms/subvention/entries", json=VALID, headers=api_form
    )
    assert created.status_code == 201, created.get_json()
    entry_id = created.get_json()["id"]
    back = agent.get(f"/api/v1/forms/subvention/entries/{entry_id}", headers=api_form)
    # The read-only field takes the form's value.
    assert back.get_json()["data"] == {**VALID, "exercice": 2026}

    row = public_rows(app, "subvention")[0]
    assert row["demandeur__nature"] == "morale"
    assert row["demandeur__siret"] == "21750001600019"
    assert row["demandeur__nom"] is None
    assert row["contact__code_postal"] == "75004"
    assert row["contact__courriel"] is None
    assert "contact___variante" not in row


@pytest.mark.parametrize(
    "part, path, variant",
    [
        ({"demandeur": {"nature": "morale"}}, "/demandeur/siret", "Association"),
        (
            {"demandeur": {"nature": "morale", "siret": "21750001600018"}},
            "/demandeur/siret",
            "Association",
        ),
        ({"demandeur": {"nature": "physique"}}, "/demandeur/nom", "Personne physique"),
        (
            {"contact": {"courriel": "pas-une-adresse"}},
            "/contact/courriel",
            "Par courriel",
        ),
        ({"contact": {"adresse": "1 rue"}}, "/contact/code_postal", "Par courrier"),
        (
            {"contact": {"adresse": "1 rue", "code_postal": "7500"}},
            "/contact/code_postal",
            "Par courrier",
        ),
    ],
)
def test_an_error_inside_a_variant_names_the_variant_and_field(
    agent, api_form, part, path, variant
):
    response = agent.post(
        "/api/v1/forms/subvention/entries", json={**VALID, **part}, headers=api_form
    )
    assert response.status_code == 422
    errors = response.get_json()["errors"]
    assert [e["path"] for e in errors] == [path], errors
    assert f"variante « {variant}" in errors[0]["message"]


def test_read_only_field_cannot_be_changed_through_the_api(agent, api_form):
    response = agent.post(
        "/api/v1/forms/subvention/entries",
        json={**VALID, "exercice": 2020},
        headers=api_form,
    )
    assert response.status_code == 422
    (error,) = response.get_json()["errors"]
    assert error["path"] == "/exercice"
    assert "lecture seule" in error["message"] and "2026" in error["message"]
    same = agent.post(
        "/api/v1/forms/subvention/entries",
        json={**VALID, "exercice": 2026},
        headers=api_form,
    )
    assert same.status_code == 201


def _post(agent, data):
    page = agent.get("/formulaires/subvention/").text
    return agent.post(
        "/formulaires/subvention/", data={"csrf_token": csrf_from(page), **data}
    )


def test_form_page_offers_the_variants(agent, api_form):
    html = agent.get("/formulaires/subvention/").text
    # The pinned field is the choice of variant, labelled with their titles.
    assert 'name="demandeur.nature" value="physique"' in html
    assert "Personne physique</label>" in html
    assert "Association ou entreprise</label>" in html
    assert "si « Demandeur » vaut « Association ou entreprise »" in unescape(html)
    # Variants without such a field: the agent picks one; each field says when.
    assert 'name="contact._variante" value="0"' in html
    assert "Par courrier</label>" in html
    assert "si « Contact » vaut « Par courriel »" in unescape(html)
    # Read-only: shown, with its value, not editable.
    field = re.search(r'<input[^>]*name="exercice"[^>]*>', html)[0]
    assert "readonly" in field and 'value="2026"' in field
    for input_id in re.findall(
        r'<(?:input|select|textarea)[^>]*\bid="(champ-[^"]+)"', html
    ):
        assert f'for="{input_id}"' in html, input_id


def test_form_keeps_only_the_chosen_variant(app, agent, api_form):
    response = _post(
        agent,
        {
            "objet": "Fête",
            "demandeur.nature": "physique",
            "demandeur.nom": "Martin",
            # Typed in the other variant's field (all show without JavaScript).
            "demandeur.siret": "21750001600019",
            "contact._variante": "0",
            "contact.courriel": "martin@exemple.fr",
            "contact.adresse": "1 rue",
            "exercice": "1999",
        },
    )
    assert response.status_code == 302, response.text
    row = public_rows(app, "subvention")[0]
    assert row["demandeur__nom"] == "Martin"
    assert row["contact__courriel"] == "martin@exemple.fr"
    assert row["contact__adresse"] is None
    # Read-only: what was posted changes nothing.
    assert row["exercice"] == 2026


def test_form_error_in_a_variant_keeps_what_was_typed(app, agent, api_form):
    response = _post(
        agent,
        {
            "objet": "Fête",
            "demandeur.nature": "physique",
            "demandeur.nom": "Martin",
            "contact._variante": "1",
            "contact.adresse": "1 rue de la Paix",
            "contact.code_postal": "750",
        },
    )
    assert response.status_code == 422
    html = unescape(response.text)
    assert "<title>Erreur" in html
    assert "variante « Par courrier »" in html
    assert 'value="1 rue de la Paix"' in html and 'value="750"' in html
    assert re.search(r'name="contact._variante" value="1"[^>]* checked', html)
    assert public_rows(app, "subvention") == []


def test_edit_page_shows_the_variant_of_the_data(agent, api_form):
    created = agent.post(
        "/api/v1/forms/subvention/entries", json=VALID, headers=api_form
    )
    entry_id = created.get_json()["id"]
    html = agent.get(f"/formulaires/subvention/entrees/{entry_id}").text
    assert re.search(r'name="contact._variante" value="1"[^>]* checked', html)
    assert re.search(r'name="demandeur.nature" value="morale"[^>]* checked', html)


OBJECTS = {
    "type": "object",
    "properties": {
        "lieu": {
            "title": "Lieu",
            "x-purpose": "Localiser.",
            "enum": [{"nom": "Mairie", "code": 1}, {"nom": "École", "code": 2}],
        },
        "lieux": {
            "title": "Lieux",
            "x-purpose": "Localiser.",
            "type": "array",
            "uniqueItems": True,
            "items": {
                "enum": [{"nom": "Mairie", "code": 1}, {"nom": "École", "code": 2}]
            },
        },
    },
}


def test_choice_among_objects_stores_the_object(app, agent, make_form):
    make_form(OBJECTS, "lieux")
    html = agent.get("/formulaires/lieux/").text
    assert "Mairie</label>" in html and "École</label>" in html
    key = json.dumps({"code": 2, "nom": "École"}, ensure_ascii=False)
    response = agent.post(
        "/formulaires/lieux/",
        data={"csrf_token": csrf_from(html), "lieu": key, "lieux": [key]},
    )
    assert response.status_code == 302, response.text
    row = public_rows(app, "lieux")[0]
    assert json.loads(row["lieu"]) == {"nom": "École", "code": 2}
    assert json.loads(row["lieux"]) == [{"nom": "École", "code": 2}]
    entry = agent.get(response.headers["Location"]).text
    assert "École" in unescape(entry)
