"""The JSON API: strict types, French errors by path, one error envelope."""

import pytest
from conftest import public_rows

FORM = {
    "title": "Inscriptions",
    "type": "object",
    "required": ["nom", "age"],
    "x-unique": ["code"],
    "properties": {
        "nom": {
            "type": "string",
            "title": "Nom",
            "x-purpose": "Identifier.",
            "default": "Anonyme",
        },
        "age": {
            "type": "integer",
            "minimum": 0,
            "maximum": 150,
            "title": "Âge",
            "x-purpose": "Tarif.",
        },
        "taux": {
            "type": "number",
            "exclusiveMaximum": 1,
            "multipleOf": 0.01,
            "title": "Taux",
            "x-purpose": "Aide.",
        },
        "code": {
            "type": "string",
            "pattern": "^[A-Z]{3}$",
            "title": "Code",
            "x-purpose": "Clé.",
        },
        "courriel": {
            "type": "string",
            "format": "email",
            "title": "Courriel",
            "x-purpose": "Contact.",
        },
        "site": {
            "type": "string",
            "format": "uri",
            "title": "Site",
            "x-purpose": "Web.",
        },
        "quand": {
            "type": "string",
            "format": "date-time",
            "title": "Quand",
            "x-purpose": "Horodatage.",
        },
        "jour": {
            "type": "string",
            "format": "date",
            "title": "Jour",
            "x-purpose": "Date.",
        },
        "heure": {
            "type": "string",
            "format": "time",
            "title": "Heure",
            "x-purpose": "H.",
        },
        "choix": {
            "type": "string",
            "enum": ["a", "b"],
            "title": "Choix",
            "x-purpose": "Catégorie.",
        },
        "actif": {"type": "boolean", "title": "Actif", "x-purpose": "Statut."},
    },
}


@pytest.fixture
def post(client, token, make_form):
    make_form(FORM, "inscriptions")

    def send(body, **kwargs):
        return client.post(
            "/api/v1/forms/inscriptions/entries",
            json=body,
            headers={"Authorization": f"Bearer {token}"},
            **kwargs,
        )

    return send


def paths(response) -> set[str]:
    return {e["path"] for e in response.get_json()["errors"]}


def assert_envelope(response, status):
    body = response.get_json()
    assert response.status_code == status
    assert body["ok"] is False
    assert body["status"] == status
    assert isinstance(body["error"], str) and body["error"]
    assert isinstance(body["errors"], list)
    return body


def test_valid_entry_is_created_and_read_back(post, client, token, app):
    entry = {
        "nom": "Léa",
        "age": 34,
        "taux": 0.25,
        "code": "ABC",
        "actif": False,
        "quand": "2025-03-12T10:00:00+01:00",
        "jour": "2025-03-12",
        "heure": "10:30:00",
        "courriel": "lea@commune.fr",
        "site": "https://commune.fr/x",
        "choix": "b",
    }
    created = post(entry)
    assert created.status_code == 201
    assert created.get_json() == {"id": 1, "revision": 1}
    assert created.headers["ETag"] == '"1"'

    back = client.get(
        "/api/v1/forms/inscriptions/entries/1",
        headers={"Authorization": f"Bearer {token}"},
    )
    assert back.get_json()["data"] == entry
    assert back.get_json()["organisation"] == "75056"
    row = public_rows(app, "inscriptions")[0]
    assert row["actif"] == 0 and row["age"] == 34 and row["taux"] == 0.25


@pytest.mark.parametrize(
    "field, bad",
    [
        ("courriel", "pas-un-courriel"),
        ("courriel", "nom@"),
        ("site", "commune.fr sans schéma"),
        ("quand", "2025-03-12 10h"),
        ("jour", "12/03/2025"),
        ("jour", "2025-02-30"),
        ("heure", "25:00:00"),
        ("age", "34"),
        ("age", 34.5),
        ("age", 151),
        ("age", True),
        ("taux", 1),
        ("taux", 0.123),
        ("code", "abcd"),
        ("choix", "c"),
        ("actif", "oui"),
        ("age", 2**70),
    ],
)
def test_each_bad_value_is_refused_at_its_path(post, field, bad):
    response = post({"nom": "X", "age": 3, field: bad})
    body = assert_envelope(response, 422)
    assert paths(response) == {f"/{field}"}
    assert body["errors"][0]["message"]


def test_every_error_is_collected(post):
    response = post({"age": -1, "courriel": "x", "inconnu": 1})
    assert paths(response) == {"/nom", "/age", "/courriel", "/inconnu"}
    messages = {e["path"]: e["message"] for e in response.get_json()["errors"]}
    assert messages["/nom"] == "Nom : ce champ est obligatoire."
    assert "supérieur ou égal à 0" in messages["/age"]


def test_api_never_fills_a_missing_required_field_from_default(post):
    assert paths(post({"age": 3})) == {"/nom"}


def test_null_and_empty_string_are_no_answer(post, client, token):
    created = post({"nom": "A", "age": 1, "courriel": None, "site": ""})
    assert created.status_code == 201
    data = client.get(
        "/api/v1/forms/inscriptions/entries/1",
        headers={"Authorization": f"Bearer {token}"},
    ).get_json()["data"]
    assert data == {"nom": "A", "age": 1}


def test_naive_datetime_is_read_as_paris_time(post, client, token):
    post({"nom": "A", "age": 1, "quand": "2025-07-01T10:00:00"})
    data = client.get(
        "/api/v1/forms/inscriptions/entries/1",
        headers={"Authorization": f"Bearer {token}"},
    ).get_json()["data"]
    assert data["quand"] == "2025-07-01T10:00:00+02:00"


def test_duplicate_natural_key_is_409_with_existing(post):
    assert post({"nom": "A", "age": 1, "code": "ABC"}).status_code == 201
    second = post({"nom": "B", "age": 2, "code": "ABC"})
    body = assert_envelope(second, 409)
    assert paths(second) == {"/code"}
    assert body["existing"].endswith("/api/v1/forms/inscriptions/entries/1")


def test_not_json_is_400_in_the_envelope(client, token, make_form):
    make_form(FORM, "inscriptions")
    for body in (b"{pas du json", b'{"age": NaN, "nom": "x"}'):
        response = client.post(
            "/api/v1/forms/inscriptions/entries",
            data=body,
            headers={
                "Authorization": f"Bearer {token}",
                "Content-Type": "application/json",
            },
        )
        assert_envelope(response, 400)


def test_array_body_is_422_at_root(post):
    response = post([1, 2])
    assert_envelope(response, 422)
    assert paths(response) == {""}


def test_too_large_body_is_413(post):
    response = post({"nom": "x" * (3 * 1024 * 1024), "age": 1})
    assert_envelope(response, 413)


@pytest.mark.parametrize("header", [None, "Bearer faux", "Basic abc", "Bearer "])
def test_missing_or_bad_token_is_401(client, make_form, header):
    make_form(FORM, "inscriptions")
    headers = {"Authorization": header} if header else {}
    for method, url in [
        ("get", "/api/v1/forms"),
        ("post", "/api/v1/forms/inscriptions/entries"),
        ("get", "/api/v1/forms/inscriptions/schema"),
    ]:
        assert_envelope(getattr(client, method)(url, headers=headers, json={}), 401)


def test_revoked_and_read_tokens(app, client, agent, make_form):
    from dnt_forms.auth import create_token, find_user, revoke_tokens

    make_form(FORM, "inscriptions")
    make_form(FORM, "autre")
    with app.app_context():
        user = find_user("agent@paris.fr")
        read = create_token(user, "read")
        limited = create_token(user, "write", ["autre"])
    url = "/api/v1/forms/inscriptions/entries"
    body = {"nom": "A", "age": 1}

    assert_envelope(
        client.post(url, json=body, headers={"Authorization": f"Bearer {read}"}), 403
    )
    assert (
        client.get(
            "/api/v1/forms", headers={"Authorization": f"Bearer {read}"}
        ).status_code
        == 200
    )
    assert_envelope(
        client.post(url, json=body, headers={"Authorization": f"Bearer {limited}"}), 403
    )
    listed = client.get(
        "/api/v1/forms", headers={"Authorization": f"Bearer {limited}"}
    ).get_json()
    assert [f["slug"] for f in listed["forms"]] == ["autre"]

    with app.app_context():
        revoke_tokens(find_user("agent@paris.fr"))
    assert_envelope(
        client.get("/api/v1/forms", headers={"Authorization": f"Bearer {read}"}), 401
    )


def test_unknown_form_and_other_org_entry_are_404(app, client, post, token):
    from dnt_forms.auth import create_token, create_user
    from dnt_forms.db import db
    from dnt_forms.models import Organisation

    assert post({"nom": "A", "age": 1}).status_code == 201
    with app.app_context():
        other = Organisation(code="13055", name="Marseille")
        db.session.add(other)
        db.session.commit()
        stranger = create_token(create_user("b@marseille.fr", "agent", other))
    headers = {"Authorization": f"Bearer {stranger}"}
    assert_envelope(client.get("/api/v1/forms/nope/schema", headers=headers), 404)
    hidden = client.get("/api/v1/forms/inscriptions/entries/1", headers=headers)
    missing = client.get("/api/v1/forms/inscriptions/entries/999", headers=headers)
    assert_envelope(hidden, 404)
    assert hidden.get_json()["error"].replace("1", "N") == missing.get_json()[
        "error"
    ].replace("999", "N")
    listed = client.get(
        "/api/v1/forms/inscriptions/entries", headers=headers
    ).get_json()
    assert listed["entries"] == []


def test_forms_list_and_schema(client, token, make_form):
    make_form(FORM, "inscriptions")
    headers = {"Authorization": f"Bearer {token}"}
    forms = client.get("/api/v1/forms", headers=headers).get_json()["forms"]
    assert forms == [
        {
            "slug": "inscriptions",
            "title": "Inscriptions",
            "description": "",
            "form_version": 1,
        }
    ]
    schema = client.get("/api/v1/forms/inscriptions/schema", headers=headers).get_json()
    assert schema["properties"]["age"]["x-purpose"] == "Tarif."


def test_method_not_allowed_keeps_the_envelope(client, token, make_form):
    make_form(FORM, "inscriptions")
    response = client.patch(
        "/api/v1/forms", headers={"Authorization": f"Bearer {token}"}
    )
    assert_envelope(response, 405)


def test_unknown_api_path_is_404_in_the_envelope(client, token):
    response = client.get(
        "/api/v1/nulle-part", headers={"Authorization": f"Bearer {token}"}
    )
    assert_envelope(response, 404)


def test_form_encoded_body_is_415(client, token, make_form):
    make_form(FORM, "inscriptions")
    response = client.post(
        "/api/v1/forms/inscriptions/entries",
        data={"nom": "A", "age": "1"},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert_envelope(response, 415)


def test_dependent_required_is_exact_and_explained(client, token, make_form, agent):
    make_form(
        {
            "title": "Contact",
            "type": "object",
            "properties": {
                "telephone": {
                    "type": "string",
                    "title": "Téléphone",
                    "x-purpose": "Appel.",
                },
                "horaires": {
                    "type": "string",
                    "title": "Horaires d'appel",
                    "x-purpose": "Appeler au bon moment.",
                },
            },
            "dependentRequired": {"telephone": ["horaires"]},
        },
        "contact",
    )
    url = "/api/v1/forms/contact/entries"
    headers = {"Authorization": f"Bearer {token}"}
    assert client.post(url, json={}, headers=headers).status_code == 201
    missing = client.post(url, json={"telephone": "0102030405"}, headers=headers)
    assert missing.status_code == 422
    error = missing.get_json()["errors"][0]
    assert error["path"] == "/horaires"
    assert "« Téléphone » est rempli" in error["message"]
    html = agent.get("/formulaires/contact/").text
    assert "Obligatoire quand « Téléphone » est rempli." in html


@pytest.mark.parametrize(
    "value, ok",
    [
        ("21350238800019", True),
        ("21350238800018", False),
        ("2135023880001", False),
        ("35600000000051", True),
    ],
)
def test_siret_check_digit(client, token, make_form, value, ok):
    make_form(
        {
            "title": "Fournisseurs",
            "type": "object",
            "properties": {"siret": {"$ref": "_dictionnaire.json#/$defs/siret"}},
        },
        "fournisseurs",
    )
    response = client.post(
        "/api/v1/forms/fournisseurs/entries",
        json={"siret": value},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status_code == (201 if ok else 422), response.get_json()
