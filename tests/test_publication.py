"""public.db: a projection of published fields only, described by purposes."""

import json
import sqlite3
from pathlib import Path

import requests
from conftest import last_line, public_rows

SECRET = "Zq-secret-9f3a-ne-doit-pas-fuiter"

FORM = {
    "title": "Registre des gardiens",
    "description": "Gardiens des bâtiments communaux.",
    "type": "object",
    "required": ["batiment"],
    "x-license": {"title": "ODbL", "url": "https://opendatacommons.org/licenses/odbl/"},
    "properties": {
        "batiment": {
            "type": "string",
            "title": "Bâtiment",
            "x-purpose": "Situer le gardien pour les services techniques.",
        },
        "telephone": {
            "type": "string",
            "title": "Téléphone",
            "x-publish": False,
            "x-purpose": "Joindre le gardien en urgence ; jamais publié.",
        },
        "code_alarme": {
            "type": "string",
            "title": "Code d'alarme",
            "writeOnly": True,
            "x-purpose": "Intervention de nuit.",
        },
        "mot_de_passe": {
            "type": "string",
            "format": "password",
            "title": "Mot de passe",
            "x-purpose": "Accès au local.",
        },
        "select": {
            "type": "integer",
            "title": "Select",
            "x-purpose": "Nom réservé SQL.",
        },
        "group": {"type": "string", "title": "Group", "x-purpose": "Nom réservé SQL."},
        "ID": {"type": "string", "title": "ID", "x-purpose": "Majuscules près de _id."},
        "année": {
            "type": "integer",
            "x-type": "year",
            "title": "Année",
            "x-purpose": "Année de prise de poste.",
        },
    },
}
ENTRY = {
    "batiment": "Mairie",
    "telephone": SECRET,
    "code_alarme": SECRET,
    "mot_de_passe": SECRET,
    "select": 1,
    "group": "g",
    "ID": "A1",
    "année": 2024,
}


def _import(server, tmp_path, slug):
    path = tmp_path / f"{slug}.json"
    path.write_text(json.dumps(FORM, ensure_ascii=False))
    return last_line(server.cli("schema", "import", str(path), "--slug", slug))


def test_unpublished_values_never_reach_public_db_or_data(server, api, tmp_path):
    slug = _import(server, tmp_path, "gardiens")
    created = api.post(server.url(f"/api/v1/forms/{slug}/entries"), json=ENTRY)
    assert created.status_code == 201, created.text

    # The value is kept privately, for the organisation...
    back = api.get(server.url(f"/api/v1/forms/{slug}/entries/{created.json()['id']}"))
    assert back.json()["data"]["telephone"] == SECRET

    # ...but appears nowhere in the public file, not even in free pages.
    public = server.instance / "public.db"
    conn = sqlite3.connect(public)
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    for path in server.instance.glob("public.db*"):
        assert SECRET.encode() not in path.read_bytes(), path

    pages = [
        f"/data/public/{slug}.json?_shape=array",
        f"/data/public/{slug}",
        f"/data/public/{slug}.csv",
        f"/data/public/_champs.json?_shape=array&formulaire={slug}",
        "/data/public.json?sql=select+*+from+%22" + slug + "%22",
    ]
    for page in pages:
        response = requests.get(server.url(page))
        assert response.status_code == 200, page
        assert SECRET not in response.text, page
        for hidden in ("telephone", "code_alarme", "mot_de_passe"):
            assert f'"{hidden}"' not in response.text, (page, hidden)
    metadata = requests.get(server.url("/data/-/metadata.json")).json()
    columns = metadata["databases"]["public"]["tables"][slug]["columns"]
    assert not {"telephone", "code_alarme", "mot_de_passe"} & set(columns)
    assert SECRET not in requests.get(server.url("/data/public.db")).text


def test_reserved_words_and_odd_names_are_columns(server, api, tmp_path):
    slug = _import(server, tmp_path, "gardiens-noms")
    assert (
        api.post(server.url(f"/api/v1/forms/{slug}/entries"), json=ENTRY).status_code
        == 201
    )
    row = requests.get(server.url(f"/data/public/{slug}.json?_shape=array")).json()[0]
    assert row["select"] == 1 and row["group"] == "g" and row["ID"] == "A1"
    assert row["année"] == 2024
    assert isinstance(row["_id"], int)
    assert list(row)[:7] == [
        "_id",
        "_revision",
        "_form_version",
        "_state",
        "_organisation",
        "_created_at",
        "_updated_at",
    ]


def test_columns_are_described_by_their_purpose(server, tmp_path):
    slug = _import(server, tmp_path, "gardiens-meta")
    metadata = requests.get(server.url("/data/-/metadata.json")).json()
    table = metadata["databases"]["public"]["tables"][slug]
    assert table["title"] == "Registre des gardiens"
    assert table["license"] == "ODbL"
    assert table["columns"]["batiment"] == (
        "Situer le gardien pour les services techniques."
    )
    for name, prop in FORM["properties"].items():
        if name in ("telephone", "code_alarme", "mot_de_passe"):
            assert name not in table["columns"]
        else:
            assert table["columns"][name] == prop["x-purpose"]
    # The HTML table page shows the descriptions too.
    page = requests.get(server.url(f"/data/public/{slug}")).text
    assert "Année de prise de poste." in page


def test_datasette_links_work_under_data(server, api, tmp_path):
    slug = _import(server, tmp_path, "gardiens-pages")
    for i in range(3):
        body = dict(ENTRY, batiment=f"B{i}")
        assert (
            api.post(server.url(f"/api/v1/forms/{slug}/entries"), json=body).status_code
            == 201
        )
    first = requests.get(server.url(f"/data/public/{slug}.json?_shape=array&_size=2"))
    link = first.headers["Link"]
    next_url = link[link.index("<") + 1 : link.index(">")]
    assert "/data/public/" in next_url
    second = requests.get(next_url)
    assert isinstance(second.json(), list), (link, second.text[:300])
    assert [r["batiment"] for r in first.json() + second.json()] == ["B0", "B1", "B2"]

    objects = requests.get(
        server.url(f"/data/public/{slug}.json?_shape=objects&_size=2")
    ).json()
    assert requests.get(objects["next_url"]).status_code == 200
    row_page = requests.get(server.url(f"/data/public/{slug}/{first.json()[0]['_id']}"))
    assert row_page.status_code == 200
    assert requests.get(server.url("/data")).url.endswith("/data/")
    html = requests.get(server.url(f"/data/public/{slug}")).text
    assert 'href="/public' not in html and "href='/public" not in html


def test_datasette_is_read_only(server):
    response = requests.get(
        server.url("/data/public.json?sql=delete+from+_formulaires")
    )
    assert response.status_code in (400, 403)
    assert requests.get(server.url("/data/public/_formulaires.json")).status_code == 200


def test_rebuild_and_repair_restore_the_projection(app, agent, token, make_form):
    from dnt_forms.publish import sync_all

    make_form(FORM, "gardiens")
    headers = {"Authorization": f"Bearer {token}"}
    for name in ("A", "B"):
        body = dict(ENTRY, batiment=name)
        assert (
            agent.post(
                "/api/v1/forms/gardiens/entries", json=body, headers=headers
            ).status_code
            == 201
        )
    before = public_rows(app, "gardiens")

    conn = sqlite3.connect(Path(app.instance_path) / "public.db")
    conn.execute('delete from "gardiens" where batiment = ?', ["A"])
    conn.execute('update "gardiens" set batiment = ?', ["abîmé"])
    conn.commit()
    conn.close()

    with app.app_context():
        sync_all(app.extensions["dnt_public"], rebuild=True)
    assert public_rows(app, "gardiens") == before


def test_x_ref_holds_an_existing_entry_and_is_a_foreign_key(
    app, agent, token, make_form
):
    make_form(FORM, "gardiens")
    make_form(
        {
            "title": "Astreintes",
            "type": "object",
            "required": ["gardien"],
            "properties": {
                "gardien": {
                    "type": "integer",
                    "title": "Gardien",
                    "x-purpose": "Qui est d'astreinte.",
                    "x-ref": {"form": "gardiens", "label": "batiment"},
                }
            },
        },
        "astreintes",
    )
    headers = {"Authorization": f"Bearer {token}"}
    created = agent.post("/api/v1/forms/gardiens/entries", json=ENTRY, headers=headers)
    gardien = created.get_json()["id"]

    ok = agent.post(
        "/api/v1/forms/astreintes/entries", json={"gardien": gardien}, headers=headers
    )
    assert ok.status_code == 201
    missing = agent.post(
        "/api/v1/forms/astreintes/entries", json={"gardien": 999}, headers=headers
    )
    assert missing.status_code == 422
    assert missing.get_json()["errors"][0]["path"] == "/gardien"

    conn = sqlite3.connect(Path(app.instance_path) / "public.db")
    keys = conn.execute("PRAGMA foreign_key_list('astreintes')").fetchall()
    conn.close()
    assert [(k[2], k[3], k[4]) for k in keys] == [("gardiens", "gardien", "_id")]
