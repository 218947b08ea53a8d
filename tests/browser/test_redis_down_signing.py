"""A signer while Redis is down (ops walk, row 25): the credential is issued (its limit
fails open), signing answers 503 and the page says to try again with the credential kept;
once Redis is back the same button signs. Chromium at phone size, against a redis-server the
test starts and stops (never the machine's)."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import expect

from petition.codes import code_batch_create
from petition.models import Signature
from petition.services import petition_publish
from tests.factories import PetitionFactory
from tests.integration.instances import RedisServer

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
SHOTS = Path("/work/shots/ops")


@pytest.fixture
def own_redis(tmp_path, settings):
    server = RedisServer(tmp_path)
    server.start()
    options = {"socket_connect_timeout": 1, "socket_timeout": 1}
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": server.url,
            "KEY_PREFIX": "browser-down",
            "OPTIONS": options,
        },
        "sealing": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": server.url,
            "KEY_PREFIX": "browser-down-sealing",
            "TIMEOUT": None,
            "OPTIONS": options,
        },
    }
    yield server
    server.stop()


def _shot(page, name: str) -> None:
    if SHOTS.parent.exists():
        SHOTS.mkdir(exist_ok=True)
        page.screenshot(path=str(SHOTS / name), full_page=True)


def test_signing_waits_for_redis_and_keeps_the_credential(live_server, page, own_redis):
    petition = petition_publish(petition=PetitionFactory())
    _batch, codes = code_batch_create(petition=petition, level="in_person", size=10)
    page.goto(f"{live_server.url}/p/{petition.slug}/#code={codes[0]}")
    expect(page.locator("#code-input")).to_have_value(codes[0])

    own_redis.stop()
    page.locator("#code-submit").click()
    expect(page.locator("#step-credential")).to_be_visible()  # issuance: fail open
    page.locator("#sign-now").click()
    # The client sends the 503'd request again 4 times over about 15 s (static/js/sign.js),
    # then says so.
    expect(page.locator("#sign-error")).to_contain_text("Nothing was lost", timeout=30_000)
    expect(page.locator("#step-credential")).to_be_visible()  # still there to send again
    _shot(page, "redis-down-sign-phone.png")
    assert not Signature.objects.exists()

    own_redis.start()
    page.locator("#sign-now").click()
    expect(page.locator("#step-done")).to_be_visible()
    assert Signature.objects.filter(petition=petition).count() == 1
    _shot(page, "redis-back-signed-phone.png")
    unexpected = [p for p in page.problems if "503" not in p]
    assert unexpected == []


def test_a_short_outage_is_bridged_by_the_clients_own_retry(live_server, page, own_redis):
    """The client sends a 503'd signature again by itself (1, 2, 4, 8 s): Redis back within
    a few seconds, the one click signs, with no error shown."""
    petition = petition_publish(petition=PetitionFactory())
    _batch, codes = code_batch_create(petition=petition, level="in_person", size=10)
    page.goto(f"{live_server.url}/p/{petition.slug}/#code={codes[0]}")
    page.locator("#code-submit").click()
    expect(page.locator("#step-credential")).to_be_visible()

    own_redis.stop()
    with page.expect_response(lambda r: r.url.endswith("/signatures") and r.status == 503):
        page.locator("#sign-now").click()
    own_redis.start()
    expect(page.locator("#step-done")).to_be_visible(timeout=20_000)
    expect(page.locator("#sign-error")).to_be_empty()
    assert Signature.objects.filter(petition=petition).count() == 1
