"""Oversized bodies are refused from their declared size, before anything reads them, and
no `next=` or flyer link sends a browser to another site."""

from __future__ import annotations

import json
from urllib.parse import urlencode, urljoin, urlsplit

import pytest
from django.urls import reverse

from organizing.flyers.services import flyer_batch_create
from organizing.models import Campaign
from petition.models import Signature
from tests.factories import PASSWORD
from tests.organizing.test_login_mfa import totp_now

pytestmark = pytest.mark.django_db

API_CAP = 16 * 1024

# Every spelling of "another site" we know browsers follow, and some they don't.
EVIL_NEXTS = [
    "https://evil.example/",
    "http://evil.example",
    "//evil.example",
    "///evil.example",
    "////evil.example/x",
    "https:evil.example",
    "https:/evil.example",
    "\\\\evil.example",
    "/\\evil.example",
    "\\/evil.example",
    "/%2F/evil.example",
    "%2F%2Fevil.example",
    "%2f%2fevil.example",
    "/%5Cevil.example",
    "//evil.example@testserver/",
    "https://testserver@evil.example/",
    "\t//evil.example",
    " //evil.example",
    "/\t/evil.example",
    "javascript:alert(1)",
    "data:text/html,hi",
    "//evil%2Eexample",
    "https://evil.example%23.testserver/",
]


def lands_on_this_site(location: str) -> bool:
    """Where a browser would go: it drops tabs and newlines, reads a backslash as a slash,
    and resolves the rest against the current address."""
    cleaned = location.replace("\t", "").replace("\n", "").replace("\r", "").strip()
    cleaned = cleaned.replace("\\", "/")
    target = urlsplit(urljoin("https://testserver/accounts/login/", cleaned))
    return target.scheme == "https" and target.netloc == "testserver"


def test_the_browser_model_of_this_test_can_fail():
    # The helper must see these as another site, or the redirect tests prove nothing.
    off_site = [
        "https://evil.example/",
        "//evil.example",
        "\\\\evil.example",
        "/\\evil.example",
        "\t//evil.example",
        "/\t/evil.example",
    ]
    assert not any(lands_on_this_site(n) for n in off_site)
    assert lands_on_this_site("/staff/")


# --- body sizes ---------------------------------------------------------------------------


def test_an_api_body_over_16_kib_gets_413_json_and_writes_nothing(client, open_petition):
    body = json.dumps({"key_id": "A", "msg": "B", "sig": "C", "comment": "x" * API_CAP})
    response = client.post(
        f"/api/v1/petitions/{open_petition.slug}/signatures", body, content_type="application/json"
    )
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "payload_too_large"
    assert Signature.objects.count() == 0
    assert "Set-Cookie" not in response


def test_an_api_body_of_exactly_16_kib_is_read(client, open_petition):
    body = json.dumps({"token": "A", "pad": ""})
    body = body[:-2] + "x" * (API_CAP - len(body)) + '"}'
    assert len(body) == API_CAP
    response = client.post(
        f"/api/v1/petitions/{open_petition.slug}/withdrawals", body, content_type="application/json"
    )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "malformed"


def test_the_declared_length_is_enough_to_refuse_nothing_is_read(client, open_petition):
    # The body is two bytes; the header says 10 MB. Reading it would fail (the test
    # client's payload refuses to read past its end): the 413 proves nothing read it.
    response = client.generic(
        "POST",
        f"/api/v1/petitions/{open_petition.slug}/email-codes",
        b"{}",
        content_type="application/json",
        CONTENT_LENGTH="10000000",
    )
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "payload_too_large"


def test_a_get_with_a_huge_body_on_the_api_is_refused_too(client, open_petition):
    response = client.generic(
        "GET",
        f"/api/v1/petitions/{open_petition.slug}",
        b"x",
        CONTENT_LENGTH=str(API_CAP + 1),
    )
    assert response.status_code == 413


def test_a_staff_form_over_the_cap_gets_a_413_page_and_writes_nothing(client, site_organizer):
    client.force_login(site_organizer)
    before = Campaign.objects.count()
    response = client.post(
        reverse("staff:campaign_create"),
        {"name": "Big", "slug": "big", "description": "x" * (600 * 1024)},
    )
    assert response.status_code == 413
    assert "Too much data" in response.content.decode()
    assert "Content-Security-Policy" in response
    assert Campaign.objects.count() == before


def test_a_long_but_allowed_petition_text_still_gets_through_the_cap(client, site_organizer):
    # 20,000 four-byte characters, percent-encoded: the longest text a form takes.
    body = urlencode({"body": "\U0001f600" * 20_000}).encode()
    assert 200 * 1024 < len(body) < 512 * 1024
    client.force_login(site_organizer)
    response = client.post(
        reverse("staff:campaign_create"), body, content_type="application/x-www-form-urlencoded"
    )
    assert response.status_code != 413


# --- open redirects -----------------------------------------------------------------------


def _sign_in(client, user, next_url: str):
    login = client.post(
        f"{reverse('account_login')}?{urlencode({'next': next_url})}",
        {"login": user.email, "password": PASSWORD, "next": next_url},
    )
    assert login.status_code == 302
    return client.post(reverse("mfa_authenticate"), {"code": totp_now(user.totp_secret)})


@pytest.mark.parametrize("evil", EVIL_NEXTS)
def test_signing_in_never_follows_next_to_another_site(client, organizer, evil):
    response = _sign_in(client, organizer, evil)
    assert response.status_code == 302
    assert lands_on_this_site(response["Location"]), response["Location"]


def test_signing_in_does_follow_a_local_next(client, organizer):
    response = _sign_in(client, organizer, "/staff/")
    assert response["Location"] == "/staff/"


@pytest.mark.parametrize("evil", EVIL_NEXTS[:12])
def test_signing_out_never_follows_next_to_another_site(client, organizer, evil):
    client.force_login(organizer)
    response = client.post(reverse("account_logout"), {"next": evil})
    assert response.status_code == 302
    assert lands_on_this_site(response["Location"]), response["Location"]


@pytest.mark.parametrize("evil", EVIL_NEXTS)
def test_a_flyer_link_only_ever_leads_to_its_petition(client, open_petition, evil):
    batch = flyer_batch_create(
        petition=open_petition, label="lobby", design="poster", paper="a4", copies=1
    )
    response = client.get(f"/f/{batch.code}", {"next": evil, "url": evil})
    assert response.status_code == 302
    assert response["Location"] == open_petition.get_absolute_url()
    # A code that is itself an address is no code at all.
    assert client.get("/f/" + evil.lstrip("/\\")).status_code in (404, 301)
