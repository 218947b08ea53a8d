"""Settings for Countersign: the embedded default, overridden by environment variables.

With nothing set, the app runs on SQLite with in-process tasks, console email and a
local-memory cache; `make run` adds a Celery worker and beat on a file-system broker in
`var/` (scripts/run_demo.py) and needs nothing else either. Production sets the variables
listed in `.env.example` and uses `config.settings.production`, which refuses to start
without them.
"""

from pathlib import Path

import environ
from celery.schedules import crontab
from csp.constants import NONE, SELF

from config import demo_broker
from config.demo_secrets import DEVELOPMENT_SECRET_KEY

BASE_DIR = Path(__file__).resolve().parent.parent.parent

env = environ.Env()

DEBUG = env.bool("DJANGO_DEBUG", default=False)
# An insecure key is fine for the embedded default only; production.py requires its own
# and `check --deploy` rejects this one. The demo commands (`make run`, `make run-phone`)
# set a random one of their own, kept in var/ (config/demo_secrets.py).
SECRET_KEY = env.str("DJANGO_SECRET_KEY", default=DEVELOPMENT_SECRET_KEY)
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]"])

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "organizing",
    "petition",
    # The project's own system checks (config/checks.py), registered in its ready().
    "config.apps.ProjectConfig",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "config.limits.PermissionsPolicyMiddleware",
    # Inside SecurityMiddleware, which only fills Referrer-Policy when none is set.
    "organizing.middleware.StaffReferrerPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "csp.middleware.CSPMiddleware",
    # Oversized bodies get 413 before anything reads them (config/limits.py), with the
    # headers of the middleware above.
    "config.limits.BodySizeLimitMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    # Only with DJANGO_DEBUG=1: the app's 404 page instead of Django's list of routes.
    "config.errors.DebugNotFoundMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Django's LocaleMiddleware reads a language cookie; this one never does (config/i18n.py).
    # After authentication: a signed-in staff member's own language applies to their pages.
    "config.i18n.LanguageMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    # After authentication: every staff URL needs a signed-in user with MFA (P5).
    "organizing.middleware.StaffMFAMiddleware",
    # PostgreSQL or Redis down under a view (a restart; allauth's login limits): 503 and
    # Retry-After, not 500.
    "config.errors.UnavailableMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
                # The same page in every language: switcher and hreflang (config/i18n.py).
                "config.i18n.languages",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------
# SQLite in WAL mode with a busy timeout is the embedded default; DATABASE_URL switches to
# PostgreSQL. https://docs.djangoproject.com/en/5.2/ref/databases/#sqlite-notes
SQLITE_PATH = Path(env.str("COUNTERSIGN_SQLITE_PATH", default=str(BASE_DIR / "var" / "db.sqlite3")))
if env.str("DATABASE_URL", default=""):
    DATABASES = {"default": env.db("DATABASE_URL")}
    DATABASES["default"].setdefault("CONN_MAX_AGE", 60)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": SQLITE_PATH,
            "OPTIONS": {
                "transaction_mode": "IMMEDIATE",
                "timeout": 20,
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            },
        }
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache, broker, tasks -------------------------------------------------------------
REDIS_URL = env.str("REDIS_URL", default="")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "config.redis_cache.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": env.str("COUNTERSIGN_CACHE_PREFIX", default="countersign"),
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
# The sealing store holds the secrets of the publication windows' keys (petition/sealing.py),
# which must not be in the database: a waiting signature is sealed under one. Entries never
# expire and are never culled (a lost secret leaves its waiting signatures unreadable); the
# batch deletes them. Redis when there is one, else files under var/, which every process of
# the embedded default shares. See docs/operations.md, "The sealing store".
SEALING_REDIS_URL = env.str("COUNTERSIGN_SEALING_REDIS_URL", default=REDIS_URL)
if SEALING_REDIS_URL:
    CACHES["sealing"] = {
        "BACKEND": "config.redis_cache.RedisCache",
        "LOCATION": SEALING_REDIS_URL,
        "KEY_PREFIX": env.str("COUNTERSIGN_SEALING_PREFIX", default="countersign-sealing"),
        "TIMEOUT": None,
    }
else:
    CACHES["sealing"] = {
        "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
        "LOCATION": env.str("COUNTERSIGN_SEALING_PATH", default=str(BASE_DIR / "var" / "sealing")),
        "TIMEOUT": None,
        "OPTIONS": {"MAX_ENTRIES": 10**9},
    }
# The public petition page and GET /api/v1/petitions/<slug> are kept rendered in the default
# cache between the writes that change them (petition/pagecache.py). Only with Redis: a
# per-process cache would not hear of a publication batch the worker committed.
COUNTERSIGN_PAGE_CACHE = bool(REDIS_URL) and env.bool("COUNTERSIGN_PAGE_CACHE", default=True)
# How long each web process serves a body it kept without asking Redis (seconds; 0: never).
COUNTERSIGN_PAGE_MEMORY_SECONDS = env.float("COUNTERSIGN_PAGE_MEMORY_SECONDS", default=1.0)
# How long a proxy, CDN or browser may reuse those two (Cache-Control max-age, seconds).
COUNTERSIGN_PAGE_MAX_AGE = env.int("COUNTERSIGN_PAGE_MAX_AGE", default=60)

# Celery reads every CELERY_* setting through config/celery_app.py.
# https://docs.celeryq.dev/en/stable/django/first-steps-with-django.html
# "memory://localhost/" rather than "memory://": kombu warns about a missing host name
# otherwise, and that warning printed beside the mailed code in `make run`.
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default=REDIS_URL or "memory://localhost/")
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600}
if CELERY_BROKER_URL.startswith("filesystem://"):
    # The demo (`make run`, scripts/run_demo.py): a worker and beat on message files in var/,
    # no broker server. Why this transport and what it lacks: config/demo_broker.py.
    CELERY_BROKER_TRANSPORT = "config.demo_broker:Transport"
    CELERY_BROKER_TRANSPORT_OPTIONS = demo_broker.transport_options(
        Path(env.str("COUNTERSIGN_BROKER_PATH", default=str(BASE_DIR / "var" / "broker")))
    )
    # Remote control (`celery inspect`) would poll a fan-out queue per worker every second
    # and leave one behind per worker name; the demo has no use for it.
    CELERY_WORKER_ENABLE_REMOTE_CONTROL = False
    # The console mail backend writes to stdout: let it through as it is, not as one
    # "WARNING celery.redirected" log line per line of the mail.
    CELERY_WORKER_REDIRECT_STDOUTS = False
# Task modules the worker loads at start besides each app's tasks.py (autodiscovered): the
# feature packages keep their tasks beside their services. Task names are the module paths,
# which the beat schedule below and messages already queued use: moving a module renames them.
CELERY_IMPORTS = ("organizing.flyers.tasks", "organizing.notices.tasks", "config.health")
# No broker configured (the in-memory one): run tasks in-process, as a command run by hand
# wants. `make run` sets a file-system broker and runs a worker and beat: not eager.
CELERY_TASK_ALWAYS_EAGER = env.bool(
    "CELERY_TASK_ALWAYS_EAGER", default=CELERY_BROKER_URL.startswith("memory://")
)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_TIME_LIMIT = 120
CELERY_TASK_SOFT_TIME_LIMIT = 90
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# One queue unless the operator splits them (tests give each worker its own).
CELERY_TASK_DEFAULT_QUEUE = env.str("CELERY_TASK_DEFAULT_QUEUE", default="celery")
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
# Periodic tasks (`celery -A config beat`). Each is safe to run twice at once.
CELERY_BEAT_SCHEDULE = {
    # Beat and a worker prove they run (config/health.py; /healthz reads it).
    "heartbeat": {
        "task": "config.health.heartbeat",
        "schedule": float(env.int("COUNTERSIGN_HEARTBEAT_SECONDS", default=60)),
    },
    # New signatures become public in batches (petition/publication.py); in-process tasks in
    # the embedded default publish right after each signature instead (petition.signing).
    "publish-due-batches": {"task": "petition.tasks.publication_sweep", "schedule": 60.0},
    # Resend what a lost task, a broker outage or a killed worker left undelivered.
    "notices-sweep": {
        "task": "organizing.notices.tasks.notices_sweep",
        "schedule": env.int("COUNTERSIGN_SWEEP_SECONDS", default=60),
    },
    "daily-digests": {
        "task": "organizing.notices.tasks.digests_record",
        "schedule": crontab(hour=env.int("COUNTERSIGN_DIGEST_HOUR", default=7), minute=0),
    },
    "deadlines": {
        "task": "organizing.notices.tasks.deadlines_run",
        "schedule": crontab(minute=5),
    },
    # Moderation: "items wait" mails (at most daily per campaign), retention purge.
    "moderation-alerts": {
        "task": "organizing.notices.tasks.moderation_alerts_sweep",
        "schedule": 3600.0,
    },
    "retention-purge": {"task": "petition.tasks.retention_purge", "schedule": 6 * 3600.0},
    # Code usage as staff see it: recorded once a day at the turn (UTC), never live,
    # so no staff member can watch one handed-out card being used.
    "code-usage-record": {"task": "petition.tasks.code_usage_record", "schedule": crontab(0, 0)},
    # Witnesses the worker could not reach (or a broker outage lost the task) are asked again.
    "witnesses-sweep": {"task": "petition.tlog.tasks.witnesses_sweep", "schedule": 300.0},
    # Generated PDFs hold single-use codes: delete them when they expire.
    "print-runs-expire": {"task": "organizing.flyers.tasks.print_runs_expire", "schedule": 600.0},
    # A run whose worker was killed would say "Being made" forever: give it up (retryable).
    "print-runs-sweep": {"task": "organizing.flyers.tasks.print_runs_sweep", "schedule": 300.0},
}
# The worker logs through LOGGING below (no timestamps, config.logging.PrivacyFilter): no
# line per mail, no task arguments, no exception text that could quote an address.
CELERY_WORKER_HIJACK_ROOT_LOGGER = False

# --- Email ----------------------------------------------------------------------------
if env.str("EMAIL_URL", default=""):
    globals().update(env.email_url("EMAIL_URL"))
else:
    # Django's console backend, with the headers and text decoded (config/console_mail.py).
    EMAIL_BACKEND = "config.console_mail.EmailBackend"
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="Countersign <noreply@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
EMAIL_TIMEOUT = 20

# --- Accounts (django-allauth) --------------------------------------------------------
AUTH_USER_MODEL = "organizing.User"
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "staff:dashboard"
# https://docs.allauth.org/en/latest/account/configuration.html
ACCOUNT_ADAPTER = "organizing.adapters.AccountAdapter"
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_EMAIL_VERIFICATION = "mandatory"
ACCOUNT_LOGIN_ON_EMAIL_CONFIRMATION = False
ACCOUNT_PREVENT_ENUMERATION = True
ACCOUNT_LOGOUT_ON_PASSWORD_CHANGE = True
ACCOUNT_EMAIL_SUBJECT_PREFIX = "[Countersign] "
ACCOUNT_DEFAULT_HTTP_PROTOCOL = env.str("COUNTERSIGN_HTTP_PROTOCOL", default="http")
# allauth's defaults, written out so that a reviewer sees them, through the cache (Redis in
# production). Failed logins: 10 a minute per address, and 5 per 5 minutes per account *and
# client* (organizing.adapters keys "key" on both, so a stranger's failures cannot lock the
# owner out); over all clients together at most 100 an hour per account, more
# than one client can reach (60 an hour), as a ceiling on guessing from many addresses.
ACCOUNT_RATE_LIMITS = {
    "login": "30/m/ip",
    "login_failed": "10/m/ip,5/5m/key",
    "login_failed_account": "100/h/key",
    "signup": "20/m/ip",
    "reset_password": "20/m/ip,5/m/key",
    "confirm_email": "1/3m/key",
}
# The adapter reads the client address through COUNTERSIGN_TRUSTED_PROXIES; allauth's own
# setting says the same for any allauth code that asks without the adapter.
# https://docs.allauth.org/en/latest/common/configuration.html
ALLAUTH_TRUSTED_PROXY_COUNT = env.int("COUNTERSIGN_TRUSTED_PROXIES", default=0)
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes", "webauthn"]
# TOTP secrets and recovery-code seeds encrypted with the key-encryption key, so a database
# dump holds no staff second factor (organizing/mfa_secrets.py).
MFA_ADAPTER = "organizing.mfa_secrets.MFAAdapter"
MFA_PASSKEY_LOGIN_ENABLED = True
MFA_TOTP_ISSUER = "Countersign"
# Passkeys need a secure origin; the embedded default serves plain http on 127.0.0.1.
MFA_WEBAUTHN_ALLOW_INSECURE_ORIGIN = DEBUG

# --- Internationalization -------------------------------------------------------------
# Every page exists in every language: unprefixed (English, or the browser's Accept-Language
# for the first page a visitor opens) and under /es/, /ar/ (config/i18n.py). The names are
# written in their own language: a visitor looks for the one they read, in its own script.
LANGUAGE_CODE = "en"
# Not translated, so that no catalogue has to carry another language's script.
LANGUAGES = [("en", "English"), ("es", "Español"), ("ar", "العربية")]
# locale/ is what `makemessages` extracts from this tree; locale/allauth/ overrides some of
# django-allauth's own messages so its pages speak in our words (the header says why).
LOCALE_PATHS = [BASE_DIR / "locale", BASE_DIR / "locale" / "allauth"]
USE_I18N = True
# Formats Django's locale data lacks (Arabic dates with a time): config/formats/.
# https://docs.djangoproject.com/en/stable/topics/i18n/formatting/#creating-custom-format-files
FORMAT_MODULE_PATH = ["config.formats"]
USE_TZ = True
TIME_ZONE = "UTC"

# --- Static files ---------------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = Path(env.str("COUNTERSIGN_STATIC_ROOT", default=str(BASE_DIR / "var" / "static")))
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
# Without collectstatic (the embedded default) WhiteNoise serves straight from the finders.
WHITENOISE_USE_FINDERS = True

# --- Security headers -----------------------------------------------------------------
# No third-party host, no inline script or style: a malicious or compromised page cannot
# leak a signer's token elsewhere. https://django-csp.readthedocs.io/en/latest/configuration.html
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [NONE],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "form-action": [SELF],
        "manifest-src": [SELF],
        "frame-ancestors": [NONE],
        "base-uri": [NONE],
        "object-src": [NONE],
    }
}
SECURE_REFERRER_POLICY = "no-referrer"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
# No page uses these browser features; a page (or an injected frame) cannot ask for them.
PERMISSIONS_POLICY = (
    "camera=(), microphone=(), geolocation=(), payment=(), usb=(), serial=(), bluetooth=(), "
    "hid=(), midi=(), magnetometer=(), gyroscope=(), accelerometer=(), display-capture=()"
)  # passkeys (publickey-credentials-*) stay allowed: staff sign in with them

# --- Request sizes --------------------------------------------------------------------
# Declared bodies over these get 413 before they are read (config/limits.py): the signer
# API takes JSON objects of at most 16 KiB (docs/protocol.md §5); staff forms upload no
# files, and their longest text (a petition's 20,000 characters, percent-encoded) stays
# below 512 KiB.
COUNTERSIGN_API_MAX_BODY = 16 * 1024
COUNTERSIGN_MAX_BODY = 512 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = COUNTERSIGN_MAX_BODY
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
# Staff sessions end when the browser closes or after eight hours, whichever comes first.
SESSION_COOKIE_AGE = 8 * 3600
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
# Behind a reverse proxy that terminates TLS; see docs/operations.md.
if env.bool("COUNTERSIGN_BEHIND_TLS_PROXY", default=False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# --- Logging --------------------------------------------------------------------------
# Django's default logging would e-mail request details (address, user agent) to ADMINS and
# runserver logs every request with its exact time. We replace it whole: one console handler,
# a filter that drops the request object and the dev server's access lines (P1, timing).
LOGGING_CONFIG = "logging.config.dictConfig"
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"privacy": {"()": "config.logging.PrivacyFilter"}},
    "formatters": {"plain": {"format": "{levelname} {name} {message}", "style": "{"}},
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "filters": ["privacy"],
            "formatter": "plain",
        }
    },
    "root": {"handlers": ["console"], "level": env.str("COUNTERSIGN_LOG_LEVEL", default="INFO")},
    "loggers": {
        "django": {"handlers": ["console"], "level": "INFO", "propagate": False},
        "django.server": {"handlers": [], "level": "CRITICAL", "propagate": False},
        "django.security.DisallowedHost": {"handlers": [], "propagate": False},
        # WeasyPrint logs every layout step at INFO; only its warnings matter.
        "weasyprint": {"level": "WARNING"},
        "fontTools": {"level": "WARNING"},
    },
}

# --- Countersign ----------------------------------------------------------------------
COUNTERSIGN_PRODUCTION = False
# Invitations to staff accounts expire after this many days.
COUNTERSIGN_INVITATION_DAYS = env.int("COUNTERSIGN_INVITATION_DAYS", default=7)
# Generated PDFs (flyers, code cards: they hold single-use codes) are deleted this many
# hours after they are made. They live under MEDIA_ROOT, which web and worker share. Two
# hours: enough to walk to a printer and print twice (a 500-poster run is ready in minutes),
# short enough that a stolen session or a copied media folder finds few codes in clear
# (the file is its maker's alone). The download view refuses an expired file even when beat
# is down.
COUNTERSIGN_PRINT_FILE_HOURS = env.int("COUNTERSIGN_PRINT_FILE_HOURS", default=2)
# A chunk of a print run claimed this long ago lost its worker (killed, out of memory): the
# sweep sends it again and another worker renders it (organizing/flyers/chunks.py). Above
# the chunk task's hard time limit (300 s), so that no worker still renders a stale claim.
COUNTERSIGN_PRINT_CHUNK_STALE_SECONDS = env.int(
    "COUNTERSIGN_PRINT_CHUNK_STALE_SECONDS", default=360
)
MEDIA_ROOT = Path(env.str("COUNTERSIGN_MEDIA_ROOT", default=str(BASE_DIR / "var" / "media")))
# Generated PDFs hold live codes: readable by the app's user and group (web and worker),
# never by other local users. Django's default (0o644) would chmod them world-readable
# whatever the process's umask (deploy/systemd sets UMask=0027 for what else it writes).
FILE_UPLOAD_PERMISSIONS = 0o640
FILE_UPLOAD_DIRECTORY_PERMISSIONS = 0o750
# Absolute address of the site, for links in mail sent from the worker (no request there).
COUNTERSIGN_BASE_URL = env.str("COUNTERSIGN_BASE_URL", default="http://127.0.0.1:8000")
# RSA modulus for petition keys (protocol v1: 3072 by default, never below 2048).
# Witnesses that cosign the transparency log's checkpoints (docs/operations.md): a JSON
# list of {"name", "url", "vkey"}; the vkey is the witness's cosignature/v1 key (type 0x04).
COUNTERSIGN_WITNESSES = env.json("COUNTERSIGN_WITNESSES", default=[])
# Seconds to wait for a witness's answer; a slow one is retried later, never waited for.
COUNTERSIGN_WITNESS_TIMEOUT = env.int("COUNTERSIGN_WITNESS_TIMEOUT", default=10)
COUNTERSIGN_KEY_BITS = env.int("COUNTERSIGN_KEY_BITS", default=3072)
# Encrypts petition private keys at rest. The development default derives from SECRET_KEY;
# production requires its own value (see .env.example).
COUNTERSIGN_KEY_ENCRYPTION_KEY = env.str(
    "COUNTERSIGN_KEY_ENCRYPTION_KEY", default="development-only:" + SECRET_KEY
)
# How many reverse proxies in front of the app append to X-Forwarded-For (0: none, use the
# socket address). Only used in memory: network warning and hashed rate limits.
COUNTERSIGN_TRUSTED_PROXIES = env.int("COUNTERSIGN_TRUSTED_PROXIES", default=0)
# Signer endpoints declare their own limits next to their code (petition/api.py: per client
# address, IPv6 per /64, hashed, in the cache, per fixed 10-minute window). Mobile carriers
# put many phones behind one address, so raise COUNTERSIGN_RATE_LIMIT_FACTOR if honest
# signers hit them.
COUNTERSIGN_RATE_LIMIT_FACTOR = env.int("COUNTERSIGN_RATE_LIMIT_FACTOR", default=1)
# Overrides by limit name, {"signatures": (per_window, window_seconds)}; for tests.
COUNTERSIGN_RATE_LIMITS: dict[str, tuple[int, int]] = {}

# A work-email code's mail is retried for as long as the code is valid (15 minutes), at
# most this many seconds apart (petition.tasks.email_code_send).
COUNTERSIGN_EMAIL_CODE_RETRY_MAX_SECONDS = env.int(
    "COUNTERSIGN_EMAIL_CODE_RETRY_MAX_SECONDS", default=30
)

# /healthz answers 503 when beat's or the worker's heartbeat is older than this
# (config/health.py; the heartbeat runs every COUNTERSIGN_HEARTBEAT_SECONDS, 60).
COUNTERSIGN_HEALTH_MAX_AGE_SECONDS = env.int("COUNTERSIGN_HEALTH_MAX_AGE_SECONDS", default=300)

# --- Notices (organizing/notices) ------------------------------------------------------
# The names say DELIVERY for one sending of one notice (the outbox row, model `Delivery`);
# they are kept so existing deployments keep their values.
# A sender holds an outbox row this long; longer than the send task's hard time limit (60 s),
# so a killed worker's claim expires and the sweep hands the delivery to another.
COUNTERSIGN_DELIVERY_LEASE_SECONDS = env.int("COUNTERSIGN_DELIVERY_LEASE_SECONDS", default=90)
# Retries: exponential backoff from the base, capped, then the delivery is marked failed.
COUNTERSIGN_DELIVERY_RETRY_BASE_SECONDS = env.int(
    "COUNTERSIGN_DELIVERY_RETRY_BASE_SECONDS", default=30
)
COUNTERSIGN_DELIVERY_RETRY_MAX_SECONDS = env.int(
    "COUNTERSIGN_DELIVERY_RETRY_MAX_SECONDS", default=3600
)
COUNTERSIGN_DELIVERY_MAX_ATTEMPTS = env.int("COUNTERSIGN_DELIVERY_MAX_ATTEMPTS", default=12)
# Webhooks never reach private, link-local or loopback addresses; tests turn loopback on.
COUNTERSIGN_WEBHOOK_ALLOW_LOOPBACK = env.bool("COUNTERSIGN_WEBHOOK_ALLOW_LOOPBACK", default=False)

# Publication in batches (docs/threat-model.md, timing). New signatures and withdrawals
# enter the public log and counts only in batches of at least MIN_BATCH per petition and
# level, at most once per INTERVAL seconds, and at the latest MAX_WAIT seconds after the end
# of the day they arrived on. These are the defaults of new petitions; organizers choose per
# petition. The embedded default publishes at once (0 and 1) so that the demo's count moves
# when you sign; production.py defaults to 3600 and 5.
COUNTERSIGN_PUBLISH_INTERVAL = env.int("COUNTERSIGN_PUBLISH_INTERVAL", default=0)
COUNTERSIGN_PUBLISH_MIN_BATCH = env.int("COUNTERSIGN_PUBLISH_MIN_BATCH", default=1)
COUNTERSIGN_PUBLISH_MAX_WAIT = env.int("COUNTERSIGN_PUBLISH_MAX_WAIT", default=86400)
# With DEBUG off, a petition policy below the safe floor (batches under 5, a longest wait
# under a day) is refused, and the check countersign.E009 refuses such defaults in
# production, unless the operator sets this on purpose (docs/operations.md).
COUNTERSIGN_ALLOW_UNSAFE_PUBLICATION = env.bool(
    "COUNTERSIGN_ALLOW_UNSAFE_PUBLICATION", default=False
)
