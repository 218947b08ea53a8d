# Load the Celery app whenever Django starts, so that @shared_task binds to it
# and `delay_on_commit` finds the configured broker.
from .celery_app import app as celery_app

__all__ = ("celery_app",)
