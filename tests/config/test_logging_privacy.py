"""Logs never carry a client address or user agent (P1)."""

from __future__ import annotations

import logging
import re

import pytest
from celery.app.trace import LOG_FAILURE, LOG_RETRY, LOG_SUCCESS
from django.urls import reverse

pytestmark = pytest.mark.django_db

ADDRESS = "203.0.113.77"
AGENT = "SpyAgent/9.9 (tracking-laptop)"


def test_requests_leave_no_address_or_agent_in_any_log(
    client, published_petition, organizer, log_output
):
    headers = {"REMOTE_ADDR": ADDRESS, "HTTP_USER_AGENT": AGENT, "HTTP_X_FORWARDED_FOR": ADDRESS}
    client.get(published_petition.get_absolute_url(), **headers)
    client.get("/p/does-not-exist/", **headers)  # django.request logs a warning for 404s
    client.post(reverse("account_login"), {"login": organizer.email, "password": "x"}, **headers)
    client.get(reverse("staff:dashboard"), **headers)

    written = log_output.getvalue()
    assert "Not Found: /p/does-not-exist/" in written
    assert ADDRESS not in written
    assert AGENT not in written


def test_the_privacy_filter_drops_the_request_from_records():
    from config.logging import PrivacyFilter

    record = logging.LogRecord("django.request", logging.WARNING, __file__, 1, "x", None, None)
    record.request = object()
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
