"""System checks that keep production off the embedded default.

Registered by organizing.apps; `manage.py check --deploy` runs them, and config/wsgi.py runs
them again when gunicorn loads the app because gunicorn runs no checks of its own.
"""

from django.conf import settings
from django.core import checks
from django.core.exceptions import ImproperlyConfigured

from config.secrets import GENERATE_KEY_ENCRYPTION_KEY, key_encryption_key_problem
from petition.blindrsa import MIN_BITS


@checks.register(checks.Tags.security, deploy=True)
def production_services(app_configs=None, **kwargs) -> list[checks.CheckMessage]:
    if not getattr(settings, "COUNTERSIGN_PRODUCTION", False):
        return []
    errors = []
    engine = settings.DATABASES["default"]["ENGINE"]
    if "postgresql" not in engine:
        errors.append(
            checks.Error(
                f"Production needs PostgreSQL, DATABASE_URL points at {engine}.",
                hint="Set DATABASE_URL=postgres://user:password@host:5432/countersign",
                id="countersign.E001",
            )
        )
    broker = settings.CELERY_BROKER_URL or ""
    if not broker.startswith(("redis://", "rediss://", "unix://")):
        errors.append(
            checks.Error(
                "Production needs a Redis broker for Celery.",
                hint="Set REDIS_URL=redis://host:6379/0",
                id="countersign.E002",
            )
        )
    if settings.CELERY_TASK_ALWAYS_EAGER:
        errors.append(
            checks.Error(
                "Tasks must run on the Celery worker in production.",
                hint="Unset CELERY_TASK_ALWAYS_EAGER.",
                id="countersign.E003",
            )
        )
    if "redis" not in settings.CACHES["default"]["BACKEND"].lower():
        errors.append(
            checks.Error(
                "Production needs the Redis cache: rate limits must be shared by all workers.",
                id="countersign.E004",
            )
        )
    sealing = settings.CACHES.get("sealing", {})
    if "redis" not in sealing.get("BACKEND", "").lower() or sealing.get("TIMEOUT", 0) is not None:
        errors.append(
            checks.Error(
                "Production needs the sealing store in Redis, without expiry: every worker "
                "must read the window keys' secrets, which are never in the database.",
                hint="Set COUNTERSIGN_SEALING_REDIS_URL (docs/operations.md, the sealing store).",
                id="countersign.E020",
            )
        )
    if settings.EMAIL_BACKEND.rsplit(".", 1)[-1].lower().startswith(("console", "locmem")):
        errors.append(
            checks.Error(
                "Production needs real mail delivery.",
                hint="Set EMAIL_URL=smtp+tls://user:password@host:587",
                id="countersign.E005",
            )
        )
    if getattr(settings, "COUNTERSIGN_WEBHOOK_ALLOW_LOOPBACK", False):
        errors.append(
            checks.Error(
                "Webhooks may not call loopback addresses in production.",
                hint="Unset COUNTERSIGN_WEBHOOK_ALLOW_LOOPBACK (it exists for tests).",
                id="countersign.E007",
            )
        )
    problem = key_encryption_key_problem(
        settings.COUNTERSIGN_KEY_ENCRYPTION_KEY, settings.SECRET_KEY
    )
    if problem:
        errors.append(
            checks.Error(
                problem,
                hint=f"Generate one with: {GENERATE_KEY_ENCRYPTION_KEY}",
                id="countersign.E008",
            )
        )
    return errors


@checks.register(checks.Tags.security)
def key_size(app_configs=None, **kwargs) -> list[checks.CheckMessage]:
    if settings.COUNTERSIGN_KEY_BITS < MIN_BITS:
        return [
            checks.Error(
                f"COUNTERSIGN_KEY_BITS must be at least {MIN_BITS} (protocol v1).",
                id="countersign.E006",
            )
        ]
    return []


@checks.register(checks.Tags.security, deploy=True)
def publication_defaults(app_configs=None, **kwargs) -> list[checks.CheckMessage]:
    """Immediate publication lets anyone who saw a coworker get a code spot their signature
    (docs/threat-model.md, timing): fine for a demo, a warning in production."""
    if not getattr(settings, "COUNTERSIGN_PRODUCTION", False):
        return []
    if settings.COUNTERSIGN_PUBLISH_INTERVAL == 0 and settings.COUNTERSIGN_PUBLISH_MIN_BATCH <= 1:
        return [
            checks.Warning(
                "New petitions will publish each signature the moment it is made.",
                hint="Unset COUNTERSIGN_PUBLISH_INTERVAL and COUNTERSIGN_PUBLISH_MIN_BATCH "
                "(defaults 3600 and 5).",
                id="countersign.W001",
            )
        ]
    return []


def raise_on_production_errors() -> None:
    errors = [e for e in production_services() if e.is_serious()]
    if errors:
        raise ImproperlyConfigured("; ".join(f"{e.id}: {e.msg}" for e in errors))
