"""Settings: defaults here, then the instance's config.py, then the environment."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

DEFAULTS = {
    # Entries posted through the API are small; anything larger is refused
    # with 413 before it is parsed.
    "MAX_CONTENT_LENGTH": 2 * 1024 * 1024,
    # Except a file sent to an admin's bulk import page (saved to disk as it
    # arrives); beyond this, `dnt-forms import` takes files of any size.
    "DNT_IMPORT_MAX_BYTES": 64 * 1024 * 1024,
    "SESSION_COOKIE_HTTPONLY": True,
    "SESSION_COOKIE_SAMESITE": "Lax",
    "SESSION_COOKIE_NAME": "dnt_session",
    "PERMANENT_SESSION_LIFETIME": 8 * 3600,
    "WTF_CSRF_TIME_LIMIT": 8 * 3600,
    # Secure cookies only when the service is reached over HTTPS: on plain
    # loopback a Secure cookie would never come back and nobody could sign in.
    "DNT_HTTPS": False,
    "DNT_DEFAULT_LICENSE": "Licence Ouverte 2.0",
    "DNT_DEFAULT_LICENSE_URL": "https://www.etalab.gouv.fr/licence-ouverte-open-licence/",
    "DNT_SQL_TIME_LIMIT_MS": 1000,
    "DNT_ONE_TIME_LINK_HOURS": 72,
    # Address people use to reach the service, for the links the CLI prints
    # (behind a proxy); unset, the address `serve` last listened on.
    "DNT_BASE_URL": os.environ.get("DNT_FORMS_BASE_URL"),
}


# Written by `serve` in the instance: the address it listens on.
SERVED_URL_FILE = "served_url"
DEFAULT_URL = "http://127.0.0.1:8000"


def base_url(config, instance: str | Path, served: str | None = None) -> str:
    """The address for links printed by commands: $DNT_FORMS_BASE_URL, else
    where `serve` listens (`served`, or as it last wrote in the instance: a
    port other than 8000 included)."""
    if config.get("DNT_BASE_URL"):
        return config["DNT_BASE_URL"].rstrip("/")
    if served:
        return served.rstrip("/")
    try:
        return (Path(instance) / SERVED_URL_FILE).read_text().strip() or DEFAULT_URL
    except OSError:
        return DEFAULT_URL


def instance_path() -> Path:
    """The instance folder: $DNT_FORMS_INSTANCE, else ./instance."""
    return Path(os.environ.get("DNT_FORMS_INSTANCE", "instance")).resolve()


def schemas_path() -> Path:
    """Folder of the shipped form schemas loaded by `serve`."""
    env = os.environ.get("DNT_FORMS_SCHEMAS")
    if env:
        return Path(env).resolve()

    here = Path("form_schemas")
    if here.is_dir():
        return here.resolve()

    # An editable install run from elsewhere still finds the repository's copy.
    return (Path(__file__).resolve().parent.parent / "form_schemas").resolve()


CONFIG_TEMPLATE = """\
# Configuration de cette instance de dnt-forms (créée par `dnt-forms init`).
# Gardez ce fichier privé : SECRET_KEY signe les sessions et les jetons CSRF.
SECRET_KEY = {secret!r}

# Passez à True quand le service est servi en HTTPS derrière un proxy :
# les cookies de session deviennent alors « Secure ».
DNT_HTTPS = False
"""


def write_instance_config(folder: Path) -> bool:
    """Create config.py with a fresh secret key; False if it already exists."""
    target = folder / "config.py"
    if target.exists():
        return False

    folder.mkdir(parents=True, exist_ok=True)
    target.write_text(CONFIG_TEMPLATE.format(secret=secrets.token_urlsafe(48)))
    target.chmod(0o600)
    return True
