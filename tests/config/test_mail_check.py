"""countersign.E005: production refuses every mail backend that delivers nothing.

Each of Django's backends is a class named EmailBackend, so the check must read the module
(the ops walk found the class-name test never firing: console mail passed `check --deploy`
and wrote work addresses and their codes to the worker's log)."""

from __future__ import annotations

import environ
import pytest

from config.checks import delivers_mail, production_services
from tests.config.test_settings import PRODUCTION_ENV, _clean_env, _run

SMTP = "django.core.mail.backends.smtp.EmailBackend"
# Every scheme django-environ knows that does not map to SMTP, with a URL for it.
NON_SMTP_URLS = {
    scheme: f"{scheme}:///tmp/countersign-mail" if scheme == "filemail" else f"{scheme}://"
    for scheme, backend in environ.Env.EMAIL_SCHEMES.items()
    if backend != SMTP
}
NON_DELIVERING = [
    "django.core.mail.backends.console.EmailBackend",
    "django.core.mail.backends.locmem.EmailBackend",
    "django.core.mail.backends.dummy.EmailBackend",
    "django.core.mail.backends.filebased.EmailBackend",
    "config.console_mail.EmailBackend",
]


def test_every_non_smtp_scheme_of_django_environ_is_covered():
    assert set(NON_SMTP_URLS) == {"consolemail", "filemail", "memorymail", "dummymail"}
    backends = {environ.Env.EMAIL_SCHEMES[s] for s in NON_SMTP_URLS}
    assert backends <= set(NON_DELIVERING)


@pytest.mark.parametrize("backend", NON_DELIVERING)
def test_the_check_refuses_a_backend_that_delivers_nothing(settings, backend):
    settings.COUNTERSIGN_PRODUCTION = True
    settings.EMAIL_BACKEND = backend
    assert not delivers_mail(backend)
    errors = [e for e in production_services() if e.id == "countersign.E005"]
    assert errors and backend in errors[0].msg


@pytest.mark.parametrize("backend", [SMTP, "anymail.backends.mailgun.EmailBackend"])
def test_the_check_accepts_a_backend_that_sends(settings, backend):
    settings.COUNTERSIGN_PRODUCTION = True
    settings.EMAIL_BACKEND = backend
    assert "countersign.E005" not in {e.id for e in production_services()}


def test_the_check_is_silent_outside_production(settings):
    settings.COUNTERSIGN_PRODUCTION = False
    settings.EMAIL_BACKEND = NON_DELIVERING[0]
    assert production_services() == []


@pytest.mark.parametrize("url", sorted(NON_SMTP_URLS.values()))
def test_check_deploy_refuses_each_non_smtp_email_url(url):
    result = _run(["manage.py", "check", "--deploy"], _clean_env(PRODUCTION_ENV, EMAIL_URL=url))
    assert result.returncode != 0
    assert "countersign.E005" in result.stderr


def test_gunicorn_refuses_console_mail_when_it_loads_the_app():
    env = _clean_env(PRODUCTION_ENV, EMAIL_URL="consolemail://")
    result = _run(["-c", "import config.wsgi"], env)
    assert result.returncode != 0
    assert "countersign.E005" in result.stderr
