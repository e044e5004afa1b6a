"""The `dnt-forms` command: French messages, clean exits, what INTERFACE.md says."""

import json
import sqlite3

import pytest
from conftest import last_line, run_cli

GOOD = {
    "title": "Registre des ruchers",
    "type": "object",
    "required": ["nom"],
    "properties": {
        "nom": {"type": "string", "title": "Nom", "x-purpose": "Identifier."}
    },
}


def write(tmp_path, name, schema) -> str:
    path = tmp_path / name
    path.write_text(json.dumps(schema, ensure_ascii=False))
    return str(path)


def test_init_is_idempotent(instance):
    run_cli(instance, "init")
    secret = (instance / "config.py").read_text()
    run_cli(instance, "init")
    assert (instance / "config.py").read_text() == secret
    assert (instance / "private.db").exists() and (instance / "public.db").exists()


@pytest.mark.parametrize(
    "args, message",
    [
        (["org", "create", "123", "X"], "SIREN"),
        (["org", "create", "217500017", "X"], "SIREN"),  # wrong check digit
        (["user", "create", "a@b.fr", "--role", "agent", "--org", "99999"], "inconnue"),
        (["token", "create", "personne@nulle.part"], "Aucun compte"),
        (["schema", "publish", "inexistant"], "Aucun formulaire"),
        (["user", "create", "a@b.fr", "--role", "chef"], "chef"),
        (["user", "link", "personne@nulle.part"], "Aucun compte"),
        (["schema", "check", "/nulle/part.json"], "introuvable"),
    ],
)
def test_errors_are_french_on_stderr_without_traceback(instance, args, message):
    run_cli(instance, "init")
    result = run_cli(instance, *args, check=False)
    assert result.returncode != 0
    assert message in result.stderr
    assert result.stderr.startswith(("Erreur", "Schéma refusé"))
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(
    "args, message",
    [
        (["user", "create", "a@b.fr", "--role", "chef"], "n'est pas l'une des valeurs"),
        (["export"], "Argument manquant"),
        (["backup", "a", "b"], "Argument en trop : b"),
        (["import", "--limite"], "Option inconnue"),
        (["nulle-part"], "Commande inconnue"),
        (["import", "f", "/nulle/part.csv"], "Fichier '/nulle/part.csv' introuvable"),
    ],
)
def test_click_usage_errors_are_french(instance, args, message):
    """click's own messages come from our French catalogue, whatever the
    machine's locale says."""
    result = run_cli(instance, *args, check=False, env={"LANG": "C", "LANGUAGE": "en"})
    assert result.returncode == 2
    assert message in result.stderr


def test_help_is_french(instance):
    result = run_cli(instance, "user", "create", "--help")
    assert result.stdout.startswith("Utilisation :")
    assert "Affiche cette aide et s'arrête." in result.stdout
    assert "[obligatoire]" in result.stdout


def test_commands_say_when_they_start_a_new_instance(tmp_path):
    """Run from the wrong folder, a command says it starts an empty instance."""
    missing = tmp_path / "ailleurs"
    result = run_cli(missing, "org", "create", "2A004", "Ajaccio")
    assert result.stderr.startswith("avertissement : aucune instance dans")
    assert "DNT_FORMS_INSTANCE" in result.stderr
    again = run_cli(missing, "org", "create", "2A005", "Ajaccio-bis", check=False)
    assert "avertissement" not in again.stderr


@pytest.mark.parametrize(
    "args",
    [["export", "ruchers"], ["backup", "copie"], ["user", "link", "a@b.fr"]],
)
def test_commands_that_read_refuse_a_missing_instance(tmp_path, args):
    """Run from the wrong folder, they would make an instance just to say
    the form or account is missing."""
    missing = tmp_path / "ailleurs"
    result = run_cli(missing, *args, check=False)
    assert result.returncode == 1
    assert result.stderr.startswith("Erreur : aucune instance dans")
    assert not missing.exists()


def test_org_user_token_flow(instance):
    assert "créée" in run_cli(instance, "org", "create", "2A004", "Ajaccio").stdout
    created = run_cli(
        instance,
        "user",
        "create",
        "Agent@Ajaccio.fr",
        "--role",
        "agent",
        "--org",
        "2a004",
    )
    assert "/connexion/lien/" in last_line(created)
    token = last_line(
        run_cli(instance, "token", "create", "agent@ajaccio.fr", "--scope", "read")
    )
    assert token.startswith("dnt_")
    conn = sqlite3.connect(instance / "private.db")
    stored = [r[0] for r in conn.execute("select token_hash from api_tokens")]
    conn.close()
    assert token not in stored and len(stored[0]) == 64
    assert "1 jeton" in run_cli(instance, "token", "revoke", "agent@ajaccio.fr").stdout
    relinked = run_cli(instance, "user", "link", "agent@ajaccio.fr")
    assert "/connexion/lien/" in last_line(relinked)
    refused = run_cli(
        instance, "token", "create", "agent@ajaccio.fr", "--forms", "nope", check=False
    )
    assert refused.returncode == 1 and "nope" in refused.stderr


def test_password_stdin_is_hashed_with_argon2(instance):
    run_cli(
        instance,
        "user",
        "create",
        "x@y.fr",
        "--role",
        "admin",
        "--password-stdin",
        stdin="une-phrase-de-passe\n",
    )
    conn = sqlite3.connect(instance / "private.db")
    (stored,) = conn.execute("select password_hash from users").fetchone()
    conn.close()
    assert stored.startswith("$argon2")


def test_import_prints_warnings_then_the_slug(instance, tmp_path):
    schema = dict(GOOD, properties={"nom": {"type": "string"}})
    result = run_cli(instance, "schema", "import", write(tmp_path, "r.json", schema))
    assert "avertissement" in result.stdout
    assert "finalité non renseignée" in result.stdout
    assert last_line(result) == "registre-des-ruchers"


def test_import_refuses_a_bad_schema_naming_keyword_and_path(instance, tmp_path):
    bad = dict(GOOD, properties={"nom": {"type": "string", "$ref": "#/x"}})
    result = run_cli(
        instance, "schema", "import", write(tmp_path, "b.json", bad), check=False
    )
    assert result.returncode == 1
    assert "/properties/nom/$ref" in result.stderr


def test_draft_then_publish_then_close(app, client, agent, tmp_path):
    instance = app.instance_path
    path = write(tmp_path, "r.json", GOOD)
    run_cli(instance, "schema", "import", path, "--slug", "ruchers", "--draft")
    assert client.get("/formulaires/ruchers/").status_code == 404

    run_cli(instance, "schema", "publish", "ruchers")
    assert client.get("/formulaires/ruchers/").status_code == 200

    run_cli(instance, "schema", "close", "ruchers")
    response = client.get("/formulaires/ruchers/")
    assert response.status_code == 302


def test_serve_preparation_loads_schemas_and_skips_bad_files(tmp_path, monkeypatch):
    from dnt_forms.serve import prepare

    folder = tmp_path / "schemas"
    folder.mkdir()
    write(folder, "bon.json", GOOD)
    (folder / "casse.json").write_text("{pas du json")
    monkeypatch.setenv("DNT_FORMS_SCHEMAS", str(folder))
    monkeypatch.setenv("DNT_FORMS_INSTANCE", str(tmp_path / "inst"))

    lines = prepare("http://127.0.0.1:8000")
    text = "\n".join(lines)
    assert "bon.json : registre-des-ruchers : version 1" in text
    assert "casse.json : refusé" in text
    assert "/connexion/lien/" in text

    # A second start changes nothing; a changed file becomes version 2.
    assert "inchangé" in "\n".join(prepare("http://127.0.0.1:8000"))
    changed = dict(GOOD, description="Nouvelle description.")
    write(folder, "bon.json", changed)
    lines = prepare("http://127.0.0.1:8000")
    assert any("version 2" in line for line in lines)
    assert not any("/connexion/lien/" in line for line in lines)  # admin exists

    # Once an administrator has changed the form, a start (even with the
    # shipped file changed again) never undoes that change.
    own = dict(GOOD, description="Version de l'administrateur.")
    mine = write(tmp_path, "mien.json", own)
    run_cli(
        tmp_path / "inst", "schema", "import", mine, "--slug", "registre-des-ruchers"
    )
    write(folder, "bon.json", dict(GOOD, description="Encore une autre."))
    text = "\n".join(prepare("http://127.0.0.1:8000"))
    assert "bon.json : registre-des-ruchers : fichier non appliqué" in text
    assert "mien.json" in text and "(version 3)" in text
    from dnt_forms import create_app
    from dnt_forms.schemas.versions import current_version, get_form

    app = create_app(instance=tmp_path / "inst")
    with app.app_context():
        form = get_form("registre-des-ruchers")
        assert current_version(form).schema["description"] == own["description"]
    app.extensions["dnt_public"].close()


def test_links_printed_by_commands_point_where_serve_listens(tmp_path, monkeypatch):
    from dnt_forms.serve import prepare

    monkeypatch.delenv("DNT_FORMS_BASE_URL", raising=False)
    monkeypatch.setenv("DNT_FORMS_SCHEMAS", str(tmp_path / "aucun"))
    monkeypatch.setenv("DNT_FORMS_INSTANCE", str(tmp_path / "inst"))
    assert any(
        "http://127.0.0.1:8123/connexion/lien/" in line
        for line in prepare("http://127.0.0.1:8123")
    )
    linked = run_cli(tmp_path / "inst", "user", "link", "admin@localhost")
    assert last_line(linked).startswith("http://127.0.0.1:8123/connexion/lien/")
    # Behind a proxy, the address people use wins.
    proxied = run_cli(
        tmp_path / "inst",
        "user",
        "link",
        "admin@localhost",
        env={"DNT_FORMS_BASE_URL": "https://formulaires.exemple.fr/"},
    )
    assert last_line(proxied).startswith("https://formulaires.exemple.fr/connexion/")


def test_publish_rebuild(instance):
    run_cli(instance, "init")
    assert "reconstruite" in run_cli(instance, "publish", "--rebuild").stdout
