"""The employer-network warning (P6) and abuse limits, without storing addresses (P1)."""

from __future__ import annotations

import json

import pytest
import redis
from django.core.cache import cache

from petition.models import Signature
from petition.services import petition_publish

from .signing_client import mint

pytestmark = pytest.mark.django_db

OFFICE = "198.51.100.23"  # inside the factory campaign's employer range 198.51.100.0/24
HOME = "192.0.2.50"


def test_visitors_from_the_employer_network_are_warned(client, published_petition):
    page = client.get(published_petition.get_absolute_url(), REMOTE_ADDR=OFFICE)
    assert "on your employer" in page.content.decode()
    assert not page.cookies
    page = client.get(published_petition.get_absolute_url(), REMOTE_ADDR=HOME)
    assert "on your employer" not in page.content.decode()


def test_trusted_proxy_setting_decides_which_address_counts(client, published_petition, settings):
    url = published_petition.get_absolute_url()
    # No trusted proxy: a forged X-Forwarded-For changes nothing.
    page = client.get(url, REMOTE_ADDR=HOME, HTTP_X_FORWARDED_FOR=OFFICE)
    assert "on your employer" not in page.content.decode()
    # One trusted proxy: the address it appended is the client's.
    settings.COUNTERSIGN_TRUSTED_PROXIES = 1
    page = client.get(url, REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR=f"10.9.9.9, {OFFICE}")
    assert "on your employer" in page.content.decode()


def test_signing_is_rate_limited_per_hashed_address(client, draft_petition, settings):
    petition = petition_publish(petition=draft_petition)
    settings.COUNTERSIGN_RATE_LIMITS = {**settings.COUNTERSIGN_RATE_LIMITS, "signatures": (3, 600)}
    cache.clear()
    url = f"/api/v1/petitions/{petition.slug}/signatures"
    statuses = [
        client.post(
            url,
            json.dumps(mint(petition).payload()),
            content_type="application/json",
            REMOTE_ADDR=OFFICE,
        ).status_code
        for _ in range(5)
    ]
    assert statuses == [201, 201, 201, 429, 429]
    limited = client.post(url, "{}", content_type="application/json", REMOTE_ADDR=OFFICE)
    assert limited.json()["error"]["code"] == "rate_limited"
    assert limited["Retry-After"] == "600"
    assert Signature.objects.count() == 3
    # Another address is not affected.
    other = client.post(
        url, json.dumps(mint(petition).payload()), content_type="application/json", REMOTE_ADDR=HOME
    )
    assert other.status_code == 201
    # Redis holds only keyed hashes that expire, never the address.
    r = redis.Redis.from_url(settings.REDIS_URL)
    keys = [k for k in r.keys("*") if b":rl:signatures:" in k]
    assert keys
    for key in keys:
        assert OFFICE.encode() not in key and HOME.encode() not in key
        assert 0 < r.ttl(key) <= 600
        assert OFFICE.encode() not in (r.get(key) or b"")


@pytest.mark.parametrize("action", ["email_codes", "credentials", "signatures", "withdrawals"])
def test_every_signer_endpoint_answers_429_past_its_limit(client, open_petition, settings, action):
    settings.COUNTERSIGN_RATE_LIMITS = {**settings.COUNTERSIGN_RATE_LIMITS, action: (1, 600)}
    cache.clear()
    url = f"/api/v1/petitions/{open_petition.slug}/{action.replace('_', '-')}"
    first = client.post(url, "{}", content_type="application/json", REMOTE_ADDR=OFFICE)
    assert first.status_code == 400  # counted, then refused as malformed
    second = client.post(url, "{}", content_type="application/json", REMOTE_ADDR=OFFICE)
    assert (second.status_code, second.json()["error"]["code"]) == (429, "rate_limited")
