"""dnt-forms: shared forms generated from schemas, republished with Datasette."""

from __future__ import annotations

import logging
from pathlib import Path

from flask import Flask, current_app, render_template, request
from flask_wtf.csrf import CSRFError, CSRFProtect
from sqlalchemy.exc import OperationalError
from werkzeug.routing import IntegerConverter

from .config import DEFAULTS, instance_path, write_instance_config
from .db import add_missing_columns, db, engine_options
from .errors import StoreBusyError, is_busy

__all__ = ["create_app", "create_wsgi_app"]

csrf = CSRFProtect()
logger = logging.getLogger(__name__)

ERROR_PAGES = {
    400: ("Requête incorrecte", "La demande envoyée n'a pas pu être lue."),
    403: ("Accès refusé", "Votre compte ne permet pas d'ouvrir cette page."),
    404: (
        "Page introuvable",
        "Cette adresse ne correspond à aucune page. "
        "Vérifiez-la ou revenez à la liste des formulaires.",
    ),
    405: ("Méthode non permise", "Cette page ne s'utilise pas ainsi."),
    409: ("Conflit", "Cette action n'est plus possible : la donnée a changé."),
    413: (
        "Envoi trop volumineux",
        "Le contenu envoyé dépasse la taille permise (2 Mo ; 64 Mo pour un "
        "fichier à importer). Un fichier plus gros s'importe avec la commande "
        "dnt-forms import.",
    ),
    503: (
        "Service occupé",
        "Une importation de données occupe le service : rien n'a été enregistré. "
        "Revenez à la page précédente et renvoyez dans une minute.",
    ),
    500: (
        "Erreur interne",
        "Une erreur inattendue est survenue ; elle est "
        "enregistrée. Vos données déjà enregistrées ne sont pas perdues.",
    ),
}


def create_app(test_config: dict | None = None, instance: Path | None = None) -> Flask:
    """Build the Flask app on an instance folder, creating it if needed."""
    folder = Path(instance) if instance else instance_path()
    folder.mkdir(parents=True, exist_ok=True)
    write_instance_config(folder)

    app = Flask(__name__, instance_path=str(folder), instance_relative_config=True)
    app.config.from_mapping(DEFAULTS)
    app.config["SQLALCHEMY_DATABASE_URI"] = f"sqlite:///{folder / 'private.db'}"
    app.config["SQLALCHEMY_ENGINE_OPTIONS"] = engine_options()
    app.config.from_pyfile("config.py", silent=True)
    if test_config:
        app.config.update(test_config)
    app.config["SESSION_COOKIE_SECURE"] = bool(app.config["DNT_HTTPS"])
    app.config["PREFERRED_URL_SCHEME"] = "https" if app.config["DNT_HTTPS"] else "http"

    app.json.ensure_ascii = False
    # Field order is meaningful: a client builds its form from the schema.
    app.json.sort_keys = False
    db.init_app(app)
    # Before the CSRF check, which reads the body under the usual limit.
    app.before_request(_upload_limit)
    csrf.init_app(app)
    from .i18n import init_app as init_i18n

    init_i18n(app)

    from . import models  # noqa: F401  (tables must be known before create_all)
    from .publish import PublicStore

    with app.app_context():
        db.create_all()
        for column in add_missing_columns():
            logger.info("private.db: column %s added", column)
    store = PublicStore(folder / "public.db")
    store.ensure_catalogue()
    app.extensions["dnt_public"] = store

    _register_blueprints(app)
    _register_error_pages(app)
    return app


class SqliteIntegerConverter(IntegerConverter):
    """`<int:…>` limited to 18 digits, within SQLite's 64-bit integers.

    A longer number matches no route (404) instead of overflowing SQLite; a
    bound checked after matching would make werkzeug answer 405 for the
    methods of the same path.
    """

    regex = r"\d{1,18}"


def _register_blueprints(app: Flask) -> None:
    app.url_map.converters["int"] = SqliteIntegerConverter
    from .admin import bp as admin_bp
    from .api import bp as api_bp
    from .views import bp as views_bp
    from .views.auth import bp as auth_bp

    # The API authenticates each call with a bearer token, never a cookie,
    # so a cross-site request cannot ride on a session: no CSRF token there.
    csrf.exempt(api_bp)
    # These views check the CSRF token themselves through their FlaskForm,
    # so that a stale token shows the page again with what was typed instead
    # of a bare 400 that would lose it.
    from .admin.schemas import schema_edit, schema_new
    from .views import new_entry
    from .views.auth import login, one_time_link

    for view in (new_entry, login, one_time_link, schema_new, schema_edit):
        csrf.exempt(view)
    app.register_blueprint(views_bp)
    app.register_blueprint(auth_bp)
    app.register_blueprint(admin_bp)
    app.register_blueprint(api_bp)


def _upload_limit() -> None:
    """The bulk import page takes spreadsheets, far larger than entries."""
    if request.endpoint == "admin.bulk_import":
        request.max_content_length = current_app.config["DNT_IMPORT_MAX_BYTES"]


def _register_error_pages(app: Flask) -> None:
    from werkzeug.exceptions import HTTPException

    def render_error(exc):
        # A failed write leaves the session unusable; the page (its menu
        # reads the account) needs it back.
        db.session.rollback()
        code = exc.code if isinstance(exc, HTTPException) else 500
        if isinstance(exc, StoreBusyError) or (
            isinstance(exc, OperationalError) and is_busy(exc)
        ):
            code = 503
        if code == 500:
            logger.exception("failure on %s %s", request.method, request.path)
        if request.path.startswith("/api/"):
            # Code-specific handlers win over the API blueprint's own, and
            # unknown API paths never reach the blueprint: answer in JSON here.
            from .api import SUMMARIES, envelope

            response = envelope(code, SUMMARIES.get(code, str(exc)))
            if code == 503:
                response.headers["Retry-After"] = "60"
            return response
        title, text = ERROR_PAGES.get(code, ("Erreur", str(exc)))
        if isinstance(exc, CSRFError):
            title = "Session expirée"
            text = (
                "Le jeton de sécurité du formulaire manque ou a expiré. "
                "Revenez à la page précédente, rechargez-la et recommencez."
            )
        headers = {"Retry-After": "60"} if code == 503 else {}
        return (
            render_template("error.html", code=code, heading=title, text=text),
            code,
            headers,
        )

    for code in ERROR_PAGES:
        app.register_error_handler(code, render_error)
    # A write that waited out the busy timeout, wherever it was.
    app.register_error_handler(StoreBusyError, render_error)
    app.register_error_handler(OperationalError, render_error)


def create_wsgi_app(instance: Path | None = None):
    """Flask and Datasette on one WSGI callable, for gunicorn."""
    from .datasette_mount import Dispatcher, make_datasette

    app = create_app(instance=instance)
    datasette = make_datasette(
        Path(app.instance_path) / "public.db",
        secret=app.config["SECRET_KEY"],
        sql_time_limit_ms=app.config["DNT_SQL_TIME_LIMIT_MS"],
    )
    return Dispatcher(app, datasette)
