"""Redis down: every signer endpoint answers clean JSON, never 500 (ops walk, row 25).

Each test starts its own redis-server on a free loopback port, points the cache (rate
limits) and, in the first test, the sealing store at it, and stops it: never the machine's
Redis. What each action does is decided in petition/api.py and documented in
docs/operations.md and docs/threat-model.md ("Rate limits when Redis is down"):

- reading (pages, petition, keys, log) and credential issuance: limits fail open, and the
  kept public page and API answers (petition/pagecache.py) are rendered from the database;
- signing and withdrawing: limits fail open, but sealing needs its store: 503 when the
  store is the Redis that is down, 201 when it is a separate one;
- email-code requests: closed, 503 with Retry-After, nothing written, nothing mailed.
"""

from __future__ import annotations

import json
import logging

import pytest
from django.core import mail
from django.test import Client

from petition.codes import code_batch_create
from petition.models import EmailCode, PendingSignature, Signature
from tests.signing_client import b64, start

pytestmark = [pytest.mark.faults, pytest.mark.django_db]


def _redis_cache(url: str, prefix: str, **extra) -> dict:
    return {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": url,
        "KEY_PREFIX": prefix,
        # As in production: a dead Redis must not hold a request for long.
        "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        **extra,
    }


def post(client, petition, path, body):
    return client.post(
        f"/api/v1/petitions/{petition.slug}/{path}",
        json.dumps(body),
        content_type="application/json",
    )


def credential(client, petition, code):
    pending = start(client, petition, "in_person")
    answer = post(
        client,
        petition,
        "credentials",
        {"level": "in_person", "code": code, "blinded_msg": b64(pending.blinded)},
    )
    assert answer.status_code == 200, answer.content
    assert not answer.cookies
    return pending.finish(answer.json()["blind_sig"])


def assert_unavailable(response):
    assert response.status_code == 503, response.content
    assert response["Content-Type"] == "application/json"
    assert response.json()["error"]["code"] == "unavailable"
    assert int(response["Retry-After"]) > 0
    assert not response.cookies


def reads_still_work(client, petition):
    for path in (
        f"/p/{petition.slug}/",
        f"/api/v1/petitions/{petition.slug}",
        f"/api/v1/petitions/{petition.slug}/keys",
        f"/api/v1/petitions/{petition.slug}/log",
    ):
        response = client.get(path)
        assert response.status_code == 200, (path, response.status_code)


def test_one_redis_down_reading_and_issuing_work_signing_and_codes_wait(
    settings, private_redis, open_petition, caplog, django_capture_on_commit_callbacks
):
    settings.CACHES = {
        "default": _redis_cache(private_redis.url, "cs-down"),
        "sealing": _redis_cache(private_redis.url, "cs-down-sealing", TIMEOUT=None),
    }
    # The public page and API are kept in this Redis too (petition/pagecache.py).
    settings.COUNTERSIGN_PAGE_CACHE = True
    client = Client(REMOTE_ADDR="203.0.113.7")
    reads_still_work(client, open_petition)  # kept
    _batch, codes = code_batch_create(petition=open_petition, level="in_person", size=10)
    # Up: the usual path.
    signed = post(
        client, open_petition, "signatures", credential(client, open_petition, codes[0]).payload()
    )
    assert signed.status_code == 201
    before = (Signature.objects.count(), PendingSignature.objects.count())

    private_redis.stop()
    caplog.set_level(logging.WARNING)
    reads_still_work(client, open_petition)
    # Issuance: fail open (the code authorizes, not the counter).
    waiting = credential(client, open_petition, codes[1])
    # Signing needs the sealing store: 503, nothing stored, the credential still good.
    assert_unavailable(post(client, open_petition, "signatures", waiting.payload()))
    assert (Signature.objects.count(), PendingSignature.objects.count()) == before
    # Email codes: closed, nothing stored, nothing mailed.
    mail.outbox.clear()
    asked = post(client, open_petition, "email-codes", {"email": "ada@example.com"})
    assert_unavailable(asked)
    assert not EmailCode.objects.exists() and not mail.outbox
    # No line names the client.
    assert "203.0.113" not in caplog.text and "ada@" not in caplog.text
    assert "cache unavailable" in caplog.text

    private_redis.start()  # back, empty (no persistence): the same credential now signs
    signed = post(client, open_petition, "signatures", waiting.payload())
    assert signed.status_code == 201, signed.content
    reads_still_work(client, open_petition)
    with django_capture_on_commit_callbacks(execute=True):
        asked = post(client, open_petition, "email-codes", {"email": "ada@example.com"})
    assert asked.status_code == 202
    assert EmailCode.objects.count() == 1 and len(mail.outbox) == 1


def test_rate_limit_redis_down_with_a_separate_sealing_store_signing_goes_on(
    settings, private_redis, open_petition
):
    """The sealing store on its own Redis (docs/operations.md recommends it): losing the
    rate-limit Redis stops only the email-code requests."""
    settings.CACHES = {
        **settings.CACHES,  # the sealing store stays on the test Redis
        "default": _redis_cache(private_redis.url, "cs-down"),
    }
    settings.COUNTERSIGN_PAGE_CACHE = True
    client = Client()
    reads_still_work(client, open_petition)  # kept
    _batch, codes = code_batch_create(petition=open_petition, level="in_person", size=10)
    private_redis.stop()
    reads_still_work(client, open_petition)
    first = credential(client, open_petition, codes[0])
    signed = post(client, open_petition, "signatures", first.payload(comment="still here"))
    assert signed.status_code == 201, signed.content
    assert Signature.objects.filter(petition=open_petition).count() == 1
    withdrawn = post(client, open_petition, "withdrawals", {"token": b64(first.token)})
    assert withdrawn.status_code == 200, withdrawn.content
    assert_unavailable(post(client, open_petition, "email-codes", {"email": "bo@example.com"}))


def test_staff_login_while_redis_is_down_answers_503_not_500(
    settings, private_redis, organizer, caplog
):
    """allauth counts login attempts in the cache: without Redis nobody can be counted, so
    nobody signs in (closed), with a page that says to try again, never an error page."""
    settings.CACHES = {**settings.CACHES, "default": _redis_cache(private_redis.url, "cs-down")}
    private_redis.stop()
    client = Client(raise_request_exception=False)
    response = client.post(
        "/accounts/login/", {"login": organizer.email, "password": "irrelevant-here"}
    )
    assert response.status_code == 503, response.status_code
    assert response["Retry-After"] == "30"
    assert "Back in a minute" in response.content.decode()
    assert organizer.email not in caplog.text
