"""Administration pages: organisations, accounts, tokens, form settings; CLI twins."""

import html as htmllib
import re
from pathlib import Path

import pytest
from conftest import csrf_from, public_rows, run_cli

ADMIN = ("admin@test.fr", "mot-de-passe-admin")
RUCHERS = {
    "title": "Registre des ruchers",
    "type": "object",
    "properties": {
        "nom": {"type": "string", "title": "Nom", "x-purpose": "Identifier."}
    },
}
LINK = re.compile(r"http://localhost/connexion/lien/[A-Za-z0-9_-]+")
TOKEN = re.compile(r"dnt_[A-Za-z0-9_-]+")


def sign_in(client, email, password):
    page = client.get("/connexion").text
    response = client.post(
        "/connexion",
        data={"email": email, "password": password, "csrf_token": csrf_from(page)},
    )
    assert response.status_code == 302, response.text
    return client


def post(client, page, url, data=None):
    """Post as the page's own form would, with the page's CSRF token."""
    token = csrf_from(client.get(page).text)
    return client.post(url, data={**(data or {}), "csrf_token": token})


def add_org(app, code, name):
    from dnt_forms.db import db
    from dnt_forms.models import Organisation

    with app.app_context():
        db.session.add(Organisation(code=code, name=name))
        db.session.commit()


def add_user(app, email, role, org_code=None, password="mot-de-passe-long", forms=None):
    from dnt_forms.auth import create_user, find_org

    with app.app_context():
        org = find_org(org_code) if org_code else None
        return create_user(email, role, org, password=password, forms=forms).id


def user_id(app, email):
    from dnt_forms.auth import find_user

    with app.app_context():
        return find_user(email).id


@pytest.fixture
def admin(app):
    """A client signed in as an administrator."""
    add_user(app, ADMIN[0], "admin", password=ADMIN[1])
    return sign_in(app.test_client(), *ADMIN)


@pytest.fixture
def ruchers(make_form):
    return make_form(RUCHERS, "ruchers")


def pages(app):
    return [
        "/admin/",
        "/admin/organisations",
        "/admin/comptes",
        f"/admin/comptes/{user_id(app, ADMIN[0])}",
        "/admin/formulaires/ruchers",
        "/admin/formulaires/nouveau",
        "/admin/formulaires/ruchers/schema",
        "/admin/formulaires/ruchers/versions",
        "/admin/formulaires/ruchers/versions/1",
        "/admin/formulaires/ruchers/import",
    ]


def test_every_page_answers_the_admin_in_french(app, admin, ruchers):
    for page in pages(app):
        response = admin.get(page)
        assert response.status_code == 200, page
        assert '<html lang="fr">' in response.text
        assert "<title>Erreur" not in response.text


def test_every_post_form_carries_the_csrf_token(app, admin, ruchers):
    for page in pages(app):
        html = admin.get(page).text
        forms = re.findall(r'<form method="post".*?</form>', html, re.DOTALL)
        assert forms or "/versions" in page, page
        for form in forms:
            assert 'name="csrf_token"' in form, (page, form[:200])


def test_admin_index_links_to_the_new_pages(admin, ruchers):
    html = admin.get("/admin/").text
    assert 'href="/admin/organisations"' in html
    assert 'href="/admin/comptes"' in html
    assert 'href="/admin/formulaires/ruchers"' in html


@pytest.mark.parametrize("role", ["agent", "manager"])
def test_pages_are_forbidden_to_agents_and_managers(app, admin, ruchers, role):
    add_user(app, "x@y.fr", role, forms=["ruchers"] if role == "manager" else None)
    client = sign_in(app.test_client(), "x@y.fr", "mot-de-passe-long")
    for page in pages(app):
        assert client.get(page).status_code == 403, page
    token = csrf_from(client.get("/").text)
    response = client.post(
        "/admin/organisations", data={"code": "75056", "nom": "P", "csrf_token": token}
    )
    assert response.status_code == 403


def test_pages_send_anonymous_visitors_to_sign_in(app, admin, ruchers):
    anonymous = app.test_client()
    for page in pages(app):
        response = anonymous.get(page)
        assert response.status_code == 302, page
        assert response.headers["Location"].startswith("/connexion"), page


def test_a_post_without_the_csrf_token_is_refused(admin):
    data = {"code": "75056", "nom": "Paris"}
    response = admin.post("/admin/organisations", data=data)
    assert response.status_code == 400


@pytest.mark.parametrize("code", ["75056", "2A004", "2b033", "217500016"])
def test_create_organisation_with_a_valid_code(app, admin, code):
    response = post(
        admin,
        "/admin/organisations",
        "/admin/organisations",
        {"code": code, "nom": "  Ville   de Test "},
    )
    assert response.status_code == 302
    html = admin.get(response.headers["Location"]).text
    assert f"<code>{code.upper()}</code>" in html
    assert "Ville de Test" in html


@pytest.mark.parametrize(
    "code, message",
    [
        ("123", "n'est pas valide"),
        ("217500017", "n'est pas valide"),  # wrong Luhn check digit
        ("2C004", "n'est pas valide"),
        ("", "Indiquez un SIREN"),
    ],
)
def test_create_organisation_refuses_a_bad_code(admin, code, message):
    response = post(
        admin,
        "/admin/organisations",
        "/admin/organisations",
        {"code": code, "nom": "Ville de Test"},
    )
    assert response.status_code == 422
    html = htmllib.unescape(response.text)
    assert "<title>Erreur" in html
    assert 'href="#code"' in html
    assert message in html
    assert 'id="code-erreur"' in html and 'aria-invalid="true"' in html
    assert 'value="Ville de Test"' in html
    assert f'value="{code}"' in html


def test_create_organisation_refuses_a_taken_code_and_a_blank_name(app, admin):
    add_org(app, "75056", "Ville de Paris")
    response = post(
        admin, "/admin/organisations", "/admin/organisations", {"code": "75056"}
    )
    assert response.status_code == 422
    assert "L'organisation 75056 existe déjà." in htmllib.unescape(response.text)
    assert 'href="#nom"' in response.text


def test_organisation_list_counts_accounts(app, admin):
    add_org(app, "75056", "Ville de Paris")
    add_user(app, "a@paris.fr", "agent", "75056")
    add_user(app, "b@paris.fr", "agent", "75056")
    html = admin.get("/admin/organisations").text
    assert re.search(r"<code>75056</code></td><td>Ville de Paris</td><td>2</td>", html)


def test_create_account_shows_a_working_one_time_link_once(app, admin, ruchers, caplog):
    add_org(app, "75056", "Ville de Paris")
    caplog.set_level("INFO", logger="dnt_forms")
    response = post(
        admin,
        "/admin/comptes",
        "/admin/comptes",
        {
            "email": "Gest@Paris.fr",
            "role": "manager",
            "organisation": "75056",
            "formulaires": ["ruchers"],
        },
    )
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    assert "ne sera plus affiché" in response.text
    link = LINK.search(response.text)[0]
    assert link.split("/lien/")[1] not in caplog.text

    fresh = app.test_client()
    page = fresh.get(link.removeprefix("http://localhost"))
    assert page.status_code == 200
    assert "gest@paris.fr" in page.text

    account_page = admin.get(f"/admin/comptes/{user_id(app, 'gest@paris.fr')}").text
    assert not LINK.search(account_page)
    listing = admin.get("/admin/comptes").text
    assert "gest@paris.fr" in listing and "Gestionnaire" in listing
    assert "<code>ruchers</code>" in listing and "Ville de Paris" in listing


@pytest.mark.parametrize(
    "data, anchor, message",
    [
        (
            {"email": "sans-arobase", "role": "agent"},
            "email",
            "« sans-arobase » n'est pas une adresse électronique complète",
        ),
        ({"email": "", "role": "agent"}, "email", "Indiquez l'adresse"),
        ({"email": ADMIN[0], "role": "agent"}, "email", "existe déjà"),
        ({"email": "a@b.fr", "role": "chef"}, "role-agent", "Choisissez un rôle"),
        (
            {"email": "a@b.fr", "role": "agent", "organisation": "99999"},
            "organisation",
            "inconnue",
        ),
        (
            {"email": "a@b.fr", "role": "agent", "formulaires": ["ruchers"]},
            "formulaire-ruchers",
            "Seul un gestionnaire",
        ),
    ],
)
def test_create_account_errors_sit_by_their_field(
    admin, ruchers, data, anchor, message
):
    response = post(admin, "/admin/comptes", "/admin/comptes", data)
    assert response.status_code == 422
    assert "<title>Erreur" in response.text
    assert f'href="#{anchor}"' in response.text
    assert message in htmllib.unescape(response.text)
    assert f'value="{data["email"]}"' in response.text
    assert not LINK.search(response.text)


def test_disabling_ends_open_sessions_and_tokens_at_once(app, admin, ruchers):
    from dnt_forms.auth import create_token, find_user

    add_org(app, "75056", "Ville de Paris")
    agent_id = add_user(app, "agent@paris.fr", "agent", "75056")
    with app.app_context():
        token = create_token(find_user("agent@paris.fr"))
    agent = sign_in(app.test_client(), "agent@paris.fr", "mot-de-passe-long")
    bearer = {"Authorization": f"Bearer {token}"}
    assert agent.get("/").status_code == 200
    assert agent.get("/api/v1/forms", headers=bearer).status_code == 200

    page = f"/admin/comptes/{agent_id}"
    response = post(admin, page, f"{page}/desactiver")
    assert response.status_code == 302
    assert "Désactivé" in admin.get(page).text

    response = agent.get("/")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/connexion")
    assert agent.get("/api/v1/forms", headers=bearer).status_code == 401
    assert "Réactiver" in admin.get(page).text

    assert post(admin, page, f"{page}/reactiver").status_code == 302
    assert agent.get("/api/v1/forms", headers=bearer).status_code == 200
    sign_in(app.test_client(), "agent@paris.fr", "mot-de-passe-long")


def test_a_disabled_account_cannot_sign_in(app, admin):
    agent_id = add_user(app, "agent@paris.fr", "agent")
    page = f"/admin/comptes/{agent_id}"
    post(admin, page, f"{page}/desactiver")
    client = app.test_client()
    response = client.post(
        "/connexion",
        data={
            "email": "agent@paris.fr",
            "password": "mot-de-passe-long",
            "csrf_token": csrf_from(client.get("/connexion").text),
        },
    )
    assert response.status_code != 302


def test_an_admin_cannot_disable_themself(app, admin):
    page = f"/admin/comptes/{user_id(app, ADMIN[0])}"
    assert "Désactiver</button>" not in admin.get(page).text
    response = post(admin, page, f"{page}/desactiver")
    assert response.status_code == 302
    html = admin.get(page).text
    assert "Vous ne pouvez pas désactiver votre propre compte" in html
    assert admin.get("/admin/").status_code == 200


def test_new_link_is_shown_once_and_works(app, admin):
    agent_id = add_user(app, "agent@paris.fr", "agent", password=None)
    page = f"/admin/comptes/{agent_id}"
    response = post(admin, page, f"{page}/lien")
    assert response.status_code == 200
    link = LINK.search(response.text)[0]
    path = link.removeprefix("http://localhost")
    assert app.test_client().get(path).status_code == 200
    assert not LINK.search(admin.get(page).text)


def test_token_made_on_the_page_works_and_is_stored_hashed(app, admin, ruchers):
    from dnt_forms.auth import sha256
    from dnt_forms.db import db
    from dnt_forms.models import ApiToken

    add_org(app, "75056", "Ville de Paris")
    agent_id = add_user(app, "agent@paris.fr", "agent", "75056")
    page = f"/admin/comptes/{agent_id}"
    response = post(
        admin, page, f"{page}/jetons", {"scope": "read", "formulaires": ["ruchers"]}
    )
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    assert "il ne sera plus jamais affiché" in response.text
    token = TOKEN.search(response.text)[0]

    client = app.test_client()
    listed = client.get("/api/v1/forms", headers={"Authorization": f"Bearer {token}"})
    assert listed.status_code == 200
    assert [f["slug"] for f in listed.json["forms"]] == ["ruchers"]
    refused = client.post(
        "/api/v1/forms/ruchers/entries",
        json={"nom": "A"},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert refused.status_code == 403

    with app.app_context():
        stored = db.session.execute(db.select(ApiToken)).scalar_one()
        assert stored.token_hash == sha256(token)
        assert (stored.scope, stored.forms) == ("read", "ruchers")
    assert token.encode() not in (Path(app.instance_path) / "private.db").read_bytes()

    html = admin.get(page).text
    assert not TOKEN.search(html)
    assert "lecture seule" in html and "Valide" in html


def test_token_form_refuses_an_unknown_scope(app, admin):
    agent_id = add_user(app, "agent@paris.fr", "agent")
    page = f"/admin/comptes/{agent_id}"
    response = post(admin, page, f"{page}/jetons", {"scope": "tout"})
    assert response.status_code == 422
    assert 'href="#scope-write"' in response.text
    assert not TOKEN.search(response.text)


def test_revoking_tokens_from_the_page(app, admin):
    from dnt_forms.auth import create_token, find_user

    agent_id = add_user(app, "agent@paris.fr", "agent")
    with app.app_context():
        token = create_token(find_user("agent@paris.fr"))
    page = f"/admin/comptes/{agent_id}"
    assert post(admin, page, f"{page}/jetons/revoquer").status_code == 302
    assert "1 jeton(s) révoqué(s)" in admin.get(page).text
    headers = {"Authorization": f"Bearer {token}"}
    assert app.test_client().get("/api/v1/forms", headers=headers).status_code == 401


def test_restricting_a_form_to_one_organisation(app, admin, ruchers):
    from dnt_forms.auth import create_token, find_user

    add_org(app, "75056", "Ville de Paris")
    add_org(app, "35238", "Ville de Rennes")
    add_user(app, "a@paris.fr", "agent", "75056")
    add_user(app, "b@rennes.fr", "agent", "35238")
    with app.app_context():
        token_b = create_token(find_user("b@rennes.fr"))
    agent_a = sign_in(app.test_client(), "a@paris.fr", "mot-de-passe-long")
    agent_b = sign_in(app.test_client(), "b@rennes.fr", "mot-de-passe-long")
    bearer_b = {"Authorization": f"Bearer {token_b}"}

    page = "/admin/formulaires/ruchers"
    response = post(admin, page, f"{page}/organisations", {"organisations": ["75056"]})
    assert response.status_code == 302
    html = admin.get(page).text
    assert 'id="org-75056" name="organisations" value="75056" checked' in html
    assert "Actuellement réservé à : 75056." in html

    assert agent_b.get("/formulaires/ruchers/").status_code == 403
    assert "/formulaires/ruchers/" not in agent_b.get("/").text
    forms = agent_b.get("/api/v1/forms", headers=bearer_b).json["forms"]
    assert "ruchers" not in [f["slug"] for f in forms]
    assert agent_a.get("/formulaires/ruchers/").status_code == 200
    assert "/formulaires/ruchers/" in agent_a.get("/").text

    assert post(admin, page, f"{page}/organisations").status_code == 302
    assert "ouvert à toutes les organisations" in admin.get(page).text
    assert agent_b.get("/formulaires/ruchers/").status_code == 200


def test_restricting_to_an_unknown_organisation_is_refused(app, admin, ruchers):
    add_org(app, "75056", "Ville de Paris")
    page = "/admin/formulaires/ruchers"
    response = post(admin, page, f"{page}/organisations", {"organisations": ["99999"]})
    assert response.status_code == 422
    assert "<title>Erreur" in response.text
    assert "inconnue(s) : 99999" in response.text


def test_form_page_lists_its_managers(app, admin, ruchers):
    add_user(app, "gest@paris.fr", "manager", forms=["ruchers"])
    add_user(app, "autre@paris.fr", "manager", forms=["autre"])
    html = admin.get("/admin/formulaires/ruchers").text
    assert "gest@paris.fr" in html
    assert "autre@paris.fr" not in html
    assert ADMIN[0] in html


def test_form_status_buttons_close_reopen_and_publish(app, admin, tmp_path):
    import json

    path = tmp_path / "r.json"
    path.write_text(json.dumps(RUCHERS))
    run_cli(
        app.instance_path, "schema", "import", str(path), "--slug", "ruchers", "--draft"
    )
    add_user(app, "agent@paris.fr", "agent")
    agent = sign_in(app.test_client(), "agent@paris.fr", "mot-de-passe-long")
    page = "/admin/formulaires/ruchers"
    assert "Brouillon" in admin.get(page).text
    assert agent.get("/formulaires/ruchers/").status_code == 404

    assert post(admin, page, f"{page}/etat", {"action": "publier"}).status_code == 302
    assert "Version 1 publiée." in admin.get(page).text
    assert agent.get("/formulaires/ruchers/").status_code == 200

    post(admin, page, f"{page}/etat", {"action": "clore"})
    assert "Rouvrir" in admin.get(page).text
    assert agent.get("/formulaires/ruchers/").status_code == 302

    post(admin, page, f"{page}/etat", {"action": "rouvrir"})
    assert "Clore" in admin.get(page).text
    assert agent.get("/formulaires/ruchers/").status_code == 200


def test_unknown_form_and_account_are_404(admin):
    assert admin.get("/admin/formulaires/inexistant").status_code == 404
    assert admin.get("/admin/comptes/999").status_code == 404


def test_cli_user_disable_and_enable(app, instance):
    from dnt_forms.auth import create_token, find_user

    add_user(app, "agent@paris.fr", "agent")
    with app.app_context():
        token = create_token(find_user("agent@paris.fr"))
    agent = sign_in(app.test_client(), "agent@paris.fr", "mot-de-passe-long")
    bearer = {"Authorization": f"Bearer {token}"}

    result = run_cli(instance, "user", "disable", "agent@paris.fr")
    assert "Compte agent@paris.fr désactivé" in result.stdout
    assert agent.get("/").status_code == 302
    assert app.test_client().get("/api/v1/forms", headers=bearer).status_code == 401
    again = run_cli(instance, "user", "disable", "agent@paris.fr")
    assert "déjà désactivé" in again.stdout

    result = run_cli(instance, "user", "enable", "agent@paris.fr")
    assert "Compte agent@paris.fr réactivé." in result.stdout
    assert app.test_client().get("/api/v1/forms", headers=bearer).status_code == 200
    sign_in(app.test_client(), "agent@paris.fr", "mot-de-passe-long")


def test_cli_schema_restrict(app, instance, ruchers):
    add_org(app, "75056", "Ville de Paris")
    add_org(app, "35238", "Ville de Rennes")
    add_user(app, "b@rennes.fr", "agent", "35238")
    agent_b = sign_in(app.test_client(), "b@rennes.fr", "mot-de-passe-long")

    result = run_cli(instance, "schema", "restrict", "ruchers", "--orgs", "75056")
    assert result.stdout.strip() == "ruchers : réservé à 75056."
    assert agent_b.get("/formulaires/ruchers/").status_code == 403

    result = run_cli(instance, "schema", "restrict", "ruchers", "--orgs", "")
    assert "ouvert à toutes les organisations" in result.stdout
    assert agent_b.get("/formulaires/ruchers/").status_code == 200


@pytest.mark.parametrize(
    "args, message",
    [
        (["user", "disable", "personne@nulle.part"], "Aucun compte"),
        (["user", "enable", "personne@nulle.part"], "Aucun compte"),
        (["schema", "restrict", "inexistant", "--orgs", ""], "Aucun formulaire"),
        (["schema", "restrict", "ruchers", "--orgs", "99999"], "inconnue(s) : 99999"),
    ],
)
def test_cli_errors_are_french(instance, ruchers, args, message):
    result = run_cli(instance, *args, check=False)
    assert result.returncode != 0
    assert result.stderr.startswith("Erreur")
    assert message in result.stderr
    assert "Traceback" not in result.stderr


def test_org_code_check_is_shared(instance):
    from dnt_forms.auth import valid_org_code

    assert valid_org_code("217500016") and valid_org_code("2A004")
    assert not valid_org_code("217500017")
    result = run_cli(instance, "org", "create", "217500017", "X", check=False)
    assert result.returncode != 0 and "SIREN" in result.stderr


def test_cli_import_enforces_the_accounts_rights(app, instance, ruchers, tmp_path):
    """`import --user` files entries as that account would: not into a form
    reserved to other organisations, nor for a disabled account."""
    add_org(app, "75056", "Ville de Paris")
    add_org(app, "35238", "Ville de Rennes")
    add_user(app, "b@rennes.fr", "agent", "35238")
    add_user(app, "a@paris.fr", "agent", "75056")
    run_cli(instance, "schema", "restrict", "ruchers", "--orgs", "75056")
    path = tmp_path / "ruchers.csv"
    path.write_text("nom\nRucher du parc\n", encoding="utf-8")

    refused = run_cli(
        instance, "import", "ruchers", str(path), "--user", "b@rennes.fr", check=False
    )
    assert refused.returncode == 1
    assert "pas ouvert à l'organisation de b@rennes.fr" in refused.stderr
    run_cli(instance, "user", "disable", "a@paris.fr")
    refused = run_cli(
        instance, "import", "ruchers", str(path), "--user", "a@paris.fr", check=False
    )
    assert "le compte a@paris.fr est désactivé" in refused.stderr
    run_cli(instance, "user", "enable", "a@paris.fr")
    done = run_cli(instance, "import", "ruchers", str(path), "--user", "a@paris.fr")
    assert "1 entrée(s) importée(s)" in done.stdout


def test_cli_import_files_entries_under_the_named_organisation(
    app, instance, ruchers, tmp_path
):
    add_org(app, "75056", "Ville de Paris")
    add_org(app, "35238", "Ville de Rennes")
    run_cli(instance, "schema", "restrict", "ruchers", "--orgs", "75056")
    path = tmp_path / "ruchers.csv"
    path.write_text("nom\nRucher du parc\n", encoding="utf-8")

    refused = run_cli(
        instance, "import", "ruchers", str(path), "--org", "35238", check=False
    )
    assert "pas ouvert à l'organisation 35238 (Ville de Rennes)" in refused.stderr
    unknown = run_cli(
        instance, "import", "ruchers", str(path), "--org", "99999", check=False
    )
    assert "Organisation 99999 inconnue" in unknown.stderr
    run_cli(instance, "import", "ruchers", str(path), "--org", "75056")
    assert [r["_organisation"] for r in public_rows(app, "ruchers")] == ["75056"]
