"""Configuration: the embedded default, production's refusals, and `check --deploy`."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from config.checks import production_services
from config.secrets import key_encryption_key_problem

ROOT = Path(__file__).resolve().parents[2]

PRODUCTION_ENV = {
    "DJANGO_SETTINGS_MODULE": "config.settings.production",
    "DJANGO_SECRET_KEY": "a-real-looking-secret-key-with-enough-entropy-0123456789abcdef",
    "DJANGO_ALLOWED_HOSTS": "petition.example.org",
    "DATABASE_URL": "postgres://countersign:pw@db.invalid:5432/countersign",
    "REDIS_URL": "redis://cache.invalid:6379/0",
    "EMAIL_URL": "smtp+tls://countersign:pw@mail.invalid:587",
    "COUNTERSIGN_BASE_URL": "https://petition.example.org",
    "COUNTERSIGN_KEY_ENCRYPTION_KEY": "q7Xb1u6yN0Lr8oJk2VdTz5cWmE3sHf9aP4gRiY-_Ct0",
}


def _clean_env(base: dict[str, str] | None = None, **extra: str) -> dict[str, str]:
    keep = {"PATH", "HOME", "LANG", "LC_ALL", "PYTHONPATH", "SYSTEMROOT", "TMPDIR"}
    env = {k: v for k, v in os.environ.items() if k in keep}
    env.update(base or {})
    env.update(extra)
    return env


def _run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )


def test_check_deploy_passes_on_production_settings_with_zero_warnings():
    result = _run(
        ["manage.py", "check", "--deploy", "--fail-level", "WARNING"], _clean_env(PRODUCTION_ENV)
    )
    assert result.returncode == 0, result.stderr
    assert "System check identified no issues (0 silenced)." in result.stdout


def test_check_deploy_fails_when_a_production_safeguard_is_switched_off():
    env = _clean_env(PRODUCTION_ENV, DJANGO_SECURE_HSTS_SECONDS="0")
    result = _run(["manage.py", "check", "--deploy", "--fail-level", "WARNING"], env)
    assert result.returncode != 0
    assert "security.W004" in result.stderr


def test_production_publishes_in_batches_and_refuses_unsafe_defaults():
    code = (
        "from django.conf import settings as s; "
        "print(s.COUNTERSIGN_PUBLISH_INTERVAL, s.COUNTERSIGN_PUBLISH_MIN_BATCH)"
    )
    shown = _run(["-c", f"import django; django.setup(); {code}"], _clean_env(PRODUCTION_ENV))
    assert shown.stdout.split() == ["3600", "5"], shown.stderr
    embedded = _clean_env(DJANGO_SETTINGS_MODULE="config.settings.base")
    shown = _run(["-c", f"import django; django.setup(); {code}"], embedded)
    assert shown.stdout.split() == ["0", "1"], shown.stderr  # the demo: at once
    env = _clean_env(
        PRODUCTION_ENV, COUNTERSIGN_PUBLISH_INTERVAL="0", COUNTERSIGN_PUBLISH_MIN_BATCH="1"
    )
    # Below the safe floor (a batch could publish one signer alone): an error in production,
    # also when gunicorn loads
    # the app, and only a warning with the operator's explicit override.
    result = _run(["manage.py", "check", "--deploy"], env)
    assert result.returncode != 0
    assert "countersign.E009" in result.stderr
    result = _run(["-c", "import config.wsgi"], env)
    assert result.returncode != 0 and "E009" in result.stderr
    weak_wait = _clean_env(PRODUCTION_ENV, COUNTERSIGN_PUBLISH_MAX_WAIT="3600")
    assert "countersign.E009" in _run(["manage.py", "check", "--deploy"], weak_wait).stderr
    overridden = {**env, "COUNTERSIGN_ALLOW_UNSAFE_PUBLICATION": "1"}
    result = _run(["manage.py", "check", "--deploy"], overridden)
    assert result.returncode == 0, result.stderr
    assert "countersign.W001" in result.stderr


@pytest.mark.parametrize(
    "missing",
    [
        "DJANGO_SECRET_KEY",
        "DJANGO_ALLOWED_HOSTS",
        "DATABASE_URL",
        "REDIS_URL",
        "EMAIL_URL",
        "COUNTERSIGN_BASE_URL",
        "COUNTERSIGN_KEY_ENCRYPTION_KEY",
    ],
)
def test_production_refuses_to_start_without_required_settings(missing):
    env = _clean_env(PRODUCTION_ENV)
    del env[missing]
    result = _run(["manage.py", "check"], env)
    assert result.returncode != 0
    assert f"Set the {missing} environment variable" in result.stderr


def test_production_refuses_sqlite_and_the_wsgi_app_will_not_load():
    env = _clean_env(PRODUCTION_ENV, DATABASE_URL="sqlite:////tmp/x.sqlite3")
    result = _run(["manage.py", "check", "--deploy"], env)
    assert result.returncode != 0
    assert "countersign.E001" in result.stderr
    result = _run(["-c", "import config.wsgi"], env)
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr and "E001" in result.stderr


def test_the_wsgi_app_loads_on_a_complete_production_configuration():
    result = _run(
        ["-c", "import config.wsgi; print(config.wsgi.application)"], _clean_env(PRODUCTION_ENV)
    )
    assert result.returncode == 0, result.stderr
    assert "WSGIHandler" in result.stdout


def test_the_embedded_default_needs_nothing_but_python(tmp_path):
    """A command run by hand gets SQLite in WAL mode, in-process tasks, console mail, demo
    data (`make run` adds a worker and beat: tests/integration/test_demo_run.py)."""
    env = _clean_env(
        DJANGO_SETTINGS_MODULE="config.settings.base",
        DJANGO_DEBUG="1",
        COUNTERSIGN_SQLITE_PATH=str(tmp_path / "db.sqlite3"),
    )
    assert _run(["manage.py", "migrate", "--noinput", "-v0"], env).returncode == 0
    seeded = _run(["manage.py", "seed_demo"], env)
    assert seeded.returncode == 0, seeded.stderr
    assert "TOTP secret" in seeded.stdout
    again = _run(["manage.py", "seed_demo"], env)
    assert again.returncode == 0 and "TOTP secret" not in again.stdout  # idempotent, shown once
    probe = (
        "import django; django.setup()\n"
        "from django.conf import settings; from django.db import connection\n"
        "from petition.models import Petition\n"
        "c = connection.cursor(); c.execute('PRAGMA journal_mode'); print(c.fetchone()[0])\n"
        "print(settings.CELERY_TASK_ALWAYS_EAGER, settings.EMAIL_BACKEND.rsplit('.',2)[-2])\n"
        "print(settings.CACHES['default']['BACKEND'].rsplit('.',1)[-1])\n"
        "print(Petition.objects.filter(status='published').count())\n"
    )
    result = _run(["-c", probe], env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["wal", "True", "console_mail", "LocMemCache", "1"]


def test_seed_demo_refuses_outside_development(tmp_path):
    env = _clean_env(
        DJANGO_SETTINGS_MODULE="config.settings.base",
        COUNTERSIGN_SQLITE_PATH=str(tmp_path / "db.sqlite3"),
    )
    _run(["manage.py", "migrate", "--noinput", "-v0"], env)
    result = _run(["manage.py", "seed_demo"], env)
    assert result.returncode != 0
    assert "DJANGO_DEBUG=1" in result.stderr


def test_environment_switches_to_postgresql_redis_and_smtp():
    env = _clean_env(
        DJANGO_SETTINGS_MODULE="config.settings.base",
        DATABASE_URL="postgres://u:p@127.0.0.1:5432/countersign",
        REDIS_URL="redis://127.0.0.1:6379/3",
        EMAIL_URL="smtp://127.0.0.1:2525",
    )
    probe = (
        "import django; django.setup(); from django.conf import settings as s\n"
        "print(s.DATABASES['default']['ENGINE'].rsplit('.',1)[-1], s.CELERY_BROKER_URL,"
        " s.CELERY_TASK_ALWAYS_EAGER, s.CACHES['default']['BACKEND'].rsplit('.',1)[-1],"
        " s.EMAIL_BACKEND.rsplit('.',2)[-2], s.EMAIL_PORT)\n"
    )
    result = _run(["-c", probe], env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [
        "postgresql",
        "redis://127.0.0.1:6379/3",
        "False",
        "RedisCache",
        "smtp",
        "2525",
    ]


def test_collectstatic_rewrites_module_imports_to_hashed_names(tmp_path):
    env = _clean_env(PRODUCTION_ENV, COUNTERSIGN_STATIC_ROOT=str(tmp_path))
    result = _run(["manage.py", "collectstatic", "--noinput", "-v0"], env)
    assert result.returncode == 0, result.stderr
    [sign] = [p for p in (tmp_path / "js").glob("sign.*.js") if not p.name.endswith(".gz")]
    text = sign.read_text()
    assert re.search(r"""from ["']\./blindrsa\.[0-9a-f]{12}\.js["']""", text), text[:600]
    assert not re.search(r"""["']\./blindrsa\.js["']""", text)
    # The receipt module is shared by the signing and the audit page, hashed in both.
    [audit] = [p for p in (tmp_path / "js").glob("audit.*.js") if not p.name.endswith(".gz")]
    for page in (text, audit.read_text()):
        assert re.search(r"""from ["']\./receipt\.[0-9a-f]{12}\.js["']""", page), page[:900]
        assert not re.search(r"""["']\./(receipt|sign)\.js["']""", page)
    # The transparency log module, imported over several lines, is hashed too.
    assert re.search(r"""from ["']\./tlog\.[0-9a-f]{12}\.js["']""", audit.read_text())


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("", "at least 32 random bytes"),
        ("check-deploy-dummy", "at least 32 random bytes"),
        ("c2hvcnQgYnV0IGJhc2U2NA", "at least 32 random bytes"),  # 17 bytes
        ("A" * 44, "does not look random"),
        (PRODUCTION_ENV["DJANGO_SECRET_KEY"], "must not be the same as DJANGO_SECRET_KEY"),
    ],
)
def test_production_refuses_a_weak_key_encryption_key(value, reason):
    """From a weak key, a database dump alone decrypts the petition keys."""
    env = _clean_env(PRODUCTION_ENV, COUNTERSIGN_KEY_ENCRYPTION_KEY=value)
    result = _run(["manage.py", "check"], env)
    assert result.returncode != 0
    assert reason in result.stderr
    assert "secrets.token_urlsafe(32)" in result.stderr


def test_the_system_check_refuses_a_weak_key_encryption_key(settings):
    settings.COUNTERSIGN_PRODUCTION = True
    settings.COUNTERSIGN_KEY_ENCRYPTION_KEY = settings.SECRET_KEY
    assert "countersign.E008" in {e.id for e in production_services()}
    settings.COUNTERSIGN_KEY_ENCRYPTION_KEY = PRODUCTION_ENV["COUNTERSIGN_KEY_ENCRYPTION_KEY"]
    assert "countersign.E008" not in {e.id for e in production_services()}


def test_env_example_and_makefile_show_a_valid_key_encryption_key():
    assert "secrets.token_urlsafe(32)" in (ROOT / ".env.example").read_text()
    makefile = (ROOT / "Makefile").read_text()
    dummy = re.search(r"COUNTERSIGN_KEY_ENCRYPTION_KEY=(\S+)", makefile).group(1)
    secret = re.search(r"DJANGO_SECRET_KEY=(\S+)", makefile).group(1)
    assert key_encryption_key_problem(dummy, secret) is None


def test_the_system_check_wants_the_sealing_store_in_redis_without_expiry(settings):
    """The window keys' secrets (petition/sealing.py) must be shared by every worker, never in the
    database, and never expire before their batch."""
    settings.COUNTERSIGN_PRODUCTION = True
    sealing_store = {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": "redis://127.0.0.1:6379/0",
        "TIMEOUT": None,
    }
    settings.CACHES = {**settings.CACHES, "sealing": sealing_store}
    assert "countersign.E021" not in {e.id for e in production_services()}
    for broken in (
        {**sealing_store, "TIMEOUT": 300},
        {**sealing_store, "BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
    ):
        settings.CACHES = {**settings.CACHES, "sealing": broken}
        assert "countersign.E021" in {e.id for e in production_services()}
