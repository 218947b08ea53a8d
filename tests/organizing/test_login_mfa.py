"""Signing in: password, then the second factor; MFA set-up unlocks staff pages."""

from __future__ import annotations

import pytest
from allauth.mfa.totp.internal.auth import format_hotp_value, hotp_value
from django.core.cache import cache
from django.urls import reverse

from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db


def totp_now(secret: str) -> str:
    import time

    # The server accepts only the current 30-second step (no tolerance): a code made in the
    # last seconds of a step may reach it in the next one, so wait for a fresh step then.
    if 30 - time.time() % 30 < 3:
        time.sleep(30 - time.time() % 30 + 0.1)
    return format_hotp_value(hotp_value(secret, int(time.time()) // 30))


def test_password_alone_does_not_sign_in_a_user_with_totp(client, organizer):
    response = client.post(
        reverse("account_login"), {"login": organizer.email, "password": PASSWORD}
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("mfa_authenticate")
    assert client.get(reverse("staff:dashboard")).status_code == 302


def test_password_and_totp_open_the_dashboard(client, organizer):
    client.post(reverse("account_login"), {"login": organizer.email, "password": PASSWORD})
    response = client.post(reverse("mfa_authenticate"), {"code": totp_now(organizer.totp_secret)})
    assert response.status_code == 302
    dashboard = client.get(reverse("staff:dashboard"))
    assert dashboard.status_code == 200
    assert organizer.campaigns.first().name in dashboard.content.decode()


def test_wrong_totp_code_is_refused(client, organizer):
    client.post(reverse("account_login"), {"login": organizer.email, "password": PASSWORD})
    response = client.post(reverse("mfa_authenticate"), {"code": "000000"})
    assert response.status_code == 200
    assert "code" in response.context["form"].errors
    assert client.get(reverse("staff:dashboard")).status_code == 302


def test_setting_up_totp_unlocks_staff_pages(client, organizer_without_mfa):
    client.post(
        reverse("account_login"), {"login": organizer_without_mfa.email, "password": PASSWORD}
    )
    assert client.get(reverse("staff:dashboard"))["Location"] == reverse("mfa_index")
    # allauth keeps the proposed secret in the session until the first code confirms it.
    # Adding a factor asks for the password again (allauth's reauthentication).
    assert client.get(reverse("mfa_activate_totp")).status_code == 302
    client.post(reverse("account_reauthenticate"), {"password": PASSWORD})
    page = client.get(reverse("mfa_activate_totp"))
    secret = page.context["form"].secret
    response = client.post(reverse("mfa_activate_totp"), {"code": totp_now(secret)})
    assert response.status_code == 302
    assert client.get(reverse("staff:dashboard")).status_code == 200


def test_failed_logins_are_rate_limited_in_redis(client, organizer):
    cache.clear()
    for _ in range(5):
        response = client.post(
            reverse("account_login"), {"login": organizer.email, "password": "wrong password"}
        )
        assert b"Too many failed login attempts" not in response.content
    # The limit (5 failures per 5 minutes per account) is counted in the Redis cache; once
    # it is reached even the right password is turned away.
    response = client.post(
        reverse("account_login"), {"login": organizer.email, "password": PASSWORD}
    )
    assert b"Too many failed login attempts" in response.content
    assert client.get(reverse("mfa_authenticate")).status_code != 200
    assert any(b"login_failed" in key for key in _redis_keys())


def _redis_keys() -> list[bytes]:
    import redis
    from django.conf import settings

    ours = settings.CACHES["default"]["KEY_PREFIX"]  # other workers share this Redis
    return redis.Redis.from_url(settings.REDIS_URL).keys(f"{ours}:*")


def test_login_limits_count_the_client_behind_the_proxy_not_the_proxy(client, organizer, settings):
    """Behind a reverse proxy, ten failed logins from anyone must not lock every
    organizer out."""
    settings.COUNTERSIGN_TRUSTED_PROXIES = 1
    cache.clear()
    proxy = {"REMOTE_ADDR": "127.0.0.1"}
    for n in range(11):  # past the limit of 10 failures a minute per address
        client.post(
            reverse("account_login"),
            {"login": f"nobody{n}@example.com", "password": "wrong password"},
            HTTP_X_FORWARDED_FOR="203.0.113.66",
            **proxy,
        )
    refused = client.post(
        reverse("account_login"),
        {"login": "nobody@example.com", "password": "wrong password"},
        HTTP_X_FORWARDED_FOR="203.0.113.66",
        **proxy,
    )
    assert b"Too many failed login attempts" in refused.content
    response = client.post(
        reverse("account_login"),
        {"login": organizer.email, "password": PASSWORD},
        HTTP_X_FORWARDED_FOR="192.0.2.10",
        **proxy,
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("mfa_authenticate")


def _login(client, email: str, password: str, client_address: str):
    return client.post(
        reverse("account_login"),
        {"login": email, "password": password},
        HTTP_X_FORWARDED_FOR=client_address,
        REMOTE_ADDR="127.0.0.1",
    )


def test_review_l10_five_wrong_logins_from_one_client_do_not_lock_the_owner_out(
    client, organizer, settings
):
    """Before: five wrong passwords for a known staff address from client A refused the
    organizer's own login from client B. The per-account limit now counts per client."""
    settings.COUNTERSIGN_TRUSTED_PROXIES = 1
    cache.clear()
    attacker = "203.0.113.66"
    for _ in range(5):
        response = _login(client, organizer.email, "wrong password", attacker)
        assert b"Too many failed login attempts" not in response.content
    refused = _login(client, organizer.email, PASSWORD, attacker)
    assert b"Too many failed login attempts" in refused.content  # A is still limited
    response = _login(client, organizer.email, PASSWORD, "192.0.2.10")
    assert response.status_code == 302
    assert response["Location"] == reverse("mfa_authenticate")
    # The cache holds the counts under keyed hashes, never a client's address.
    keys = [key for key in _redis_keys() if b"login_failed" in key]
    assert keys
    assert not any(attacker.encode() in key or b"192.0.2.10" in key for key in keys)


def test_failed_logins_from_many_clients_meet_the_per_account_ceiling(client, organizer, settings):
    settings.COUNTERSIGN_TRUSTED_PROXIES = 1
    settings.ACCOUNT_RATE_LIMITS = {
        **settings.ACCOUNT_RATE_LIMITS,
        "login_failed_account": "8/h/key",
    }
    cache.clear()
    for n in range(8):  # two wrong passwords from each of four addresses
        response = _login(client, organizer.email, "wrong password", f"198.51.100.{n // 2}")
        assert b"Too many failed login attempts" not in response.content
    refused = _login(client, organizer.email, PASSWORD, "192.0.2.10")
    assert b"Too many failed login attempts" in refused.content
    # Another account is not affected.
    other = _login(client, "someone.else@example.com", "wrong password", "192.0.2.10")
    assert b"Too many failed login attempts" not in other.content


def test_a_successful_login_does_not_count_toward_either_limit(client, organizer, settings):
    settings.COUNTERSIGN_TRUSTED_PROXIES = 1
    settings.ACCOUNT_RATE_LIMITS = {
        **settings.ACCOUNT_RATE_LIMITS,
        "login_failed_account": "3/h/key",
    }
    cache.clear()
    for _ in range(5):
        response = _login(client, organizer.email, PASSWORD, "192.0.2.10")
        assert response["Location"] == reverse("mfa_authenticate")
        client.logout()
