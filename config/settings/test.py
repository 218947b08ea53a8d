"""Tests: real PostgreSQL and Redis on loopback (the machine's services), fast hashing.

`make test` checks that both servers answer before pytest starts; see scripts/services.sh.
"""

import os

from .base import *  # noqa: F403
from .base import env

DEBUG = False
SECRET_KEY = "test-secret-key-not-for-production-" + "x" * 32

DATABASES = {
    "default": env.db(
        "COUNTERSIGN_TEST_DATABASE_URL", default="postgres://postgres@127.0.0.1:5432/countersign"
    )
}

# Each pytest-xdist worker (`make check` runs `pytest -n auto`) and each run gets its own Redis
# key prefix, so that parallel runs share no rate-limit counter or window key; `clear()` deletes
# only the keys under that prefix (tests/redis_cache.py), where Django's would flush the
# database under every other worker.
REDIS_URL = env.str("COUNTERSIGN_TEST_REDIS_URL", default="redis://127.0.0.1:6379/14")
_RUN = os.environ.get("PYTEST_XDIST_WORKER", "main") + f"-{os.getpid()}"
CACHES = {
    "default": {
        "BACKEND": "tests.redis_cache.PrefixedRedisCache",
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": f"cs-test-{_RUN}",
    },
    # The window keys' secrets (petition/sealing.py), in Redis as in production.
    "sealing": {
        "BACKEND": "tests.redis_cache.PrefixedRedisCache",
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": f"cs-test-sealing-{_RUN}",
        "TIMEOUT": None,
    },
}
# Rows go with each test's transaction, the Redis keys stay: a page cached by one test
# would answer another's petition of the same slug. tests/petition/test_page_cache.py turns
# it on with a cleared cache.
COUNTERSIGN_PAGE_CACHE = False
# Tests that turn the page cache on set this too (tests/petition/test_page_cache.py).
COUNTERSIGN_PAGE_MEMORY_SECONDS = 0
CELERY_BROKER_URL = "memory://"
CELERY_TASK_ALWAYS_EAGER = True
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.InMemoryStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

# WhiteNoise looks at STATIC_ROOT at start-up; give it an empty folder rather than a warning.
STATIC_ROOT = BASE_DIR / "var" / "static-test"  # noqa: F405
STATIC_ROOT.mkdir(parents=True, exist_ok=True)

# 2048 is the protocol's floor; it keeps key generation in tests under a second.
COUNTERSIGN_KEY_BITS = 2048

# Tests make many requests from 127.0.0.1; the limits get their own test with small values.
COUNTERSIGN_RATE_LIMITS = {
    action: (10_000, 600)
    for action in ("email_codes", "credentials", "signatures", "withdrawals", "log", "flyer_scans")
}

# Test-only assets served same-origin under /static/test-assets/ so that the Chromium tests
# can load axe-core with the Content-Security-Policy still enforced (`make test` runs
# `npm ci` first). Production settings never list this folder.
STATICFILES_DIRS = [
    *STATICFILES_DIRS,  # noqa: F405
    ("test-assets", BASE_DIR / "node_modules" / "axe-core"),  # noqa: F405
]
# Tests about something else see each signature published at once (the embedded default);
# tests about publication give their petition a real policy (tests/petition/test_publication.py).
COUNTERSIGN_PUBLISH_INTERVAL = 0
COUNTERSIGN_PUBLISH_MIN_BATCH = 1
# DEBUG is off here, so the safe floor would refuse that immediate default: tests about
# something else keep it through the operator's override. The floor's own tests switch the
# override off (tests/petition/test_publication_floor.py).
COUNTERSIGN_ALLOW_UNSAFE_PUBLICATION = True
