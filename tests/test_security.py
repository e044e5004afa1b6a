"""Escaping, CSRF, cookies, one-time links."""

import re

from conftest import csrf_from

from dnt_forms import create_app

HOSTILE = {
    "title": "<script>alert('titre')</script>",
    "description": "<img src=x onerror=alert(1)>",
    "type": "object",
    "properties": {
        "champ": {
            "type": "string",
            "title": "<b>gras</b>",
            "x-purpose": "<script>alert('finalité')</script>",
            "enum": ["<i>a</i>", "b"],
        },
    },
}


def test_schema_text_is_escaped_everywhere(agent, make_form):
    make_form(HOSTILE, "hostile")
    for page in ("/", "/formulaires/hostile/"):
        html = agent.get(page).text
        assert "<script>alert" not in html
        assert "<img src=x" not in html
        assert "<b>gras</b>" not in html
    html = agent.get("/formulaires/hostile/").text
    assert "&lt;script&gt;alert(&#39;finalité&#39;)&lt;/script&gt;" in html


def test_logout_needs_the_csrf_token(agent):
    assert agent.post("/deconnexion").status_code == 400
    page = agent.get("/").text
    token = re.search(r'name="csrf_token" value="([^"]+)"', page)[1]
    assert agent.post("/deconnexion", data={"csrf_token": token}).status_code == 302
    assert agent.get("/").status_code == 302


def _session_cookie(response) -> str:
    return next(
        h
        for h in response.headers.getlist("Set-Cookie")
        if h.startswith("dnt_session=")
    )


def _login_response(app):
    from dnt_forms.auth import create_user

    with app.app_context():
        create_user("c@d.fr", "agent", password="mot-de-passe-long")
    client = app.test_client()
    page = client.get("/connexion").text
    return client.post(
        "/connexion",
        data={
            "email": "c@d.fr",
            "password": "mot-de-passe-long",
            "csrf_token": csrf_from(page),
        },
    )


def test_session_cookie_is_secure_only_over_https(tmp_path):
    plain = _login_response(create_app({"TESTING": True}, instance=tmp_path / "a"))
    assert "Secure" not in _session_cookie(plain)
    assert "HttpOnly" in _session_cookie(plain)

    https = _login_response(
        create_app({"TESTING": True, "DNT_HTTPS": True}, instance=tmp_path / "b")
    )
    assert "Secure" in _session_cookie(https)


def test_wrong_password_is_refused_in_french(client, agent):
    client.post("/deconnexion", data={"csrf_token": csrf_from(client.get("/").text)})
    page = client.get("/connexion").text
    response = client.post(
        "/connexion",
        data={
            "email": "agent@paris.fr",
            "password": "faux",
            "csrf_token": csrf_from(page),
        },
    )
    assert response.status_code == 422
    assert "<title>Erreur" in response.text
    assert "ne correspondent à aucun compte" in response.text


def test_one_time_link_works_once(app):
    from dnt_forms.auth import create_user, make_one_time_link

    with app.app_context():
        user = create_user("new@commune.fr", "agent")
        token = make_one_time_link(user)
    client = app.test_client()
    url = f"/connexion/lien/{token}"
    page = client.get(url)
    assert page.status_code == 200
    short = client.post(
        url,
        data={
            "password": "court",
            "confirm": "court",
            "csrf_token": csrf_from(page.text),
        },
    )
    assert short.status_code == 422 and "10 caractères" in short.text
    done = client.post(
        url,
        data={
            "password": "une-bonne-phrase",
            "confirm": "une-bonne-phrase",
            "csrf_token": csrf_from(page.text),
        },
    )
    assert done.status_code == 302
    assert client.get("/").status_code == 200
    assert app.test_client().get(url).status_code == 404


def test_a_new_link_or_a_chosen_password_retires_the_other_links(app):
    # A link asked for again replaces the lost one; once the password is
    # chosen, no link of the account may change it any more.
    from dnt_forms.auth import create_user, make_one_time_link

    with app.app_context():
        user = create_user("perdu@commune.fr", "agent")
        first = make_one_time_link(user)
        second = make_one_time_link(user)
        third = make_one_time_link(user)
    client = app.test_client()
    assert client.get(f"/connexion/lien/{first}").status_code == 404
    page = client.get(f"/connexion/lien/{third}")
    assert page.status_code == 200
    words = {"password": "une-bonne-phrase", "confirm": "une-bonne-phrase"}
    done = client.post(
        f"/connexion/lien/{third}",
        data={**words, "csrf_token": csrf_from(page.text)},
    )
    assert done.status_code == 302
    for token in (first, second, third):
        stale = app.test_client().get(f"/connexion/lien/{token}")
        assert stale.status_code == 404
        assert "Lien de connexion plus valable" in stale.text


def test_sign_in_is_rate_limited_per_account_across_clients(app, agent):
    def attempt(client, password):
        page = client.get("/connexion").text
        return client.post(
            "/connexion",
            data={
                "email": "agent@paris.fr",
                "password": password,
                "csrf_token": csrf_from(page),
            },
        )

    for _ in range(5):
        assert attempt(app.test_client(), "mauvais").status_code == 422
    # The sixth try is refused even with the right password, from a new client.
    blocked = attempt(app.test_client(), "mot-de-passe-agent")
    assert blocked.status_code == 429
    assert "Trop de tentatives" in blocked.text
    assert "<title>Erreur" in blocked.text


def test_sign_in_is_rate_limited_per_address(app):
    from dnt_forms.auth import MAX_FAILURES_ADDRESS

    client = app.test_client()
    for i in range(MAX_FAILURES_ADDRESS):
        page = client.get("/connexion").text
        client.post(
            "/connexion",
            data={
                "email": f"x{i}@y.fr",
                "password": "faux",
                "csrf_token": csrf_from(page),
            },
        )
    page = client.get("/connexion").text
    response = client.post(
        "/connexion",
        data={"email": "new@y.fr", "password": "faux", "csrf_token": csrf_from(page)},
    )
    assert response.status_code == 429


def test_failure_counters_are_shared_by_gunicorn_workers(server):
    import requests

    server.cli(
        "user",
        "create",
        "cible@paris.fr",
        "--role",
        "agent",
        "--org",
        "75056",
        "--password-stdin",
        stdin="mot-de-passe-cible\n",
    )
    statuses = []
    for _ in range(6):
        session = requests.Session()  # a new connection each time: any worker
        page = session.get(server.url("/connexion")).text
        statuses.append(
            session.post(
                server.url("/connexion"),
                data={
                    "email": "cible@paris.fr",
                    "password": "faux",
                    "csrf_token": csrf_from(page),
                },
            ).status_code
        )
    assert statuses == [422] * 5 + [429]


def test_a_stale_sign_in_form_says_so_without_a_blank_title(client):
    """The summary line of an error with no field title read "None : …"."""
    page = client.post("/connexion", data={"email": "a@b.fr", "password": "x"})
    assert page.status_code == 422
    assert "Session expirée : renvoyez le formulaire." in page.text
    assert "None" not in page.text
