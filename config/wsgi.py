"""WSGI entry point for gunicorn (see docs/operations.md)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.production")

application = get_wsgi_application()

# gunicorn does not run Django's system checks; refuse to serve on a configuration that
# config/checks.py rejects, rather than limp along on a wrong database or broker.
from config.checks import raise_on_production_errors  # noqa: E402

raise_on_production_errors()
