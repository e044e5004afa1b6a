"""Fixtures: fresh instances on real SQLite files, and one real gunicorn server."""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from dnt_forms import create_app

ROOT = Path(__file__).resolve().parent.parent
DNT_FORMS = shutil.which("dnt-forms") or str(Path(sys.executable).parent / "dnt-forms")


def corpus_path() -> Path:
    return Path(os.environ.get("DNT_CORPUS", ROOT.parent / "shared" / "corpus"))


@pytest.fixture(scope="session")
def corpus() -> Path:
    path = corpus_path()
    if not path.is_dir():
        pytest.skip(
            f"corpus absent ({path}): set DNT_CORPUS or clone next to ../shared/corpus"
        )
    return path


@pytest.fixture
def instance(tmp_path) -> Path:
    return tmp_path / "instance"


@pytest.fixture
def app(instance):
    app = create_app({"TESTING": True}, instance=instance)
    yield app
    app.extensions["dnt_public"].close()
    with app.app_context():
        from dnt_forms.db import db

        db.engine.dispose()


@pytest.fixture
def client(app):
    return app.test_client()


def run_cli(instance: Path, *args: str, stdin: str | None = None, check=True, env=None):
    """Run the real `dnt-forms` console script on an instance."""
    env = dict(os.environ, DNT_FORMS_INSTANCE=str(instance), **(env or {}))
    result = subprocess.run(
        [DNT_FORMS, *args],
        input=stdin,
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=120,
    )
    if check and result.returncode != 0:
        raise AssertionError(
            f"dnt-forms {' '.join(args)} failed ({result.returncode}):\n"
            f"{result.stdout}\n{result.stderr}"
        )
    return result


def last_line(result) -> str:
    return result.stdout.strip().splitlines()[-1]


def csrf_from(html: str) -> str:
    match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html)
    if not match:
        match = re.search(r'value="([^"]+)"[^>]*name="csrf_token"', html)
    assert match, "no csrf_token in the page"
    return match[1]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Server:
    """A real `dnt-forms serve` (gunicorn, 2 workers) on a temporary instance."""

    def __init__(self, instance: Path, port: int):
        self.instance = instance
        self.base = f"http://127.0.0.1:{port}"
        self.port = port
        self.process = None
        self.output = instance.parent / "serve.log"

    def start(self) -> None:
        env = dict(os.environ, DNT_FORMS_INSTANCE=str(self.instance))
        self.log = open(self.output, "w")
        self.process = subprocess.Popen(
            [DNT_FORMS, "serve", "--port", str(self.port), "--workers", "2"],
            stdout=self.log,
            stderr=subprocess.STDOUT,
            env=env,
            cwd=ROOT,
        )
        deadline = time.time() + 60
        while time.time() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"serve exited:\n{self.output.read_text()}")
            try:
                if requests.get(f"{self.base}/connexion", timeout=2).status_code == 200:
                    return
            except requests.RequestException:
                # Refused while starting, or slow on a busy machine: try again.
                pass
            time.sleep(0.3)
        raise RuntimeError(f"serve did not answer:\n{self.output.read_text()}")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
        self.log.close()

    def cli(self, *args, **kwargs):
        return run_cli(self.instance, *args, **kwargs)

    def url(self, path: str) -> str:
        return self.base + path


@pytest.fixture(scope="session")
def server(tmp_path_factory):
    """One real server for the session; each test uses its own form slugs."""
    instance = tmp_path_factory.mktemp("server") / "instance"
    srv = Server(instance, free_port())
    srv.start()
    srv.cli("org", "create", "75056", "Ville de Paris")
    srv.cli("org", "create", "217500016", "Commune de Paris (SIREN)")
    srv.cli(
        "user",
        "create",
        "agent@paris.fr",
        "--role",
        "agent",
        "--org",
        "75056",
        "--password-stdin",
        stdin="mot-de-passe-agent\n",
    )
    srv.cli(
        "user",
        "create",
        "admin@test.fr",
        "--role",
        "admin",
        "--password-stdin",
        stdin="mot-de-passe-admin\n",
    )
    srv.agent_token = last_line(srv.cli("token", "create", "agent@paris.fr"))
    srv.admin_token = last_line(srv.cli("token", "create", "admin@test.fr"))
    yield srv
    srv.stop()


@pytest.fixture
def api(server):
    """A requests session authenticated as the agent of 75056."""
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {server.agent_token}"
    return session


def sign_in(session: requests.Session, server: Server, email: str, password: str):
    page = session.get(server.url("/connexion"))
    response = session.post(
        server.url("/connexion"),
        data={"email": email, "password": password, "csrf_token": csrf_from(page.text)},
        allow_redirects=False,
    )
    assert response.status_code == 302, response.text
    return session


@pytest.fixture
def make_form(app):
    """Install a schema (a dict or a file path) as a published form."""
    import json as _json

    from dnt_forms.publish import sync_form
    from dnt_forms.schemas import load_file, load_text
    from dnt_forms.schemas.versions import install

    def make(schema, slug: str):
        with app.app_context():
            if isinstance(schema, dict):
                loaded = load_text(_json.dumps(schema))
            else:
                loaded = load_file(schema)
            installed = install(loaded, slug)
            sync_form(app.extensions["dnt_public"], installed.form)
        return slug

    return make


@pytest.fixture
def agent(app, client):
    """The test client, signed in as an agent of organisation 75056."""
    from dnt_forms.auth import create_user
    from dnt_forms.db import db
    from dnt_forms.models import Organisation

    with app.app_context():
        org = Organisation(code="75056", name="Ville de Paris")
        db.session.add(org)
        db.session.commit()
        create_user("agent@paris.fr", "agent", org, password="mot-de-passe-agent")
    page = client.get("/connexion").text
    response = client.post(
        "/connexion",
        data={
            "email": "agent@paris.fr",
            "password": "mot-de-passe-agent",
            "csrf_token": csrf_from(page),
        },
    )
    assert response.status_code == 302
    return client


@pytest.fixture
def token(app, agent):
    """A write API token of the signed-in agent."""
    from dnt_forms.auth import create_token, find_user

    with app.app_context():
        return create_token(find_user("agent@paris.fr"))


def public_rows(app, slug: str) -> list[dict]:
    import sqlite3

    conn = sqlite3.connect(Path(app.instance_path) / "public.db")
    conn.row_factory = sqlite3.Row
    try:
        return [dict(r) for r in conn.execute(f'select * from "{slug}" order by rowid')]
    finally:
        conn.close()
