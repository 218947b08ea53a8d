"""The project package: settings, URLs, WSGI, the Celery app and how tasks are started
(background.py), checks, logging and error pages."""

# Load the Celery app whenever Django starts, so that @shared_task binds to it
# and a task sent through config/background.py finds the configured broker.
from .celery_app import app as celery_app

__all__ = ("celery_app",)
