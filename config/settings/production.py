"""Production: PostgreSQL, Redis (cache and Celery broker), SMTP, TLS, gunicorn.

Every variable below is required: a missing one stops the process at import with
ImproperlyConfigured naming it, and config/checks.py rejects values that would silently
fall back to the embedded default (SQLite, in-process tasks, console mail).
See docs/operations.md.
"""

from django.core.exceptions import ImproperlyConfigured

from config.secrets import GENERATE_KEY_ENCRYPTION_KEY, key_encryption_key_problem

from .base import *  # noqa: F403
from .base import env

COUNTERSIGN_PRODUCTION = True
DEBUG = False

SECRET_KEY = env.str("DJANGO_SECRET_KEY")
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS")
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])

DATABASES = {"default": env.db("DATABASE_URL")}
DATABASES["default"]["CONN_MAX_AGE"] = env.int("DATABASE_CONN_MAX_AGE", default=60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True

REDIS_URL = env.str("REDIS_URL")
# A Redis that is down or hung answers within two seconds, so a request degrades as
# documented (docs/operations.md, "When a part fails") instead of waiting for the
# proxy's timeout.
REDIS_TIMEOUTS = {"socket_connect_timeout": 2, "socket_timeout": 2}
CACHES = {
    "default": {
        "BACKEND": "config.redis_cache.RedisCache",
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": env.str("COUNTERSIGN_CACHE_PREFIX", default="countersign"),
        "OPTIONS": REDIS_TIMEOUTS,
    },
    # Window keys' secrets (petition/sealing.py): never in the database, never expiring.
    # Point COUNTERSIGN_SEALING_REDIS_URL at a Redis with persistence and no eviction
    # (docs/operations.md, "The sealing store").
    "sealing": {
        "BACKEND": "config.redis_cache.RedisCache",
        "LOCATION": env.str("COUNTERSIGN_SEALING_REDIS_URL", default=REDIS_URL),
        "KEY_PREFIX": env.str("COUNTERSIGN_SEALING_PREFIX", default="countersign-sealing"),
        "TIMEOUT": None,
        "OPTIONS": REDIS_TIMEOUTS,
    },
}
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default=REDIS_URL)
CELERY_TASK_ALWAYS_EAGER = False

globals().update(env.email_url("EMAIL_URL"))
ACCOUNT_DEFAULT_HTTP_PROTOCOL = "https"
MFA_WEBAUTHN_ALLOW_INSECURE_ORIGIN = False

STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "config.storage.StaticStorage"},
}
WHITENOISE_USE_FINDERS = False

# https://docs.djangoproject.com/en/5.2/howto/deployment/checklist/
SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=True)
SECURE_HSTS_SECONDS = env.int("DJANGO_SECURE_HSTS_SECONDS", default=31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("DJANGO_SECURE_HSTS_INCLUDE_SUBDOMAINS", default=True)
SECURE_HSTS_PRELOAD = env.bool("DJANGO_SECURE_HSTS_PRELOAD", default=True)
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
SESSION_COOKIE_NAME = "__Host-sessionid"
CSRF_COOKIE_NAME = "__Host-csrftoken"

COUNTERSIGN_BASE_URL = env.str("COUNTERSIGN_BASE_URL")
COUNTERSIGN_KEY_ENCRYPTION_KEY = env.str("COUNTERSIGN_KEY_ENCRYPTION_KEY")
if _problem := key_encryption_key_problem(COUNTERSIGN_KEY_ENCRYPTION_KEY, SECRET_KEY):
    raise ImproperlyConfigured(f"{_problem} Generate one with: {GENERATE_KEY_ENCRYPTION_KEY}")

# One hour and batches of five unless the operator says otherwise (docs/operations.md).
COUNTERSIGN_PUBLISH_INTERVAL = env.int("COUNTERSIGN_PUBLISH_INTERVAL", default=3600)
COUNTERSIGN_PUBLISH_MIN_BATCH = env.int("COUNTERSIGN_PUBLISH_MIN_BATCH", default=5)
