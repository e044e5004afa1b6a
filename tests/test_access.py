"""Who may do what: every route and every API endpoint, for every kind of actor.

The world (built once per module, since password hashing is slow, then copied
afresh for each test): three published forms, three organisations and these
actors —

    anon        nobody signed in / no Authorization header
    a           agent of organisation A (session and write token)
    b           agent of organisation B (session and write token)
    manager     role manager, manages the form, no organisation
    manager_c   role manager, manages the form, member of organisation C
    admin       administrator
    revoked     a write token of agent A, revoked
    bad         a token that was never issued
    a_read      a read-only token of agent A
    a_other     a write token of agent A limited to another form

and, in the form SLUG, four entries: A's submitted entry ``a``, A's draft
``a_draft``, A's withdrawn entry ``a_gone`` and B's submitted entry ``b``;
``missing`` is an id no entry has.

The rules are those of dnt_forms/permissions.py and of the status codes of
INTERFACE.md: anonymous pages redirect to /connexion, the API answers 401
without a valid token, 403 for a form not open to the caller or a token
without the scope or the form, 404 for an entry outside the caller's
organisation (answered exactly like a missing one), 403 for /admin/ to all
but administrators. No answer reveals another organisation's entry, no
refused request changes anything, and no route answers 500.
"""

from __future__ import annotations

import json
import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import requests
from conftest import csrf_from, last_line, public_rows
from conftest import sign_in as sign_in_server
from werkzeug.routing.converters import NumberConverter

SLUG = "voirie"
RESERVED = "voirie-b"  # published, open to organisation B only
OTHER = "eclairage"  # published, open to all: the only form of the a_other token
UNKNOWN_SLUG = "inexistant"
ORG_A, ORG_B, ORG_C = "75056", "13055", "69123"
PASSWORD = "mot-de-passe-long"

FORM = {
    "title": "Travaux de voirie",
    "type": "object",
    "required": ["rue", "jours"],
    "properties": {
        "rue": {
            "type": "string",
            "title": "Rue",
            "x-purpose": "Localiser le chantier.",
        },
        "jours": {
            "type": "integer",
            "minimum": 1,
            "title": "Durée (jours)",
            "x-purpose": "Prévenir les riverains.",
        },
        "note": {"type": "string", "title": "Note", "x-purpose": "Précisions."},
    },
}

# What each entry holds: its markers must never reach anyone who may not see it.
ENTRIES = {
    "a": {"rue": "RUE-A-DEPOSEE", "jours": 1},
    "a_draft": {"rue": "RUE-A-BROUILLON", "jours": 2},
    "a_gone": {"rue": "RUE-A-RETIREE", "jours": 3},
    "b": {"rue": "RUE-B-CONFIDENTIELLE", "jours": 4, "note": "NOTE-B-PRIVEE"},
}
ORG_NAMES = {ORG_A: "Mairie Alpha", ORG_B: "Mairie Bravo", ORG_C: "Mairie Charlie"}
SECRETS = {
    "a": ["RUE-A-DEPOSEE"],
    "a_draft": ["RUE-A-BROUILLON"],
    "a_gone": ["RUE-A-RETIREE"],
    "b": ["RUE-B-CONFIDENTIELLE", "NOTE-B-PRIVEE", ORG_NAMES[ORG_B]],
}
ALL = set(ENTRIES)
A_ENTRIES = {"a", "a_draft", "a_gone"}

ACCOUNTS = {  # actor: (email, role, organisation, managed forms)
    "a": ("agent-a@alpha.fr", "agent", ORG_A, None),
    "b": ("agent-b@bravo.fr", "agent", ORG_B, None),
    "manager": ("gestion@dnt.fr", "manager", None, [SLUG]),
    "manager_c": ("gestion@charlie.fr", "manager", ORG_C, [SLUG]),
    "admin": ("admin@dnt.fr", "admin", None, None),
}
TOKENS = {  # actor: (account, scope, forms); "revoked" is made first, then revoked
    "a": ("a", "write", None),
    "a_read": ("a", "read", None),
    "a_other": ("a", "write", [OTHER]),
    "b": ("b", "write", None),
    "manager": ("manager", "write", None),
    "manager_c": ("manager_c", "write", None),
    "admin": ("admin", "write", None),
}
BAD_TOKEN = "dnt_" + "x" * 43
SQLITE_MAX = 2**63 - 1  # the largest SQLite INTEGER
HUGE = 10**20  # a number a URL, a form or a header may carry, beyond it

SESSION_ACTORS = ["anon", "a", "b", "manager", "manager_c", "admin"]
API_ACTORS = [
    "anon",
    "bad",
    "revoked",
    "a",
    "a_read",
    "a_other",
    "b",
    "manager",
    "manager_c",
    "admin",
]

# The entries each actor may see, anywhere it may look.
SEES = {
    "anon": set(),
    "bad": set(),
    "revoked": set(),
    "a_other": set(),
    "a": A_ENTRIES,
    "a_read": A_ENTRIES,
    "b": {"b"},
    "manager": ALL,
    "manager_c": ALL,
    "admin": ALL,
}

LOGIN = "302 → /connexion"

# ---------------------------------------------------------------------------
# The matrix. Each request is a well-formed one for its route: HTML POSTs carry
# the actor's own CSRF token, the entry's current revision and valid data; API
# PUT/DELETE carry If-Match with the current revision and valid JSON.
# {slug} the form, {reserved} the form open to B only, {a} {a_draft} {a_gone}
# {b} {missing} entry ids.
# ---------------------------------------------------------------------------
E = "/formulaires/{slug}/entrees"
EO = "/formulaires/{other}/entrees"
ER = "/formulaires/{reserved}/entrees"
HTML_GRID = [
    # method  path                             anon   a    b    manager manager_c admin
    ("GET", "/", LOGIN, 200, 200, 200, 200, 200),
    ("GET", "/connexion", 200, 200, 200, 200, 200, 200),
    ("GET", "/formulaires/{slug}/", LOGIN, 200, 200, 200, 200, 200),
    ("POST", "/formulaires/{slug}/", LOGIN, 302, 302, 302, 302, 302),
    ("GET", "/formulaires/{reserved}/", LOGIN, 403, 200, 403, 403, 200),
    ("POST", "/formulaires/{reserved}/", LOGIN, 403, 302, 403, 403, 302),
    ("GET", ER + "/", LOGIN, 403, 200, 403, 403, 200),
    ("GET", E + "/", LOGIN, 200, 200, 200, 200, 200),
    # A's submitted entry
    ("GET", E + "/{a}", LOGIN, 200, 404, 200, 200, 200),
    ("POST", E + "/{a}", LOGIN, 302, 404, 302, 302, 302),
    ("POST", E + "/{a}/conflit", LOGIN, 302, 404, 302, 302, 302),
    ("POST", E + "/{a}/retrait", LOGIN, 302, 404, 302, 302, 302),
    ("POST", E + "/{a}/retablissement", LOGIN, 403, 404, 403, 403, 403),
    # A's draft
    ("GET", E + "/{a_draft}", LOGIN, 200, 404, 200, 200, 200),
    ("POST", E + "/{a_draft}", LOGIN, 302, 404, 302, 302, 302),
    ("POST", E + "/{a_draft}/retrait", LOGIN, 302, 404, 302, 302, 302),
    # A's withdrawn entry: seen, not edited; only managers restore it
    ("GET", E + "/{a_gone}", LOGIN, 200, 404, 200, 200, 200),
    ("POST", E + "/{a_gone}", LOGIN, 403, 404, 403, 403, 403),
    ("POST", E + "/{a_gone}/conflit", LOGIN, 403, 404, 403, 403, 403),
    ("POST", E + "/{a_gone}/retrait", LOGIN, 403, 404, 403, 403, 403),
    ("POST", E + "/{a_gone}/retablissement", LOGIN, 403, 404, 302, 302, 302),
    # B's entry
    ("GET", E + "/{b}", LOGIN, 404, 200, 200, 200, 200),
    ("POST", E + "/{b}", LOGIN, 404, 302, 302, 302, 302),
    ("POST", E + "/{b}/conflit", LOGIN, 404, 302, 302, 302, 302),
    ("POST", E + "/{b}/retrait", LOGIN, 404, 302, 302, 302, 302),
    ("POST", E + "/{b}/retablissement", LOGIN, 404, 403, 403, 403, 403),
    # no such entry
    ("GET", E + "/{missing}", LOGIN, 404, 404, 404, 404, 404),
    ("POST", E + "/{missing}", LOGIN, 404, 404, 404, 404, 404),
    ("POST", E + "/{missing}/retrait", LOGIN, 404, 404, 404, 404, 404),
    # B's entry asked for under another form
    ("GET", EO + "/{b}", LOGIN, 404, 404, 404, 404, 404),
    ("POST", EO + "/{b}", LOGIN, 404, 404, 404, 404, 404),
    ("POST", EO + "/{b}/retrait", LOGIN, 404, 404, 404, 404, 404),
    # administration (every /admin/ route is also swept below)
    ("GET", "/admin/", LOGIN, 403, 403, 403, 403, 200),
]

A = "/api/v1/forms/{slug}/entries"
AS = "/api/v1/forms/{slug}"
AR = "/api/v1/forms/{reserved}"
AO = "/api/v1/forms/{other}/entries"
API_GRID = [
    # columns: anon bad revoked a a_read a_other b manager manager_c admin
    # method  path                  anon bad  rev  a    read othr b    mgr  mgrC admn
    ("GET", "/api/v1/forms", 401, 401, 401, 200, 200, 200, 200, 200, 200, 200),
    ("GET", AS + "/schema", 401, 401, 401, 200, 200, 403, 200, 200, 200, 200),
    ("GET", AR + "/schema", 401, 401, 401, 403, 403, 403, 200, 403, 403, 200),
    ("GET", A, 401, 401, 401, 200, 200, 403, 200, 200, 200, 200),
    ("POST", A, 401, 401, 401, 201, 403, 403, 201, 201, 201, 201),
    ("GET", AR + "/entries", 401, 401, 401, 403, 403, 403, 200, 403, 403, 200),
    ("POST", AR + "/entries", 401, 401, 401, 403, 403, 403, 201, 403, 403, 201),
    ("GET", AO, 401, 401, 401, 200, 200, 200, 200, 200, 200, 200),
    # A's submitted entry
    ("GET", A + "/{a}", 401, 401, 401, 200, 200, 403, 404, 200, 200, 200),
    ("PUT", A + "/{a}", 401, 401, 401, 200, 403, 403, 404, 200, 200, 200),
    ("DELETE", A + "/{a}", 401, 401, 401, 200, 403, 403, 404, 200, 200, 200),
    # A's draft
    ("GET", A + "/{a_draft}", 401, 401, 401, 200, 200, 403, 404, 200, 200, 200),
    ("PUT", A + "/{a_draft}", 401, 401, 401, 200, 403, 403, 404, 200, 200, 200),
    ("DELETE", A + "/{a_draft}", 401, 401, 401, 200, 403, 403, 404, 200, 200, 200),
    # A's withdrawn entry: readable, not editable until a manager restores it
    ("GET", A + "/{a_gone}", 401, 401, 401, 200, 200, 403, 404, 200, 200, 200),
    ("PUT", A + "/{a_gone}", 401, 401, 401, 403, 403, 403, 404, 403, 403, 403),
    ("DELETE", A + "/{a_gone}", 401, 401, 401, 403, 403, 403, 404, 403, 403, 403),
    # B's entry
    ("GET", A + "/{b}", 401, 401, 401, 404, 404, 403, 200, 200, 200, 200),
    ("PUT", A + "/{b}", 401, 401, 401, 404, 403, 403, 200, 200, 200, 200),
    ("DELETE", A + "/{b}", 401, 401, 401, 404, 403, 403, 200, 200, 200, 200),
    # no such entry
    ("GET", A + "/{missing}", 401, 401, 401, 404, 404, 403, 404, 404, 404, 404),
    ("PUT", A + "/{missing}", 401, 401, 401, 404, 403, 403, 404, 404, 404, 404),
    ("DELETE", A + "/{missing}", 401, 401, 401, 404, 403, 403, 404, 404, 404, 404),
    # B's entry asked for under another form
    ("GET", AO + "/{b}", 401, 401, 401, 404, 404, 404, 404, 404, 404, 404),
    ("PUT", AO + "/{b}", 401, 401, 401, 404, 403, 404, 404, 404, 404, 404),
    ("DELETE", AO + "/{b}", 401, 401, 401, 404, 403, 404, 404, 404, 404, 404),
]


def _expand(grid, actors):
    rows = []
    for method, path, *expected in grid:
        assert len(expected) == len(actors), (method, path)
        rows += [(actor, method, path, code) for actor, code in zip(actors, expected)]
    return rows


# (actor, method, path template, expected status)
MATRIX = _expand(HTML_GRID, SESSION_ACTORS) + _expand(API_GRID, API_ACTORS)

# Known service bugs in the matrix: (actor, method, path template) -> reason,
# each run as xfail(strict=True) so that a fix is noticed. None today; the
# bugs this file found are in section 6b.
KNOWN_BUGS: dict[tuple[str, str, str], str] = {}


def _matrix_params():
    for actor, method, path, expected in MATRIX:
        marks = []
        reason = KNOWN_BUGS.get((actor, method, path))
        if reason:
            marks.append(pytest.mark.xfail(strict=True, reason=reason))
        kind = "api" if path.startswith("/api/") else "html"
        yield pytest.param(
            actor,
            method,
            path,
            expected,
            marks=marks,
            id=f"{kind}-{actor}-{method}-{path}",
        )


# ---------------------------------------------------------------------------
# The world
# ---------------------------------------------------------------------------
@dataclass
class World:
    app: object
    ids: dict
    user_ids: dict
    org_ids: dict
    tokens: dict
    sessions: dict = field(default_factory=dict)
    csrf: dict = field(default_factory=dict)

    # -- addresses -------------------------------------------------------
    def path(self, template: str, **extra) -> str:
        return template.format(
            slug=SLUG, reserved=RESERVED, other=OTHER, **self.ids, **extra
        )

    def match(self, method: str, path: str):
        """(endpoint, arguments) of a path, as the app routes it."""
        from werkzeug.exceptions import HTTPException

        adapter = self.app.url_map.bind("localhost")
        try:
            return adapter.match(urlsplit(path).path, method=method)
        except HTTPException:
            # No route takes it (an id beyond SQLite's integers, say).
            return None, {}

    # -- the private store -----------------------------------------------
    def stored(self, entry_id: int):
        from dnt_forms.db import db
        from dnt_forms.models import Entry

        if entry_id > SQLITE_MAX:
            return None
        with self.app.app_context():
            entry = db.session.get(Entry, entry_id)
            if entry is None:
                return None
            return {
                "state": entry.state,
                "revision": entry.revision,
                "data": entry.data,
                "updated_at": entry.updated_at,
                "organisation_id": entry.organisation_id,
            }

    def revision(self, entry_id) -> int:
        if entry_id is None or int(entry_id) > SQLITE_MAX:
            return 1
        found = self.stored(int(entry_id))
        return found["revision"] if found else 1

    def snapshot(self) -> dict:
        """Everything a refused request must leave as it was."""
        from sqlalchemy import text

        from dnt_forms.db import db

        tables = {
            "entries": "select * from entries order by id",
            "entry_history": "select * from entry_history order by id",
            "entry_keys": "select * from entry_keys order by id",
            "users": "select id, email, role, organisation_id, managed_forms, "
            "active, session_version, password_hash from users order by id",
            "api_tokens": "select * from api_tokens order by id",
            "forms": "select * from forms order by id",
            "organisations": "select * from organisations order by id",
        }
        with self.app.app_context():
            out = {
                name: [tuple(r) for r in db.session.execute(text(sql)).all()]
                for name, sql in tables.items()
            }
        out["public"] = {
            slug: public_rows(self.app, slug) for slug in (SLUG, RESERVED, OTHER)
        }
        return out

    # -- requests ----------------------------------------------------------
    def bearer(self, actor: str) -> dict:
        token = {"anon": None, "bad": BAD_TOKEN}.get(actor, self.tokens.get(actor))
        return {"Authorization": f"Bearer {token}"} if token else {}

    def send(self, actor: str, method: str, path: str, *, body: str = "full"):
        """A request of this actor.

        body "full": a well-formed request (valid data, the entry's current
        revision, the actor's CSRF token, If-Match); "minimal": the CSRF
        token (HTML) or `{}` with If-Match (API) and nothing else; "empty":
        no body, no CSRF token, no If-Match.
        """
        endpoint, args = self.match(method, path)
        entry_id = args.get("entry_id")
        if path.startswith("/api/"):
            headers = self.bearer(actor)
            kwargs = {}
            if method in ("PUT", "DELETE") and body != "empty":
                headers["If-Match"] = f'"{self.revision(entry_id)}"'
            if method in ("POST", "PUT") and body != "empty":
                kwargs["json"] = (
                    {"rue": "Rue par l'API", "jours": 7} if body == "full" else {}
                )
            return self.app.test_client().open(
                path, method=method, headers=headers, **kwargs
            )
        client = self.sessions[actor]
        if method == "GET":
            return client.get(path)
        if body == "empty":
            return client.open(path, method=method)
        data = self.html_body(endpoint, entry_id) if body == "full" else {}
        data["csrf_token"] = self.csrf[actor]
        return client.open(path, method=method, data=data)

    def html_body(self, endpoint: str, entry_id) -> dict:
        revision = str(self.revision(entry_id))
        if endpoint == "views.new_entry":
            return {"rue": "Rue nouvelle", "jours": "2", "action": "envoyer"}
        if endpoint == "views.entry":
            return {
                "rue": "Rue modifiée",
                "jours": "9",
                "action": "enregistrer",
                "revision": revision,
            }
        if endpoint == "views.resolve_conflict":
            # "mine" as stored: nothing left to choose, the resolution saves.
            found = self.stored(entry_id) if entry_id else None
            return {
                "revision": revision,
                "action": "enregistrer",
                "mine": json.dumps(found["data"] if found else {}, ensure_ascii=False),
            }
        if endpoint in ("views.withdraw", "views.restore"):
            return {"revision": revision}
        return {}


def _sign_in(app, email: str):
    client = app.test_client()
    page = client.get("/connexion").text
    response = client.post(
        "/connexion",
        data={"email": email, "password": PASSWORD, "csrf_token": csrf_from(page)},
    )
    assert response.status_code == 302, response.text
    return client


@dataclass
class Template:
    """The world built once (password hashing is slow), copied for each test."""

    path: Path
    ids: dict
    user_ids: dict
    org_ids: dict
    tokens: dict
    cookies: dict
    csrf: dict


def _build(app) -> dict:
    from dnt_forms.auth import create_token, create_user, revoke_tokens
    from dnt_forms.db import db
    from dnt_forms.entries import change_entry, open_form, save_new_entry
    from dnt_forms.models import Form, Organisation
    from dnt_forms.publish import sync_form
    from dnt_forms.schemas import load_text
    from dnt_forms.schemas.versions import install

    with app.app_context():
        for slug in (SLUG, RESERVED, OTHER):
            installed = install(load_text(json.dumps(FORM)), slug)
            sync_form(app.extensions["dnt_public"], installed.form)
        orgs = {
            code: Organisation(code=code, name=name) for code, name in ORG_NAMES.items()
        }
        db.session.add_all(orgs.values())
        reserved = db.session.execute(
            db.select(Form).filter_by(slug=RESERVED)
        ).scalar_one()
        reserved.restricted_orgs = ORG_B
        db.session.commit()

        users = {
            actor: create_user(
                email, role, orgs.get(code), password=PASSWORD, forms=forms
            )
            for actor, (email, role, code, forms) in ACCOUNTS.items()
        }
        tokens = {"revoked": create_token(users["a"])}
        revoke_tokens(users["a"])
        for actor, (account, scope, forms) in TOKENS.items():
            tokens[actor] = create_token(users[account], scope, forms)

        opened = open_form(SLUG, users["a"])
        made = {
            "a": save_new_entry(opened, ENTRIES["a"], users["a"]),
            "a_draft": save_new_entry(opened, ENTRIES["a_draft"], users["a"], "draft"),
            "a_gone": save_new_entry(opened, ENTRIES["a_gone"], users["a"]),
            "b": save_new_entry(opened, ENTRIES["b"], users["b"]),
        }
        change_entry(
            opened, made["a_gone"], 1, users["a"], state="withdrawn", action="withdraw"
        )
        assert made["a_gone"].state == "withdrawn"
        ids = {name: entry.id for name, entry in made.items()}
        ids["missing"] = 987654
        user_ids = {actor: user.id for actor, user in users.items()}
        org_ids = {code: org.id for code, org in orgs.items()}

    sessions = {"anon": app.test_client()}
    for actor, (email, *_rest) in ACCOUNTS.items():
        sessions[actor] = _sign_in(app, email)
    csrf = {actor: csrf_from(c.get("/connexion").text) for actor, c in sessions.items()}
    name = app.config["SESSION_COOKIE_NAME"]
    cookies = {actor: c.get_cookie(name).value for actor, c in sessions.items()}
    return {
        "ids": ids,
        "user_ids": user_ids,
        "org_ids": org_ids,
        "tokens": tokens,
        "cookies": cookies,
        "csrf": csrf,
    }


@pytest.fixture(scope="module")
def template(tmp_path_factory) -> Template:
    from dnt_forms import create_app
    from dnt_forms.db import db

    folder = tmp_path_factory.mktemp("acces") / "instance"
    app = create_app({"TESTING": True}, instance=folder)
    try:
        built = _build(app)
    finally:
        app.extensions["dnt_public"].close()
        with app.app_context():
            db.engine.dispose()
    return Template(path=folder, **built)


@pytest.fixture
def instance(tmp_path, template) -> Path:
    """A copy of the template instance (same secret key: its sessions hold)."""
    target = tmp_path / "instance"
    shutil.copytree(template.path, target)
    return target


@pytest.fixture
def world(app, template) -> World:
    w = World(
        app=app,
        ids=template.ids,
        user_ids=template.user_ids,
        org_ids=template.org_ids,
        tokens=template.tokens,
        csrf=dict(template.csrf),
    )
    name = app.config["SESSION_COOKIE_NAME"]
    for actor in SESSION_ACTORS:
        client = app.test_client()
        client.set_cookie(name, template.cookies[actor])
        w.sessions[actor] = client
    return w


def test_the_world_is_as_described(world):
    assert world.stored(world.ids["a_gone"])["state"] == "withdrawn"
    assert world.stored(world.ids["a_draft"])["state"] == "draft"
    assert world.stored(world.ids["missing"]) is None
    for actor in ACCOUNTS:
        assert world.sessions[actor].get("/").status_code == 200, actor
    assert world.sessions["anon"].get("/").status_code == 302


# ---------------------------------------------------------------------------
# Checks shared by the tests
# ---------------------------------------------------------------------------
def assert_status(response, expected):
    if expected == LOGIN:
        assert response.status_code == 302, response.get_data(as_text=True)[:500]
        assert urlsplit(response.headers["Location"]).path == "/connexion"
        return
    assert response.status_code == expected, response.get_data(as_text=True)[:800]
    if response.request.path.startswith("/api/") and expected >= 400:
        body = response.get_json()
        assert body["ok"] is False and body["status"] == expected, body
        assert isinstance(body["error"], str) and isinstance(body["errors"], list)


def refusal(expected) -> bool:
    return expected == LOGIN or expected >= 400


def leaks(actor: str, response) -> list[str]:
    """The secrets of entries this actor may not see, found in the answer."""
    text = response.get_data(as_text=True) + " ".join(
        f"{k}: {v}" for k, v in response.headers.items()
    )
    return [
        secret
        for name in ALL - SEES[actor]
        for secret in SECRETS[name]
        if secret in text
    ]


def normalise(response, entry_id: int) -> str:
    """The answer without what legitimately differs between two requests.

    The CSRF token of the page is signed anew each time; an API message may
    repeat the id that was asked for (the caller knows it already).
    """
    text = response.get_data(as_text=True)
    if response.is_json:
        return re.sub(rf"(?<![0-9]){entry_id}(?![0-9])", "<id>", text)
    text = re.sub(r'(name="csrf_token"[^>]*value=")[^"]*', r"\1", text)
    return re.sub(r'value="[^"]*"([^>]*name="csrf_token")', r'value=""\1', text)


# ---------------------------------------------------------------------------
# 1. The matrix
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("actor, method, path, expected", list(_matrix_params()))
def test_access_matrix(world, actor, method, path, expected):
    url = world.path(path)
    before = world.snapshot() if refusal(expected) else None
    response = world.send(actor, method, url)
    assert_status(response, expected)
    assert leaks(actor, response) == []
    if before is not None:
        assert world.snapshot() == before, "a refused request changed something"


# Published data, open to all like /data/ (drafts answer 404).
PUBLIC_DATA = {"views.export", "views.table_schema"}


def test_matrix_covers_every_entry_route_and_api_endpoint(world):
    """Each non-admin route of the app has at least one row in the matrix."""
    covered = set()
    for _actor, method, template, _code in MATRIX:
        covered.add(world.match(method, world.path(template))[0])
    # Swept below; the export and the Table Schema it follows are public
    # data, like /data/ (unpublished fields are for managers:
    # test_admin_schemas.py).
    skipped = {"static", "auth.logout", "auth.one_time_link", *PUBLIC_DATA}
    missing = {
        rule.endpoint
        for rule in world.app.url_map.iter_rules()
        if not rule.rule.startswith("/admin/") and rule.endpoint not in skipped
    } - covered
    assert missing == set()


def _rules(world, *, api: bool) -> list:
    """The app's rules (API or not), signing out last: it ends the session
    and with it the CSRF token of the requests that follow."""
    rules = [
        r for r in world.app.url_map.iter_rules() if r.rule.startswith("/api/") == api
    ]
    return sorted(rules, key=lambda r: (r.endpoint == "auth.logout", r.rule))


# Pages anyone may open without signing in.
PUBLIC_ENDPOINTS = {"static", "auth.login", "auth.one_time_link", *PUBLIC_DATA}


def test_anonymous_is_sent_to_sign_in_on_every_page(world):
    """Every page of app.url_map, not only today's: GET and POST with a CSRF token."""
    checked = []
    for rule in _rules(world, api=False):
        if rule.endpoint in PUBLIC_ENDPOINTS:
            continue
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            path = _fill(world, rule)
            response = world.send("anon", method, path, body="minimal")
            assert response.status_code == 302, f"{method} {path}"
            location = urlsplit(response.headers["Location"])
            assert location.path == "/connexion", f"{method} {path}"
            checked.append(rule.endpoint)
    assert {"views.index", "views.entry", "admin.index"} <= set(checked)


@pytest.mark.parametrize("actor", ["anon", "bad", "revoked"])
def test_api_without_a_valid_token_is_401_on_every_endpoint(world, actor):
    before = world.snapshot()
    checked = 0
    for rule in _rules(world, api=True):
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            path = _fill(
                world,
                rule,
                **(
                    {"entry_id": world.ids["b"]} if "entry_id" in rule.arguments else {}
                ),
            )
            response = world.send(actor, method, path)
            try:
                assert_status(response, 401)
            except AssertionError as exc:
                raise AssertionError(f"{method} {path}: {exc}") from None
            assert leaks(actor, response) == []
            checked += 1
    assert checked >= 7
    assert world.snapshot() == before


@pytest.mark.parametrize(
    "actor, slugs",
    [
        ("a", {SLUG, OTHER}),
        ("a_read", {SLUG, OTHER}),
        ("a_other", {OTHER}),
        ("b", {SLUG, RESERVED, OTHER}),
        ("manager", {SLUG, OTHER}),
        ("manager_c", {SLUG, OTHER}),
        ("admin", {SLUG, RESERVED, OTHER}),
    ],
)
def test_each_caller_is_offered_only_its_forms(world, actor, slugs):
    listed = world.send(actor, "GET", "/api/v1/forms").get_json()["forms"]
    assert {f["slug"] for f in listed} == slugs
    if actor in SESSION_ACTORS:  # the home page lists the same forms
        html = world.sessions[actor].get("/").get_data(as_text=True)
        for slug in (SLUG, RESERVED, OTHER):
            assert (f"/formulaires/{slug}/" in html) == (slug in slugs), slug


# ---------------------------------------------------------------------------
# 2. Another organisation's entry is answered exactly like a missing one
# ---------------------------------------------------------------------------
FOREIGN_REQUESTS = [
    ("GET", E + "/{id}"),
    ("POST", E + "/{id}"),
    ("POST", E + "/{id}/conflit"),
    ("POST", E + "/{id}/retrait"),
    ("POST", E + "/{id}/retablissement"),
    ("GET", A + "/{id}"),
    ("PUT", A + "/{id}"),
    ("DELETE", A + "/{id}"),
]
# (actor, an entry it may not see)
OUTSIDERS = [("a", "b"), ("b", "a"), ("b", "a_draft"), ("b", "a_gone")]


@pytest.mark.parametrize("actor, target", OUTSIDERS)
@pytest.mark.parametrize("method, route", FOREIGN_REQUESTS)
def test_foreign_entry_is_answered_like_a_missing_one(
    world, actor, target, method, route
):
    before = world.snapshot()
    target_id, missing_id = world.ids[target], world.ids["missing"]
    foreign = world.send(actor, method, world.path(route, id=target_id))
    missing = world.send(actor, method, world.path(route, id=missing_id))

    assert foreign.status_code == missing.status_code == 404
    assert normalise(foreign, target_id) == normalise(missing, missing_id)
    assert foreign.content_type == missing.content_type
    ignored = {"Content-Length", "Set-Cookie", "Date"}
    assert (
        set(foreign.headers.keys()) - ignored == set(missing.headers.keys()) - ignored
    )
    assert "ETag" not in foreign.headers
    assert leaks(actor, foreign) == []
    assert world.snapshot() == before


# ---------------------------------------------------------------------------
# 3. What must be allowed is allowed, and does what it says
# ---------------------------------------------------------------------------
def _text(response) -> str:
    return response.get_data(as_text=True)


def test_agent_reads_lists_and_edits_own_entries_in_html(world):
    a = world.sessions["a"]
    listing = _text(a.get(world.path(E + "/")))
    assert "3 entrées de votre organisation" in listing
    for name in A_ENTRIES:
        assert ENTRIES[name]["rue"] in listing
    assert leaks("a", a.get(world.path(E + "/"))) == []

    for name in A_ENTRIES:
        page = a.get(world.path(E + "/{id}", id=world.ids[name]))
        assert page.status_code == 200 and ENTRIES[name]["rue"] in _text(page)

    url = world.path(E + "/{a}")
    page = _text(a.get(url))
    saved = a.post(
        url,
        data={
            "csrf_token": csrf_from(page),
            "revision": "1",
            "rue": "Rue refaite",
            "jours": "5",
            "action": "enregistrer",
        },
    )
    assert saved.status_code == 302
    assert world.stored(world.ids["a"])["revision"] == 2
    assert world.stored(world.ids["a"])["data"] == {"rue": "Rue refaite", "jours": 5}
    published = {r["_id"]: r for r in public_rows(world.app, SLUG)}
    assert published[world.ids["a"]]["rue"] == "Rue refaite"

    gone = a.post(
        world.path(E + "/{a}/retrait"),
        data={"csrf_token": csrf_from(page), "revision": "2"},
    )
    assert gone.status_code == 302
    assert world.stored(world.ids["a"])["state"] == "withdrawn"
    assert world.ids["a"] not in {r["_id"] for r in public_rows(world.app, SLUG)}


def test_agent_reads_lists_and_edits_own_entries_in_the_api(world):
    client = world.app.test_client()
    auth = world.bearer("a")
    listing = client.get(world.path(A), headers=auth)
    assert listing.status_code == 200
    body = listing.get_json()
    assert body["total"] == 3
    assert {e["id"] for e in body["entries"]} == {world.ids[n] for n in A_ENTRIES}
    assert {e["organisation"] for e in body["entries"]} == {ORG_A}

    url = world.path(A + "/{a}")
    read = client.get(url, headers=auth)
    assert read.status_code == 200 and read.headers["ETag"] == '"1"'
    assert read.get_json()["data"] == ENTRIES["a"]
    assert read.get_json()["organisation"] == ORG_A

    change = {"rue": "Rue par l'API", "jours": 6}
    assert client.put(url, json=change, headers=auth).status_code == 428
    assert (
        client.put(url, json=change, headers={**auth, "If-Match": '"9"'}).status_code
        == 412
    )
    done = client.put(url, json=change, headers={**auth, "If-Match": '"1"'})
    assert done.status_code == 200 and done.headers["ETag"] == '"2"'
    assert world.stored(world.ids["a"])["data"] == change

    assert client.delete(url, headers=auth).status_code == 428
    gone = client.delete(url, headers={**auth, "If-Match": "2"})
    assert gone.status_code == 200 and gone.get_json()["state"] == "withdrawn"
    assert world.stored(world.ids["a"])["state"] == "withdrawn"

    draft_url = world.path(A + "/{a_draft}")
    submitted = client.put(
        draft_url,
        json={"rue": "Rue déposée", "jours": 2},
        headers={**auth, "If-Match": "1"},
    )
    assert submitted.status_code == 200
    assert world.stored(world.ids["a_draft"])["state"] == "submitted"

    read_only = world.bearer("a_read")
    assert client.get(draft_url, headers=read_only).status_code == 200
    assert (
        client.put(
            draft_url, json=change, headers={**read_only, "If-Match": "2"}
        ).status_code
        == 403
    )
    assert world.stored(world.ids["a_draft"])["revision"] == 2


@pytest.mark.parametrize("manager", ["manager", "manager_c"])
def test_manager_lists_every_organisation_and_restores_withdrawn(world, manager):
    session = world.sessions[manager]
    listing = _text(session.get(world.path(E + "/")))
    assert "4 entrées" in listing
    for name in ALL:
        assert ENTRIES[name]["rue"] in listing
    assert ORG_A in listing and ORG_B in listing

    api = world.app.test_client().get(world.path(A), headers=world.bearer(manager))
    assert api.status_code == 200
    assert {e["id"] for e in api.get_json()["entries"]} == {world.ids[n] for n in ALL}
    assert {e["organisation"] for e in api.get_json()["entries"]} == {ORG_A, ORG_B}

    url = world.path(E + "/{a_gone}")
    page = _text(session.get(url))
    assert ENTRIES["a_gone"]["rue"] in page and "Rétablir" in page
    assert "Rétablir" not in _text(world.sessions["a"].get(url))

    restored = session.post(
        url + "/retablissement", data={"csrf_token": csrf_from(page), "revision": "2"}
    )
    assert restored.status_code == 302
    assert world.stored(world.ids["a_gone"])["state"] == "submitted"
    assert world.ids["a_gone"] in {r["_id"] for r in public_rows(world.app, SLUG)}


# ---------------------------------------------------------------------------
# 4. Administration: every /admin/ route, whatever is added there
# ---------------------------------------------------------------------------
def _fill(world: World, rule, **given) -> str:
    """The rule's path, each parameter set to `given` or to an object of the world."""
    values = {}
    for name, converter in rule._converters.items():
        kind = type(converter).__name__
        lowered = name.lower()
        if name in given:
            values[name] = given[name]
        elif isinstance(converter, NumberConverter):
            if lowered == "entry_id":
                values[name] = world.ids["a"]
            elif any(w in lowered for w in ("user", "account", "compte", "agent")):
                values[name] = world.user_ids["a"]
            elif "org" in lowered:
                values[name] = world.org_ids[ORG_A]
            else:
                values[name] = 1
        elif kind == "PathConverter":
            values[name] = "dnt.css"
        elif "slug" in lowered or "form" in lowered:
            values[name] = SLUG
        elif "code" in lowered or "org" in lowered:
            values[name] = ORG_A
        elif "email" in lowered:
            values[name] = ACCOUNTS["a"][0]
        else:
            values[name] = "inconnu"
    return rule.build(values, append_unknown=False)[1]


def _admin_rules(world):
    return [r for r in _rules(world, api=False) if r.rule.startswith("/admin")]


def _admin_requests(world):
    for rule in _admin_rules(world):
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            yield rule, method, _fill(world, rule)


@pytest.mark.parametrize(
    "actor, expected",
    [
        ("anon", LOGIN),
        ("a", 403),
        ("b", 403),
        ("manager", 403),
        ("manager_c", 403),
    ],
)
def test_only_administrators_reach_admin_pages(world, actor, expected):
    before = world.snapshot()
    seen = []
    for rule, method, path in _admin_requests(world):
        response = world.send(actor, method, path)
        seen.append(path)
        try:
            assert_status(response, expected)
        except AssertionError as exc:
            raise AssertionError(f"{actor} {method} {path}: {exc}") from None
        assert leaks(actor, response) == [], f"{method} {path}"
    assert "/admin/" in seen
    assert world.snapshot() == before


def test_admin_reaches_every_admin_page(world):
    admin = world.sessions["admin"]
    pages = [
        (rule, path) for rule, method, path in _admin_requests(world) if method == "GET"
    ]
    assert pages
    for rule, path in pages:
        if rule.endpoint == "admin.import_report":
            # Serves a report an import wrote; none exists here (404).
            continue
        response = admin.get(path)
        assert response.status_code == 200, f"GET {path} ({rule.endpoint})"


# ---------------------------------------------------------------------------
# 5. After every refused attempt, B's entry is exactly as it was
# ---------------------------------------------------------------------------
def test_refused_attempts_never_change_b_entry(world):
    b_id = world.ids["b"]
    before = world.stored(b_id)
    history_before = world.snapshot()["entry_history"]
    public_before = [r for r in public_rows(world.app, SLUG) if r["_id"] == b_id]
    assert public_before and before["revision"] == 1

    attempts = 0
    for actor, method, template, expected in MATRIX:
        if refusal(expected) and "{b}" in template:
            response = world.send(actor, method, world.path(template))
            assert_status(response, expected)
            attempts += 1
    # and the same requests again, empty, from every outsider
    for actor in ("anon", "a", "bad", "revoked", "a_read", "a_other"):
        for method, template in FOREIGN_REQUESTS:
            if template.startswith("/api/") or actor in SESSION_ACTORS:
                response = world.send(
                    actor, method, world.path(template, id=b_id), body="minimal"
                )
                assert response.status_code in (302, 400, 401, 403, 404)
                assert leaks(actor, response) == []
                attempts += 1
    assert attempts > 30

    assert world.stored(b_id) == before
    assert before["data"] == ENTRIES["b"]
    history_b = [h for h in world.snapshot()["entry_history"] if h[1] == b_id]
    assert history_b == [h for h in history_before if h[1] == b_id]
    assert [
        r for r in public_rows(world.app, SLUG) if r["_id"] == b_id
    ] == public_before


# ---------------------------------------------------------------------------
# 6. No route answers 500, for any actor (every rule of app.url_map)
# ---------------------------------------------------------------------------
def _sweep_values(world: World, rule) -> list[str]:
    """Paths for a rule: each entry of the world, each kind of form slug, and
    for other numeric parameters an existing and a missing object."""
    if "slug" not in rule.arguments:
        if "entry_id" in rule.arguments:
            return [_fill(world, rule, entry_id=i) for i in world.ids.values()]
        numeric = [
            name
            for name, c in rule._converters.items()
            if isinstance(c, NumberConverter)
        ]
        paths = [_fill(world, rule)]
        if numeric:
            paths.append(
                _fill(world, rule, **{n: world.ids["missing"] for n in numeric})
            )
        return paths
    paths = []
    for slug in (SLUG, RESERVED, UNKNOWN_SLUG):
        ids = world.ids.values() if slug == SLUG else [world.ids["a"]]
        for entry_id in ids if "entry_id" in rule.arguments else [None]:
            given = (
                {"slug": slug}
                if entry_id is None
                else {"slug": slug, "entry_id": entry_id}
            )
            paths.append(_fill(world, rule, **given))
    return paths


SWEEP = [("session", a) for a in SESSION_ACTORS] + [("token", a) for a in API_ACTORS]


@pytest.mark.parametrize("kind, actor", SWEEP, ids=[f"{k}-{a}" for k, a in SWEEP])
def test_no_route_answers_500(world, kind, actor):
    rules = _rules(world, api=kind == "token")
    problems = []
    sent = 0
    for rule in rules:
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            bodies = ["full"] if method == "GET" else ["empty", "minimal", "full"]
            for path in _sweep_values(world, rule):
                for body in bodies:
                    where = f"{method} {path} ({body} body)"
                    try:
                        response = world.send(actor, method, path, body=body)
                    except Exception as exc:  # TESTING propagates unhandled errors
                        problems.append(f"{where}: raised {exc!r}")
                        continue
                    sent += 1
                    if response.status_code >= 500:
                        problems.append(f"{where}: {response.status_code}")
                    found = leaks(actor, response)
                    if found:
                        problems.append(f"{where}: reveals {found}")
    assert sent > 20
    assert problems == []


# ---------------------------------------------------------------------------
# 6b. Numbers too large for SQLite: "not found" or "conflict", never 500
# ---------------------------------------------------------------------------
OVERFLOW = (
    "service bug: a number beyond SQLite's 64-bit INTEGER (URL <int:...>, "
    "?page=, posted revision, If-Match) reaches the database unchecked; "
    "sqlite3 raises OverflowError and the route answers 500"
)


def status_of(send) -> int:
    """The answer's status; an unhandled exception of the app (TESTING re-raises
    it instead of answering 500) is a 500."""
    try:
        return send().status_code
    except Exception as exc:  # noqa: BLE001
        print(f"the app raised {exc!r}")
        return 500


@pytest.mark.parametrize(
    "number",
    [
        pytest.param(987654, id="absent"),
        pytest.param(HUGE, id="huge"),
    ],
)
@pytest.mark.parametrize(
    "actor, method, path",
    [
        ("a", "GET", E + "/{n}"),
        ("a", "POST", E + "/{n}"),
        ("a", "POST", E + "/{n}/conflit"),
        ("a", "POST", E + "/{n}/retrait"),
        ("manager", "POST", E + "/{n}/retablissement"),
        ("a", "GET", A + "/{n}"),
        ("a", "PUT", A + "/{n}"),
        ("a", "DELETE", A + "/{n}"),
    ],
)
def test_an_entry_id_of_any_size_is_not_found(world, actor, method, path, number):
    assert (
        status_of(lambda: world.send(actor, method, world.path(path, n=number))) == 404
    )


@pytest.mark.parametrize(
    "number",
    [
        pytest.param(7, id="stale"),
        pytest.param(HUGE, id="huge"),
    ],
)
@pytest.mark.parametrize(
    "actor, method, path, expected",
    [
        ("a", "POST", E + "/{a}", 409),  # the conflict page
        ("a", "POST", E + "/{a}/retrait", 302),  # back to the entry, conflict flashed
        ("manager", "POST", E + "/{a_gone}/retablissement", 302),
        ("a", "PUT", A + "/{a}", 412),
        ("a", "DELETE", A + "/{a}", 412),
    ],
)
def test_a_revision_of_any_size_is_a_conflict(
    world, actor, method, path, expected, number
):
    before = world.snapshot()
    url = world.path(path)
    if url.startswith("/api/"):

        def send():
            return world.app.test_client().open(
                url,
                method=method,
                json={"rue": "Rue", "jours": 1},
                headers={**world.bearer(actor), "If-Match": f'"{number}"'},
            )
    else:
        endpoint, args = world.match(method, url)
        data = world.html_body(endpoint, args["entry_id"])
        data.update(csrf_token=world.csrf[actor], revision=str(number))

        def send():
            return world.sessions[actor].post(url, data=data)

    assert status_of(send) == expected
    assert world.snapshot() == before


@pytest.mark.parametrize(
    "number",
    [
        pytest.param(10**15, id="far"),
        pytest.param(HUGE, id="huge"),
    ],
)
@pytest.mark.parametrize("path", [E + "/?page={n}", A + "?page={n}"])
def test_a_page_of_any_number_is_an_empty_page(world, path, number):
    response = None

    def send():
        nonlocal response
        response = world.send("a", "GET", world.path(path, n=number))
        return response

    assert status_of(send) == 200
    assert not any(
        name in response.get_data(as_text=True)
        for secret in SECRETS.values()
        for name in secret
    )


ENTRY_ROUTES = {
    "views.entry",
    "views.resolve_conflict",
    "views.withdraw",
    "views.restore",
    "api.read",
    "api.replace",
    "api.delete",
}


def test_any_numeric_url_parameter_of_any_size_never_answers_500(world):
    """The net for every other route with a number in its path (admin pages...)."""
    problems, sent = [], 0
    for actor in ("a", "manager", "admin"):
        for rule in _rules(world, api=False) + _rules(world, api=True):
            numeric = [
                n for n, c in rule._converters.items() if isinstance(c, NumberConverter)
            ]
            if not numeric or rule.endpoint in ENTRY_ROUTES:
                continue
            path = _fill(world, rule, **{n: HUGE for n in numeric})
            for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
                status = status_of(
                    lambda: world.send(actor, method, path, body="minimal")
                )
                sent += 1
                if status >= 500:
                    problems.append(f"{actor} {method} {path}: {status}")
    assert sent
    assert problems == []


# ---------------------------------------------------------------------------
# 7. Drafts and withdrawn entries are never published
# ---------------------------------------------------------------------------
def test_public_db_holds_only_submitted_entries(world):
    def published_ids():
        return {r["_id"] for r in public_rows(world.app, SLUG)}

    assert published_ids() == {world.ids["a"], world.ids["b"]}
    rows = public_rows(world.app, SLUG)
    assert {r["_state"] for r in rows} == {"submitted"}
    text = json.dumps(rows, ensure_ascii=False)
    assert "RUE-A-BROUILLON" not in text and "RUE-A-RETIREE" not in text

    # A new draft in HTML, a withdrawal in the API: still not published.
    a = world.sessions["a"]
    page = _text(a.get(world.path("/formulaires/{slug}/")))
    draft = a.post(
        world.path("/formulaires/{slug}/"),
        data={
            "csrf_token": csrf_from(page),
            "rue": "RUE-A-BROUILLON-2",
            "jours": "",
            "action": "brouillon",
        },
    )
    assert draft.status_code == 302
    draft_id = int(urlsplit(draft.headers["Location"]).path.rsplit("/", 1)[1])
    assert world.stored(draft_id)["state"] == "draft"
    gone = world.app.test_client().delete(
        world.path(A + "/{b}"), headers={**world.bearer("b"), "If-Match": "1"}
    )
    assert gone.status_code == 200
    assert published_ids() == {world.ids["a"]}
    assert "RUE-A-BROUILLON-2" not in json.dumps(public_rows(world.app, SLUG))

    # Editing a draft as a draft keeps it out; submitting it publishes it.
    url = world.path(E + "/{id}", id=draft_id)
    page = _text(a.get(url))
    kept = a.post(
        url,
        data={
            "csrf_token": csrf_from(page),
            "revision": "1",
            "rue": "RUE-A-BROUILLON-2",
            "jours": "1",
            "action": "brouillon",
        },
    )
    assert kept.status_code == 302 and draft_id not in published_ids()
    sent = a.post(
        url,
        data={
            "csrf_token": csrf_from(page),
            "revision": "2",
            "rue": "Rue déposée",
            "jours": "1",
            "action": "deposer",
        },
    )
    assert sent.status_code == 302 and draft_id in published_ids()


SERVER_SLUG = "acces-datasette"


def test_datasette_never_shows_drafts_or_withdrawn(server, tmp_path):
    schema = tmp_path / "acces.json"
    schema.write_text(json.dumps(FORM), encoding="utf-8")
    slug = last_line(server.cli("schema", "import", str(schema), "--slug", SERVER_SLUG))
    assert slug == SERVER_SLUG
    api = requests.Session()
    api.headers["Authorization"] = f"Bearer {server.agent_token}"
    entries = server.url(f"/api/v1/forms/{slug}/entries")

    kept = api.post(entries, json={"rue": "SRV-DEPOSEE", "jours": 1})
    assert kept.status_code == 201
    gone = api.post(entries, json={"rue": "SRV-RETIREE", "jours": 2})
    assert gone.status_code == 201
    gone_id = gone.json()["id"]
    withdrawn = api.delete(f"{entries}/{gone_id}", headers={"If-Match": '"1"'})
    assert withdrawn.status_code == 200

    browser = sign_in_server(
        requests.Session(), server, "agent@paris.fr", "mot-de-passe-agent"
    )
    form_url = server.url(f"/formulaires/{slug}/")
    page = browser.get(form_url).text
    draft = browser.post(
        form_url,
        data={
            "csrf_token": csrf_from(page),
            "rue": "SRV-BROUILLON",
            "jours": "3",
            "action": "brouillon",
        },
        allow_redirects=False,
    )
    assert draft.status_code == 302, draft.text
    draft_id = int(urlsplit(draft.headers["Location"]).path.rsplit("/", 1)[1])
    assert api.get(f"{entries}/{draft_id}").json()["state"] == "draft"

    hidden_ids = {gone_id, draft_id}
    hidden_text = ("SRV-RETIREE", "SRV-BROUILLON")

    table = requests.get(
        server.url(f"/data/public/{slug}.json"),
        params={"_shape": "array", "_size": "max"},
    )
    assert table.status_code == 200
    assert [row["_id"] for row in table.json()] == [kept.json()["id"]]
    assert {row["_state"] for row in table.json()} == {"submitted"}
    for answer in (
        table,
        requests.get(server.url(f"/data/public/{slug}.csv"), params={"_size": "max"}),
    ):
        assert not any(t in answer.text for t in hidden_text)

    for entry_id in hidden_ids:
        row = requests.get(server.url(f"/data/public/{slug}/{entry_id}.json"))
        assert row.status_code == 404

    def sql(query):
        answer = requests.get(
            server.url("/data/public.json"), params={"sql": query, "_shape": "array"}
        )
        assert answer.status_code == 200, answer.text
        return answer.json()

    assert (
        sql(
            f'select _id from "{slug}" where _state in '
            "('draft', 'withdrawn', 'to_complete')"
        )
        == []
    )
    ids = ",".join(str(i) for i in hidden_ids)
    assert sql(f'select * from "{slug}" where _id in ({ids})') == []
    assert [r["_id"] for r in sql(f'select _id from "{slug}"')] == [kept.json()["id"]]
    # Nowhere else in public.db either.
    for table_row in sql("select name from sqlite_master where type = 'table'"):
        name = table_row["name"].replace('"', '""')
        dump = json.dumps(sql(f'select * from "{name}"'), ensure_ascii=False)
        assert not any(t in dump for t in hidden_text), table_row["name"]
