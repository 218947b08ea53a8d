"""Logs never carry a client address or user agent (P1)."""

from __future__ import annotations

import logging
import re

import pytest
from celery.app.trace import LOG_FAILURE, LOG_RETRY, LOG_SUCCESS
from django.core.cache import cache
from django.http import HttpResponse
from django.test import RequestFactory
from django.urls import reverse
from django.utils.log import log_response

from petition.codes import code_batch_create
from tests.petition.test_credentials_api import ask, mailed_code, post  # noqa: F401
from tests.signing_client import start

pytestmark = pytest.mark.django_db

ADDRESS = "203.0.113.77"
AGENT = "SpyAgent/9.9 (tracking-laptop)"


def test_requests_leave_no_address_or_agent_in_any_log(
    client, published_petition, organizer, log_output
):
    headers = {"REMOTE_ADDR": ADDRESS, "HTTP_USER_AGENT": AGENT, "HTTP_X_FORWARDED_FOR": ADDRESS}
    client.get(published_petition.get_absolute_url(), **headers)
    client.get("/accounts/does-not-exist/", **headers)  # django.request logs staff 404s
    client.post(reverse("account_login"), {"login": organizer.email, "password": "x"}, **headers)
    client.get(reverse("staff:dashboard"), **headers)

    written = log_output.getvalue()
    assert "Not Found: /accounts/does-not-exist/" in written
    assert ADDRESS not in written
    assert AGENT not in written


def test_the_privacy_filter_drops_the_request_from_records():
    from config.logging import PrivacyFilter

    record = logging.LogRecord("django.request", logging.WARNING, __file__, 1, "x", None, None)
    record.request = RequestFactory().get("/staff/")
    assert PrivacyFilter().filter(record) is True
    assert record.request is None
    server = logging.LogRecord("django.server", logging.INFO, __file__, 1, "GET /", None, None)
    assert PrivacyFilter().filter(server) is False


def test_task_failures_are_logged_with_the_exception_type_only(log_output):
    """An SMTP refusal quotes the recipient; a task's arguments may hold one too."""
    logger = logging.getLogger("celery.app.trace")
    refusal = OSError("recipient refused: ada@example.com")
    context = {
        "id": "7f0c",
        "name": "petition.tasks.email_code_send",
        "exc": repr(refusal),
        "traceback": "… ada@example.com …",
        "args": "('sealed-ada@example.com',)",
        "kwargs": "{}",
        "description": "raised unexpected",
    }
    try:
        raise refusal
    except OSError:
        logger.error(LOG_FAILURE, context, exc_info=True)
    logger.info(LOG_RETRY, {**context, "exc": f"Retry in 2s: {refusal!r}"})
    logger.info(LOG_SUCCESS, {**context, "runtime": 0.2, "return_value": None})
    # Only the configured console handler's lines ("LEVEL logger message"), not pytest's.
    text = "\n".join(
        line for line in log_output.getvalue().splitlines() if re.match(r"[A-Z]+ \S", line)
    )
    assert "email_code_send[7f0c] raised unexpected: OSError" in text
    assert "retry: Retry in 2s: OSError" in text
    assert "succeeded" not in text
    assert "ada@example.com" not in text


def _console_lines(log_output) -> str:
    """Only the configured console handler's lines ("LEVEL logger message"), not pytest's."""
    return "\n".join(
        line for line in log_output.getvalue().splitlines() if re.match(r"[A-Z]+ \S", line)
    )


def test_bad_signer_api_requests_write_nothing_to_the_log(
    client,
    open_petition,
    mailed_code,  # noqa: F811  (the fixture of the credentials tests)
    settings,
    log_output,
):
    """Before: 403 code_expired, 409 already_issued, 415 and 429 of the signer API each
    wrote a WARNING django.request line with the path; with journald's time stamp that dates
    a signer's step. Through the real LOGGING config, none of them writes anything."""
    from django.utils import timezone

    from petition.models import EmailCode

    code = mailed_code("cy@example.com")
    EmailCode.objects.update(expires_at=timezone.now())
    pending = start(client, open_petition, "work_email")
    expired = ask(client, open_petition, "work_email", pending, email="cy@example.com", code=code)
    assert (expired.status_code, expired.json()["error"]["code"]) == (403, "code_expired")

    _batch, codes = code_batch_create(petition=open_petition, level="in_person", size=10)
    first = ask(
        client, open_petition, "in_person", start(client, open_petition, "in_person"), code=codes[0]
    )
    assert first.status_code == 200
    again = ask(
        client, open_petition, "in_person", start(client, open_petition, "in_person"), code=codes[0]
    )
    assert (again.status_code, again.json()["error"]["code"]) == (409, "already_issued")

    url = f"/api/v1/petitions/{open_petition.slug}/signatures"
    assert client.post(url, "{}", content_type="text/plain").status_code == 415
    settings.COUNTERSIGN_RATE_LIMITS = {**settings.COUNTERSIGN_RATE_LIMITS, "signatures": (0, 600)}
    cache.clear()
    assert client.post(url, "{}", content_type="application/json").status_code == 429
    assert client.post(url, "not json", content_type="application/json").status_code == 429

    # The signer pages and the flyer redirect: unknown petition, unknown flyer code.
    assert client.get("/p/no-such-petition/").status_code == 404
    assert client.get("/f/zzzzzz").status_code == 404

    written = _console_lines(log_output)
    assert "django.request" not in written
    for path in ("/api/", "/p/", "/f/", open_petition.slug):
        assert path not in written


def test_a_server_error_on_a_public_path_is_logged_without_path_or_exception_text(log_output):
    """A 5xx is a bug the operator must see: kept, but as status, exception type and code
    line; the path (which names the petition and the step) and the text stay out."""
    request = RequestFactory().post("/api/v1/petitions/secret-slug/signatures")
    try:
        raise ValueError("ada@example.com sent this")
    except ValueError as exc:
        log_response(
            "%s: %s",
            "Internal Server Error",
            request.path,
            response=HttpResponse(status=500),
            request=request,
            exception=exc,
        )
    staff = RequestFactory().get("/staff/c/beta/")
    log_response(
        "%s: %s",
        "Internal Server Error",
        staff.path,
        response=HttpResponse(status=500),
        request=staff,
    )

    written = _console_lines(log_output)
    assert "ERROR django.request Server error 500 on a public page: ValueError at " in written
    assert "test_logging_privacy.py" in written
    assert "secret-slug" not in written and "ada@example.com" not in written
    assert "Internal Server Error: /staff/c/beta/" in written  # staff pages keep their path
