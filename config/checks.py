"""System checks that keep production off the embedded default.

Registered by config/apps.py (ProjectConfig.ready); `manage.py check --deploy` runs them,
and config/wsgi.py runs them again when gunicorn loads the app because gunicorn runs no
checks of its own.
"""

from django.conf import settings
from django.core import checks
from django.core.exceptions import ImproperlyConfigured

from config.demo_secrets import DEVELOPMENT_SECRET_KEY
from config.secrets import GENERATE_KEY_ENCRYPTION_KEY, key_encryption_key_problem
from petition import blindrsa
from petition.blindrsa import MIN_BITS
from petition.publication_policy import (
    SAFE_PUBLISH_MAX_WAIT,
    SAFE_PUBLISH_MIN_BATCH,
    below_safe_floor,
)

# Mail backends that deliver nothing: Django's own (and the project's console backend) keep
# the message in the process, print it or write it to a file. Every one of them is a class
# named EmailBackend, so the check reads the module that holds it.
NON_DELIVERING_MAIL_MODULES = frozenset(
    {
        "django.core.mail.backends.console",
        "django.core.mail.backends.locmem",
        "django.core.mail.backends.dummy",
        "django.core.mail.backends.filebased",
        "config.console_mail",
    }
)


def delivers_mail(backend: str) -> bool:
    """Whether EMAIL_BACKEND (a dotted path to a class) sends mail out of the process."""
    module = backend.rsplit(".", 1)[0]
    return module not in NON_DELIVERING_MAIL_MODULES


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
                id="countersign.E021",
            )
        )
    if not delivers_mail(settings.EMAIL_BACKEND):
        errors.append(
            checks.Error(
                f"Production needs real mail delivery, EMAIL_BACKEND is {settings.EMAIL_BACKEND}: "
                "console or file mail would write work addresses and their codes to a log.",
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
def blind_sign_backend(app_configs=None, **kwargs) -> list[checks.CheckMessage]:
    """Production should sign through OpenSSL (the `openssl` extra): the gmpy2 fallback is
    as safe but takes about twice the CPU per credential, which matters on launch day."""
    if blindrsa.DEFAULT_BACKEND == "openssl":
        return []
    return [
        checks.Warning(
            "BlindSign is using the gmpy2 fallback: M2Crypto (the `openssl` extra) is not "
            "installed, so each credential costs about twice the CPU.",
            hint="pip install '.[openssl]' (needs swig, gcc, libssl-dev, python3-dev); "
            "see docs/operations.md.",
            id="countersign.W002",
        )
    ]


# Host names that only this machine can send: serving them alone is serving 127.0.0.1.
LOOPBACK_HOSTS = {"127.0.0.1", "localhost", "[::1]", "::1"}


@checks.register(checks.Tags.security)
def development_key_stays_local(app_configs=None, **kwargs) -> list[checks.CheckMessage]:
    """The public development key (config/demo_secrets.py) lets anyone who reaches the
    server forge an invitation link and sign up as the invitee: refused as soon as the site
    answers any name but loopback. `make run` and `make run-phone` make a key of their own."""
    if settings.SECRET_KEY != DEVELOPMENT_SECRET_KEY:
        return []
    outside = sorted(set(settings.ALLOWED_HOSTS) - LOOPBACK_HOSTS)
    if not outside:
        return []
    return [
        checks.Error(
            "The public development DJANGO_SECRET_KEY is in use while the site answers "
            f"{', '.join(outside)}.",
            hint="Set DJANGO_SECRET_KEY, or run the demo through `make run` / `make run-phone` "
            "(python -m config.demo_secrets …), which make one in var/.",
            id="countersign.E020",
        )
    ]


@checks.register(checks.Tags.security, deploy=True)
def publication_defaults(app_configs=None, **kwargs) -> list[checks.CheckMessage]:
    """Defaults below the safe floor let anyone who saw a coworker get a code spot their
    signature (docs/threat-model.md, timing: a batch of one is that person): fine for a
    demo, an error in production unless the operator overrides it on purpose (then a warning)."""
    if not getattr(settings, "COUNTERSIGN_PRODUCTION", False):
        return []
    if not below_safe_floor(
        min_batch=settings.COUNTERSIGN_PUBLISH_MIN_BATCH,
        max_wait=settings.COUNTERSIGN_PUBLISH_MAX_WAIT,
    ):
        return []
    message = (
        "New petitions would publish in batches smaller than "
        f"{SAFE_PUBLISH_MIN_BATCH} or with a longest wait under {SAFE_PUBLISH_MAX_WAIT} s, "
        "so a watcher could pick out one signer."
    )
    hint = (
        "Unset COUNTERSIGN_PUBLISH_MIN_BATCH and COUNTERSIGN_PUBLISH_MAX_WAIT (defaults 5 and "
        "86400), or set COUNTERSIGN_ALLOW_UNSAFE_PUBLICATION=1 if that is really meant."
    )
    if settings.COUNTERSIGN_ALLOW_UNSAFE_PUBLICATION:
        return [checks.Warning(message, hint=hint, id="countersign.W001")]
    return [checks.Error(message, hint=hint, id="countersign.E009")]


def raise_on_production_errors() -> None:
    errors = [e for e in [*production_services(), *publication_defaults()] if e.is_serious()]
    if errors:
        raise ImproperlyConfigured("; ".join(f"{e.id}: {e.msg}" for e in errors))
