"""What signers and the public see: no cookies, no third-party assets, sanitized demands."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from petition.models import Petition
from tests.factories import PetitionFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def public_urls(published_petition):
    return [
        reverse("petition:home"),
        reverse("petition:campaign", kwargs={"slug": published_petition.campaign.slug}),
        reverse("petition:detail", kwargs={"slug": published_petition.slug}),
        "/p/no-such-petition/",
    ]


def test_public_pages_set_no_cookie(client, public_urls):
    for url in public_urls:
        response = client.get(url)
        assert response.status_code in (200, 404), url
        assert not response.cookies, f"{url} set {list(response.cookies)}"
        assert "Set-Cookie" not in response.headers


def test_public_pages_set_no_cookie_even_for_a_signed_in_staff_member(
    client, organizer, public_urls
):
    client.force_login(organizer)
    for url in public_urls:
        assert not client.get(url).cookies, url


def test_public_pages_load_nothing_from_another_host(client, public_urls):
    for url in public_urls:
        html = client.get(url).content.decode()
        assert not re.search(r"""(src|href)=["'](https?:)?//""", html), url


def test_public_pages_carry_the_security_headers(client, public_urls):
    for url in public_urls:
        response = client.get(url)
        csp = response.headers["Content-Security-Policy"]
        assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
        assert "script-src 'self'" in csp
        assert "default-src 'none'" in csp
        assert "frame-ancestors 'none'" in csp
        assert response.headers["Referrer-Policy"] == "no-referrer"
        assert response.headers["X-Frame-Options"] == "DENY"


def test_templates_contain_no_inline_script_or_handler(client, public_urls):
    for url in public_urls:
        html = client.get(url).content.decode()
        for match in re.finditer(r"<script\b([^>]*)>(.*?)</script>", html, re.S):
            attrs, body = match.groups()
            assert "src=" in attrs and not body.strip(), url
        assert not re.search(r"\son[a-z]+\s*=", html), url
        assert "style=" not in html, url


def test_petition_page_shows_the_petition_and_the_device_warning(client, published_petition):
    html = client.get(published_petition.get_absolute_url()).content.decode()
    assert published_petition.title in html
    assert published_petition.addressed_to in html
    assert "<strong>Stop</strong> the tracking" in html
    assert "Use your personal phone" in html
    assert "of a goal of 100" in html
    assert '<progress class="progress" max="100" value="0"' in html


def test_draft_petition_is_not_public(client, draft_petition):
    response = client.get(draft_petition.get_absolute_url())
    assert response.status_code == 404
    assert draft_petition.title not in response.content.decode()


def test_campaign_without_public_petitions_is_not_listed(client, draft_petition):
    assert draft_petition.campaign.name not in client.get("/").content.decode()
    url = reverse("petition:campaign", kwargs={"slug": draft_petition.campaign.slug})
    assert client.get(url).status_code == 404


@pytest.mark.parametrize(
    "payload",
    [
        "<script>alert('x')</script>",
        '<img src="x" onerror="alert(1)">',
        "[click](javascript:alert(1))",
        '<a href="https://evil.example" onclick="steal()">x</a>',
        "<iframe src='https://evil.example'></iframe>",
        "<svg><script>alert(1)</script></svg>",
    ],
)
def test_markdown_in_demands_never_reaches_the_page_as_html(client, campaign, payload):
    petition = PetitionFactory(
        campaign=campaign,
        demands=f"We ask:\n\n{payload}\n\n**bold**",
        status=Petition.Status.PUBLISHED,
        published_at="2026-01-01T00:00:00Z",
    )
    html = client.get(petition.get_absolute_url()).content.decode()
    demands = html.split('id="demands-heading"')[1].split("</section>")[0]
    assert "<strong>bold</strong>" in demands
    assert "<script" not in demands
    assert "onerror" not in demands and "onclick" not in demands
    assert "javascript:" not in demands
    assert "<iframe" not in demands
