"""`dnt-forms serve`: prepare the instance, then run gunicorn."""

from __future__ import annotations

import logging
import os
from pathlib import Path

from gunicorn.app.base import BaseApplication

from .config import SERVED_URL_FILE, base_url, instance_path, schemas_path

logger = logging.getLogger(__name__)

ADMIN_EMAIL_ENV = "DNT_FORMS_ADMIN_EMAIL"


def prepare(served: str) -> list[str]:
    """Create the instance, load form_schemas/, repair public.db, first admin.

    Returns the lines to show the person who started the service.
    """
    from . import create_app
    from .auth import create_user, make_one_time_link
    from .db import db
    from .models import User
    from .publish import sync_all
    from .schemas.versions import load_directory

    app = create_app()
    lines = [f"Instance : {app.instance_path}"]
    # The links that later commands print point where people reach us.
    (Path(app.instance_path) / SERVED_URL_FILE).write_text(served + "\n")
    link_base = base_url(app.config, app.instance_path, served)
    with app.app_context():
        folder = schemas_path()
        if folder.is_dir():
            for name, outcome, messages in load_directory(folder):
                lines.append(f"form_schemas/{name} : {outcome}")
                if outcome == "refusé":
                    lines.extend(f"  erreur : {m}" for m in messages)
        else:
            lines.append(f"Pas de dossier de schémas : {folder}")

        store = app.extensions["dnt_public"]
        sync_all(store)

        admin = (
            db.session.execute(db.select(User).filter_by(role="admin"))
            .scalars()
            .first()
        )
        if admin is None:
            email = os.environ.get(ADMIN_EMAIL_ENV, "admin@localhost")
            admin = create_user(email, "admin")
            token = make_one_time_link(admin)
            lines.append(f"Premier administrateur créé : {email}")
            lines.append(
                "Lien de connexion à usage unique (choisissez votre mot de passe) :"
            )
            lines.append(f"{link_base}/connexion/lien/{token}")

        # Nothing opened here may cross the fork into the workers.
        store.close()
        db.engine.dispose()
    return lines


class _Gunicorn(BaseApplication):
    def __init__(self, options: dict, instance: str):
        self.options = options
        self.instance = instance
        super().__init__()

    def load_config(self):
        for key, value in self.options.items():
            # Settings unknown to an older gunicorn are left out.
            if key in self.cfg.settings:
                self.cfg.set(key, value)

    def load(self):
        # Runs in each worker after the fork (no preload): each worker owns
        # its connections and its Datasette event loop.
        from . import create_wsgi_app

        return create_wsgi_app(instance=self.instance)


def run_gunicorn(host: str, port: int, workers: int) -> None:
    options = {
        "bind": f"{host}:{port}",
        "workers": workers,
        "worker_class": "gthread",
        "threads": 4,
        "timeout": 60,
        "graceful_timeout": 10,
        "accesslog": "-",
        "preload_app": False,
        # gunicorn 24+ opens a control socket in the home folder by default;
        # two services (or a test run beside a service) would fight over it.
        "control_socket_disable": True,
    }
    _Gunicorn(options, str(instance_path())).run()
