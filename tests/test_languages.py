"""The JSON API speaks English when asked; people's pages stay French."""

from __future__ import annotations

import pytest

FORM = {
    "title": "Salle",
    "type": "object",
    "required": ["nom"],
    "properties": {
        "nom": {"type": "string", "title": "Nom", "x-purpose": "Identifier."},
        "places": {
            "type": "integer",
            "minimum": 1,
            "title": "Places",
            "x-purpose": "Sécurité.",
        },
        "etage": {"type": "string", "enum": ["rdc", "1er"], "title": "Étage"},
    },
}


@pytest.fixture
def headers(token, make_form):
    make_form(FORM, "salle")
    return {"Authorization": f"Bearer {token}"}


@pytest.mark.parametrize(
    "language, summary, required, minimum",
    [
        (
            None,
            "L'entrée contient des erreurs.",
            "Nom : ce champ est obligatoire.",
            "Places : doit être supérieur ou égal à 1.",
        ),
        (
            "fr-FR,fr;q=0.9",
            "L'entrée contient des erreurs.",
            "Nom : ce champ est obligatoire.",
            "Places : doit être supérieur ou égal à 1.",
        ),
        (
            "en",
            "The entry has errors.",
            "Nom: this field is required.",
            "Places: must be greater than or equal to 1.",
        ),
        (
            "en-GB,en;q=0.9,fr;q=0.5",
            "The entry has errors.",
            "Nom: this field is required.",
            "Places: must be greater than or equal to 1.",
        ),
    ],
)
def test_api_errors_in_the_asked_language(
    client, headers, language, summary, required, minimum
):
    if language:
        headers = {**headers, "Accept-Language": language}
    response = client.post(
        "/api/v1/forms/salle/entries", json={"places": 0}, headers=headers
    )
    assert response.status_code == 422
    body = response.get_json()
    assert body["error"] == summary
    assert {e["message"] for e in body["errors"]} == {required, minimum}


def test_envelope_summaries_in_english(client, headers):
    english = {"Accept-Language": "en"}
    assert (
        client.get("/api/v1/forms", headers=english)
        .get_json()["error"]
        .startswith("Missing or invalid API token")
    )
    response = client.get("/api/v1/forms/nope/schema", headers={**headers, **english})
    assert response.get_json()["error"] == 'No form "nope".'


def test_pages_stay_french_whatever_the_browser_asks(client):
    page = client.get("/connexion", headers={"Accept-Language": "en"}).text
    assert '<html lang="fr">' in page and "Connexion" in page


def test_english_messages_quote_the_english_way(client, headers):
    # The values a message quotes are data; the quotes around them are the
    # language's own.
    english = {**headers, "Accept-Language": "en"}
    response = client.post(
        "/api/v1/forms/salle/entries",
        json={"nom": "A", "etage": "2e", "places": "12,5"},
        headers=english,
    )
    messages = {e["message"] for e in response.get_json()["errors"]}
    assert 'Étage: value not allowed: choose among "rdc", "1er".' in messages
    assert not any("«" in message for message in messages), messages
