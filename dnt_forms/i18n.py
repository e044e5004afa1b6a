"""Languages: people's pages are French; the JSON API answers in English
when asked (`Accept-Language: en`), as INTERFACE.md says.

Messages are written in French in the code and marked with `gettext`;
`translations/en/LC_MESSAGES/messages.po` holds their English. After
changing a marked message, refresh the catalogue from the project's folder
(babel.cfg's paths are relative to it), write the new English, then compile:

    pybabel extract -F babel.cfg -k _l -o /tmp/messages.pot .
    pybabel update -i /tmp/messages.pot -d dnt_forms/translations
    pybabel compile -d dnt_forms/translations
"""

from __future__ import annotations

from pathlib import Path

from flask import has_request_context, request
from flask_babel import Babel

LANGUAGES = ("fr", "en")
TRANSLATIONS = Path(__file__).parent / "translations"


def select_locale() -> str:
    if has_request_context() and request.path.startswith("/api/"):
        return request.accept_languages.best_match(LANGUAGES, default="fr")
    return "fr"


def init_app(app) -> None:
    app.config.setdefault("BABEL_DEFAULT_LOCALE", "fr")
    Babel(
        app,
        locale_selector=select_locale,
        default_translation_directories=str(TRANSLATIONS),
    )
