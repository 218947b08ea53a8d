"""The employer-network warning (P6) and abuse limits, without storing addresses (P1)."""

from __future__ import annotations

import json
import time

import pytest
import redis
from django.core import mail
from django.core.cache import cache, caches

from petition.models import EmailCode, Signature
from petition.ratelimits import count_in_window, fixed_window
from petition.services import petition_publish
from tests.signing_client import mint

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
    ours = settings.CACHES["default"]["KEY_PREFIX"]  # other workers share this Redis
    keys = [k for k in r.keys(f"{ours}:*") if b":rl:signatures:" in k]
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


@pytest.mark.parametrize("action", ["email_codes", "credentials", "signatures", "withdrawals"])
@pytest.mark.parametrize(
    "content_type", ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data"]
)
def test_json_endpoints_refuse_other_content_types(
    client, open_petition, action, content_type, django_capture_on_commit_callbacks
):
    # A web page on any site may make its visitors' browsers post these without a preflight.
    url = f"/api/v1/petitions/{open_petition.slug}/{action.replace('_', '-')}"
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            url, json.dumps({"email": "ada@example.com"}), content_type=content_type
        )
    assert response.status_code == 415
    assert response.json()["error"]["code"] == "unsupported_media_type"
    assert "application/json" in response.json()["error"]["message"]
    assert not mail.outbox and not EmailCode.objects.exists()


def test_json_with_a_charset_is_json(client, open_petition):
    url = f"/api/v1/petitions/{open_petition.slug}/email-codes"
    body = json.dumps({"email": "ada@example.com"})
    response = client.post(url, body, content_type="application/json; charset=utf-8")
    assert response.status_code == 202


def _post_from(client, url, address):
    return client.post(url, "{}", content_type="application/json", REMOTE_ADDR=address)


def test_ipv6_clients_are_counted_per_64(client, open_petition, settings):
    settings.COUNTERSIGN_RATE_LIMITS = {**settings.COUNTERSIGN_RATE_LIMITS, "signatures": (2, 600)}
    cache.clear()
    url = f"/api/v1/petitions/{open_petition.slug}/signatures"
    one_customer = ["2001:db8:1:2::1", "2001:db8:1:2:ffff::7", "2001:db8:1:2:abcd:1:2:3"]
    statuses = [_post_from(client, url, a).status_code for a in one_customer]
    assert statuses == [400, 400, 429]
    assert _post_from(client, url, "2001:db8:1:3::1").status_code == 400  # the next /64


def test_limit_keys_expire_at_the_end_of_a_fixed_window(client, open_petition, settings):
    """A key's lifetime must not tell when its first request came."""
    url = f"/api/v1/petitions/{open_petition.slug}/signatures"
    r = redis.Redis.from_url(settings.REDIS_URL)
    for _attempt in range(2):  # once more if the pause happened to cross a window's end
        cache.clear()
        window = int(time.time()) // 600
        _post_from(client, url, OFFICE)
        time.sleep(2.5)
        _post_from(client, url, HOME)
        if int(time.time()) // 600 == window:
            break
    ours = settings.CACHES["default"]["KEY_PREFIX"]  # other test runs share this Redis
    lifetimes = [r.pttl(k) for k in r.keys(f"{ours}:*") if b":rl:signatures:" in k]
    assert len(lifetimes) == 2
    # The cache counts whole seconds: both end within a second of the window's end, not
    # 2.5 s apart like their first requests.
    assert abs(lifetimes[0] - lifetimes[1]) < 1000
    assert max(lifetimes) <= (600 - time.time() % 600) * 1000 + 1000


def test_a_limit_counts_in_one_round_trip_and_its_key_expires_with_the_window(db):
    """The counter is made with the window's expiry and counted in one MULTI (SET NX EX,
    INCR, EXPIRE NX): every key expires by the end of its window, whatever the timing."""
    cache.clear()
    assert not count_in_window(b"rl:test", "198.51.100.1", 2, 600, fail_open=False)
    assert not count_in_window(b"rl:test", "198.51.100.1", 2, 600, fail_open=False)
    assert count_in_window(b"rl:test", "198.51.100.1", 2, 600, fail_open=False)  # the third
    backend = caches["default"]
    client = backend._cache.get_client(None, write=True)
    keys = list(client.scan_iter(match=f"{backend.key_prefix}:*rl:test:*"))
    assert len(keys) == 1
    assert int(client.get(keys[0])) == 3
    assert 0 < client.ttl(keys[0]) <= fixed_window(600)[1]
