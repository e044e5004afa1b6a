"""Entry point for gunicorn: `gunicorn wsgi:app`.

Each worker imports this module after the fork, so each gets its own
database connections and its own Datasette event loop.
"""

from dnt_forms import create_wsgi_app

app = create_wsgi_app()
