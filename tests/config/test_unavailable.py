"""PostgreSQL or Redis unreachable under a request: 503 with Retry-After, JSON under /api/,
the "Back in a minute" page elsewhere; a bug stays a 500 (config/errors.py). The real
restart is tests/integration/test_postgres_restart.py."""

from __future__ import annotations

import pytest
from django.db import IntegrityError, InterfaceError, OperationalError
from django.test import Client, RequestFactory
from redis.exceptions import ConnectionError as RedisConnectionError

from config import errors
from petition import selectors


@pytest.mark.django_db
def test_a_database_error_under_the_api_answers_json_503(open_petition, monkeypatch, caplog):
    def down(*args, **kwargs):
        raise OperationalError("terminating connection due to administrator command")

    monkeypatch.setattr(selectors, "petition_counts", down)
    response = Client(raise_request_exception=False).get(f"/api/v1/petitions/{open_petition.slug}")
    assert response.status_code == 503
    assert response["Content-Type"] == "application/json"
    assert response.json()["error"]["code"] == "unavailable"
    assert response["Retry-After"] == str(errors.RETRY_AFTER_DATABASE)
    assert not response.cookies
    assert "database unavailable (OperationalError)" in caplog.text
    assert open_petition.slug not in caplog.text


@pytest.mark.parametrize(
    ("exception", "retry_after"),
    [
        (OperationalError("the database system is starting up"), "5"),
        (InterfaceError("connection already closed"), "5"),
        (RedisConnectionError("refused"), "30"),
    ],
)
def test_unreachable_backends_answer_503_and_pages_say_back_in_a_minute(exception, retry_after):
    middleware = errors.UnavailableMiddleware(lambda request: None)
    page = middleware.process_exception(RequestFactory().get("/p/some-petition/"), exception)
    assert page.status_code == 503 and page["Retry-After"] == retry_after
    assert "Back in a minute" in page.content.decode()
    api = middleware.process_exception(
        RequestFactory().post("/api/v1/petitions/x/signatures"), exception
    )
    assert api.status_code == 503 and api["Content-Type"] == "application/json"


def test_a_bug_stays_a_500():
    middleware = errors.UnavailableMiddleware(lambda request: None)
    request = RequestFactory().get("/api/v1/petitions/x")
    assert middleware.process_exception(request, IntegrityError("duplicate key")) is None
    assert middleware.process_exception(request, ValueError("bug")) is None
    try:
        raise ValueError("bug")
    except ValueError:
        assert errors.server_error(request).status_code == 500


def test_the_500_handler_turns_a_database_failure_outside_a_view_into_503():
    request = RequestFactory().get("/staff/")
    try:
        raise OperationalError("could not connect to server")
    except OperationalError:
        response = errors.server_error(request)
    assert response.status_code == 503 and response["Retry-After"] == "5"
