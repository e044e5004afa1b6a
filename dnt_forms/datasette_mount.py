"""Datasette, read-only over public.db, mounted at /data/ in the same process."""

from __future__ import annotations

import logging
import os
import sqlite3
import threading
from pathlib import Path

from a2wsgi import ASGIMiddleware
from datasette import hookimpl
from datasette.app import Datasette
from datasette.plugins import pm
from datasette.url_builder import Urls
from datasette.utils import PrefixedUrlString

from .publish import FIELDS_TABLE, FORMS_TABLE

logger = logging.getLogger(__name__)

BASE_URL = "/data/"


class CatalogueMetadata:
    """Datasette metadata read from the catalogue tables of public.db.

    Every worker reads it from the file, so a form imported through one
    worker gets its descriptions in all of them without a restart.
    """

    def __init__(self, path: Path, defaults: dict):
        self.path = Path(path)
        self.defaults = defaults
        self._conn = None
        self._pid = None
        self._version = None
        self._metadata: dict = {}
        self._lock = threading.Lock()

    def get(self) -> dict:
        with self._lock:
            try:
                conn = self._connection()
                # data_version changes whenever another connection commits.
                version = conn.execute("PRAGMA data_version").fetchone()[0]
                if version != self._version or not self._metadata:
                    self._metadata = self._read(conn)
                    self._version = version
            except sqlite3.Error:
                logger.exception("could not read the catalogue of %s", self.path)
            return self._metadata

    def _connection(self):
        if self._conn is None or self._pid != os.getpid():
            self._conn = sqlite3.connect(
                f"file:{self.path}?mode=ro", uri=True, check_same_thread=False
            )
            self._pid = os.getpid()
        return self._conn

    def _read(self, conn) -> dict:
        tables: dict = {
            FORMS_TABLE: {
                "title": "Catalogue des formulaires",
                "description": "Chaque formulaire publié, sa licence et sa source.",
            },
            FIELDS_TABLE: {
                "title": "Catalogue des champs",
                "description": "Chaque champ publié et sa finalité : pourquoi il est "
                "demandé et qui le réutilise.",
            },
        }
        names = {r[0] for r in conn.execute("select name from sqlite_master")}
        if FORMS_TABLE not in names or FIELDS_TABLE not in names:
            return self._wrap(tables)

        for row in conn.execute(
            f"select formulaire, titre, description, licence, licence_url, source, "
            f"source_url from {FORMS_TABLE}"
        ):
            slug, title, description, license_, license_url, source, source_url = row
            table = {"title": title, "description": description, "columns": {}}
            for key, value in (
                ("license", license_),
                ("license_url", license_url),
                ("source", source),
                ("source_url", source_url),
            ):
                if value:
                    table[key] = value
            tables[slug] = table

        fields = conn.execute(
            f"select formulaire, tableau, champ, titre, finalite from {FIELDS_TABLE}"
        ).fetchall()
        child_tables = {table for slug, table, *_ in fields if table != slug}
        for slug, table, column, title, purpose in fields:
            if slug not in tables:
                continue
            child = f"{slug}__{column}"
            if table == slug and child in child_tables:
                # The row describing a list: it titles the list's own table.
                tables[child] = {
                    "title": f"{tables[slug]['title']} : {title}",
                    "description": purpose,
                    "columns": {},
                    **{
                        k: v
                        for k, v in tables[slug].items()
                        if k in ("license", "license_url", "source", "source_url")
                    },
                }
                continue
            tables.setdefault(table, {"columns": {}})["columns"][column] = purpose
        for name, table in tables.items():
            if name in child_tables:
                table["columns"].update(CHILD_DESCRIPTIONS)
            elif "columns" in table:
                table["columns"].update(RESERVED_DESCRIPTIONS)
        return self._wrap(tables)

    def _wrap(self, tables: dict) -> dict:
        return {"databases": {"public": {"tables": tables}}}


RESERVED_DESCRIPTIONS = {
    "_id": "Identifiant de l'entrée (le même que dans l'API).",
    "_revision": "Numéro de révision de l'entrée, augmenté à chaque modification.",
    "_form_version": "Version du formulaire sous laquelle l'entrée a été validée.",
    "_state": "État de l'entrée : submitted (déposée) ou to_complete (à compléter).",
    "_organisation": "Code SIREN ou INSEE de l'organisation qui a produit l'entrée.",
    "_created_at": "Date et heure de création (UTC).",
    "_updated_at": "Date et heure de dernière modification (UTC).",
}


class _MountedUrls(Urls):
    """Datasette's URL builder, aware that request paths keep the /data/ prefix.

    Datasette 0.65 builds its "next page" links from request.path, which
    already starts with base_url, then adds base_url again
    (/data/data/public/...). A path that already carries the prefix is
    taken as it is.
    """

    def path(self, path, format=None):
        if not isinstance(path, PrefixedUrlString) and path.startswith(BASE_URL):
            path = PrefixedUrlString(path)
        return super().path(path, format=format)


class _MountedDatasette(Datasette):
    @property
    def urls(self):
        return _MountedUrls(self)


CHILD_DESCRIPTIONS = {
    "_entry_id": "Identifiant de l'entrée à laquelle cette ligne appartient.",
    "_position": "Rang de la ligne dans la liste de l'entrée (à partir de 0).",
}


class _Plugin:
    def __init__(self, catalogue: CatalogueMetadata):
        self.catalogue = catalogue
        self.datasette = None
        # Datasette lists plugins by module name.
        self.__name__ = "dnt_forms.datasette_mount"

    @hookimpl
    def get_metadata(self, datasette, key, database, table):
        # Datasette's plugin manager is global to the process: answer only
        # for our own instance.
        if datasette is not self.datasette:
            return {}
        return self.catalogue.get()


def make_datasette(public_path: Path, secret: str, sql_time_limit_ms: int) -> Datasette:
    metadata = {
        "title": "dnt-forms : données publiées",
        "description": "Entrées des formulaires partagés, publiées en lecture seule "
        "pour être réutilisées au lieu d'être redemandées.",
        "license": "Licence Ouverte 2.0",
        "license_url": "https://www.etalab.gouv.fr/licence-ouverte-open-licence/",
    }
    ds = _MountedDatasette(
        files=[str(public_path)],
        metadata=metadata,
        secret=secret,
        settings={
            "base_url": BASE_URL,
            "sql_time_limit_ms": sql_time_limit_ms,
            "max_returned_rows": 1000,
            "default_page_size": 100,
            "allow_download": True,
            "num_sql_threads": 2,
            # Suggesting facets runs a query per column on every table page:
            # seconds on a form of a few hundred thousand entries. Facets
            # asked for (`?_facet=`) still work.
            "suggest_facets": False,
        },
    )
    plugin = _Plugin(CatalogueMetadata(public_path, metadata))
    plugin.datasette = ds
    pm.register(plugin, name=f"dnt-forms-catalogue-{id(ds)}")
    return ds


class Dispatcher:
    """One WSGI app: Datasette under /data/, Flask for everything else."""

    def __init__(self, flask_app, datasette: Datasette):
        self.flask_app = flask_app
        self.datasette = datasette
        self.datasette_wsgi = ASGIMiddleware(datasette.app())

    def __call__(self, environ, start_response):
        path = environ.get("PATH_INFO", "")
        if path == BASE_URL.rstrip("/"):
            start_response("301 Moved Permanently", [("Location", BASE_URL)])
            return [b""]
        if path.startswith(BASE_URL):
            return self.datasette_wsgi(environ, start_response)
        return self.flask_app(environ, start_response)
