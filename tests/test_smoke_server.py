"""The service end to end on a real gunicorn: import, post, read back in Datasette."""

import requests
from conftest import csrf_from, last_line, sign_in

SCHEMA = """{
  "title": "Salles municipales",
  "description": "Salles que la commune prête aux associations.",
  "type": "object",
  "required": ["nom", "capacite"],
  "properties": {
    "nom": {"type": "string", "title": "Nom de la salle",
            "x-purpose": "Pour que les associations reconnaissent la salle."},
    "capacite": {"type": "integer", "minimum": 1, "title": "Capacité",
                 "x-purpose": "Pour la sécurité incendie (nombre maximal de personnes)."},
    "order": {"type": "string", "title": "Ordre",
              "x-purpose": "Nom réservé en SQL, pour vérifier qu'il est cité."},
    "Nom de l'équipement": {"type": "string", "title": "Équipement",
              "x-purpose": "Pour tester un nom avec espaces et apostrophe."},
    "contact_prive": {"type": "string", "format": "email", "x-publish": false,
              "title": "Contact du gardien", "x-purpose": "Pour joindre le gardien ; jamais publié."}
  }
}"""


def test_post_then_read_back_through_datasette(server, api, tmp_path):
    path = tmp_path / "salles.json"
    path.write_text(SCHEMA)
    slug = last_line(
        server.cli("schema", "import", str(path), "--slug", "salles-smoke")
    )
    assert slug == "salles-smoke"

    entry = {
        "nom": "Salle des fêtes",
        "capacite": 120,
        "order": "1",
        "Nom de l'équipement": "Scène",
        "contact_prive": "gardien@commune.fr",
    }
    created = api.post(server.url(f"/api/v1/forms/{slug}/entries"), json=entry)
    assert created.status_code == 201, created.text
    assert created.headers["ETag"] == '"1"'
    entry_id = created.json()["id"]

    rows = requests.get(
        server.url(f"/data/public/{slug}.json?_shape=array&_size=max")
    ).json()
    assert len(rows) == 1
    row = rows[0]
    assert row["_id"] == entry_id
    assert row["_organisation"] == "75056"
    assert row["capacite"] == 120
    assert row["Nom de l'équipement"] == "Scène"
    assert "contact_prive" not in row

    back = api.get(server.url(f"/api/v1/forms/{slug}/entries/{entry_id}")).json()
    assert back["data"] == entry


def test_html_entry_appears_in_datasette(server, tmp_path):
    path = tmp_path / "salles.json"
    path.write_text(SCHEMA)
    slug = last_line(server.cli("schema", "import", str(path), "--slug", "salles-html"))

    browser = sign_in(
        requests.Session(), server, "agent@paris.fr", "mot-de-passe-agent"
    )
    page = browser.get(server.url(f"/formulaires/{slug}/"))
    assert page.status_code == 200
    response = browser.post(
        server.url(f"/formulaires/{slug}/"),
        data={"csrf_token": csrf_from(page.text), "nom": "Gymnase", "capacite": "300"},
    )
    assert response.status_code == 200
    rows = requests.get(server.url(f"/data/public/{slug}.json?_shape=array")).json()
    assert [r["nom"] for r in rows] == ["Gymnase"]
