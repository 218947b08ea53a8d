"""Every URL the site serves, walked as a signer, as staff signed in with a second factor,
and through allauth's pages and the error pages: each answer carries a CSP without
'unsafe-inline', a Referrer-Policy, frame denial and a Permissions-Policy; production
settings add HSTS."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from organizing.flyers.services import flyer_batch_create
from tests.staff_urls import STAFF_URLS

pytestmark = pytest.mark.django_db

FRAME_DENIED = "frame-ancestors 'none'"


def check_headers(response, where: str) -> None:
    csp = response.get("Content-Security-Policy", "")
    assert csp, f"{where}: no CSP"
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp, f"{where}: {csp}"
    assert "default-src 'none'" in csp, f"{where}: {csp}"
    assert response.get("Referrer-Policy") in ("no-referrer", "same-origin"), where
    assert response.get("X-Frame-Options") == "DENY" or FRAME_DENIED in csp, where
    assert FRAME_DENIED in csp, where
    policy = response.get("Permissions-Policy", "")
    assert "camera=()" in policy and "geolocation=()" in policy, f"{where}: {policy!r}"
    assert response.get("X-Content-Type-Options") == "nosniff", where


def routes_without_arguments(prefix: str) -> list[str]:
    found = []

    def walk(patterns, route_prefix):
        for pattern in patterns:
            route = route_prefix + str(pattern.pattern)
            if isinstance(pattern, URLResolver):
                walk(pattern.url_patterns, route)
            elif (
                isinstance(pattern, URLPattern)
                and "<" not in route
                and "^" not in route
                and route.startswith(prefix)
            ):
                found.append("/" + route)

    walk(get_resolver().url_patterns, "")
    return sorted(set(found))


@pytest.fixture
def public_paths(open_petition):
    batch = flyer_batch_create(
        petition=open_petition, label="lobby", design="poster", paper="a4", copies=1
    )
    slug = open_petition.slug
    return [
        "/",
        f"/c/{open_petition.campaign.slug}/",
        f"/p/{slug}/",
        f"/p/{slug}/audit/",
        f"/api/v1/petitions/{slug}",
        f"/api/v1/petitions/{slug}/keys",
        f"/api/v1/petitions/{slug}/log",
        "/api/v1/log",
        "/api/v1/openapi.yaml",
        "/log/checkpoint",
        "/log/tile/0/000",
        f"/f/{batch.code}",
        "/no/such/page/",
        "/api/v1/petitions/no-such",
        "/api/v1/petitions/a.b/keys",
    ]


def test_every_public_and_signer_url(client, public_paths, open_petition):
    for path in public_paths:
        check_headers(client.get(path), path)
    for endpoint in ("email-codes", "credentials", "signatures", "withdrawals"):
        path = f"/api/v1/petitions/{open_petition.slug}/{endpoint}"
        check_headers(client.post(path, "{}", content_type="application/json"), path)


def test_every_allauth_page_anonymous_and_signed_in(client, organizer):
    paths = routes_without_arguments("accounts/")
    assert "/accounts/login/" in paths and "/accounts/2fa/" in paths
    for path in paths:
        check_headers(client.get(path), f"anonymous {path}")
    client.force_login(organizer)
    for path in paths:
        if path.endswith("/logout/"):
            continue
        check_headers(client.get(path), f"signed in {path}")


@pytest.mark.parametrize("url", STAFF_URLS, ids=lambda u: u.name)
def test_every_staff_url_signed_in_with_mfa(client, url, campaign, draft_petition, organizer):
    client.force_login(organizer)
    path = url.path(campaign, draft_petition)
    response = getattr(client, url.method)(path)
    assert response.status_code < 500
    check_headers(response, f"{url.method} {path} -> {response.status_code}")


def test_the_error_pages(client, campaign, moderator, organizer):
    not_found = client.get("/nothing-here/")
    assert not_found.status_code == 404
    check_headers(not_found, "404")
    client.force_login(moderator)
    forbidden = client.get(reverse("staff:campaign_edit", kwargs={"slug": campaign.slug}))
    assert forbidden.status_code == 403
    check_headers(forbidden, "403")
    bad_host = client.get("/", HTTP_HOST="evil.example")
    assert bad_host.status_code == 400
    assert "Bad request" in bad_host.content.decode()
    check_headers(bad_host, "400")
    too_big = client.generic("POST", "/accounts/login/", b"x", CONTENT_LENGTH=str(10**7))
    assert too_big.status_code == 413
    check_headers(too_big, "413")


def test_production_settings_send_hsts_and_keep_the_other_headers():
    """The production settings module, loaded in its own process with the dummy values
    `make test` uses for `check --deploy`."""
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.production",
        "DJANGO_SECRET_KEY": "headers-test-0f9c1d7e5b3a2c4e6f8a0b1c3d5e7f9a1b3c5d7e9f1",
        "DJANGO_ALLOWED_HOSTS": "petition.example.org",
        "DATABASE_URL": "postgres://countersign:dummy@db.invalid:5432/countersign",
        "REDIS_URL": "redis://cache.invalid:6379/0",
        "EMAIL_URL": "smtp+tls://countersign:dummy@mail.invalid:587",
        "COUNTERSIGN_BASE_URL": "https://petition.example.org",
        "COUNTERSIGN_KEY_ENCRYPTION_KEY": "Q2hlY2stZGVwbG95IGR1bW15OiBub3QgYSBzZWNyZXQhIQ",
    }
    script = (
        "import django; django.setup()\n"
        "from django.test import RequestFactory\n"
        "from django.http import HttpResponse\n"
        "from django.middleware.security import SecurityMiddleware\n"
        "from config.limits import PermissionsPolicyMiddleware\n"
        "from django.conf import settings as s\n"
        "r = RequestFactory().get('/', secure=True, HTTP_HOST='petition.example.org')\n"
        "resp = SecurityMiddleware(PermissionsPolicyMiddleware(lambda q: HttpResponse()))(r)\n"
        "print(resp['Strict-Transport-Security'])\n"
        "print(resp['Referrer-Policy'])\n"
        "print(s.SECURE_SSL_REDIRECT, s.X_FRAME_OPTIONS, bool(resp['Permissions-Policy']))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    hsts, referrer, rest = result.stdout.strip().splitlines()
    assert hsts == "max-age=31536000; includeSubDomains; preload"
    assert referrer == "no-referrer"
    assert rest == "True DENY True"
