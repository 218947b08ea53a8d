"""Choosing a language without a cookie (issue 18, item 2; config/i18n.py).

Printed addresses answer as they always did, with no redirect; /es/ and /ar/ pages exist
beside them; nothing sets or reads a language cookie; links and the switcher keep the page.
"""

from __future__ import annotations

import re

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import translation

from config.i18n import language_from_header, path_without_language

pytestmark = pytest.mark.django_db

LANGUAGES = ("es", "ar")


@pytest.fixture
def printed_urls(published_petition):
    slug = published_petition.slug
    return [
        "/",
        f"/c/{published_petition.campaign.slug}/",
        f"/p/{slug}/",
        f"/p/{slug}/audit/",
    ]


def html_lang(response) -> tuple[str, str]:
    found = re.search(r'<html lang="([^"]+)" dir="(rtl|ltr)">', response.content.decode())
    assert found, "no <html lang dir>"
    return found.group(1), found.group(2)


def test_every_printed_address_answers_in_english_without_a_redirect(client, printed_urls):
    for url in printed_urls:
        response = client.get(url)
        assert response.status_code == 200, url
        assert html_lang(response) == ("en", "ltr"), url
        assert response["Content-Language"] == "en"


def test_each_language_has_its_own_address(client, printed_urls):
    for code in LANGUAGES:
        for url in printed_urls:
            response = client.get(f"/{code}{url}")
            assert response.status_code == 200, f"/{code}{url}"
            assert html_lang(response) == (code, "rtl" if code == "ar" else "ltr")


def test_an_explicit_english_address_beats_a_spanish_browser(client, published_petition):
    response = client.get(f"/en/p/{published_petition.slug}/", HTTP_ACCEPT_LANGUAGE="es")
    assert response.status_code == 200
    assert html_lang(response)[0] == "en"


def test_no_page_sets_a_cookie_in_any_language(client, printed_urls):
    for prefix in ("", "/en", "/es", "/ar"):
        for url in [*printed_urls, "/p/no-such-petition/"]:
            response = client.get(prefix + url, HTTP_ACCEPT_LANGUAGE="ar, es;q=0.5")
            assert response.status_code in (200, 404)
            assert "Set-Cookie" not in response.headers, prefix + url
            assert not response.cookies


def test_a_language_cookie_is_ignored(client, published_petition):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "ar"
    response = client.get(f"/p/{published_petition.slug}/")
    assert html_lang(response)[0] == "en"


def test_accept_language_picks_the_first_pages_language_and_links_keep_it(
    client, published_petition
):
    response = client.get(f"/p/{published_petition.slug}/", HTTP_ACCEPT_LANGUAGE="es-MX,en;q=0.5")
    assert response.status_code == 200  # no redirect: the printed address answers itself
    assert html_lang(response)[0] == "es"
    assert "Accept-Language" in response["Vary"]
    html = response.content.decode()
    # The page's own links lead to the Spanish addresses: the choice travels in the URL.
    assert f'href="/es/p/{published_petition.slug}/audit/"' in html


def test_prefixed_pages_do_not_vary_on_the_header(client, published_petition):
    response = client.get(f"/es/p/{published_petition.slug}/")
    assert "Accept-Language" not in response.get("Vary", "")


def test_the_api_and_log_stay_unprefixed(client, published_petition):
    with translation.override("es"):
        assert reverse("petition:api_log", kwargs={"slug": published_petition.slug}).startswith(
            "/api/"
        )
        assert reverse("petition:log_checkpoint") == "/log/checkpoint"
        assert reverse("organizing:flyer_redirect", kwargs={"code": "abc"}) == "/f/abc"
        assert reverse("petition:detail", kwargs={"slug": "x"}) == "/es/p/x/"
    assert client.get(f"/es/api/v1/petitions/{published_petition.slug}").status_code == 404


def test_hreflang_alternates_name_every_language(client, published_petition):
    html = client.get(f"/p/{published_petition.slug}/audit/").content.decode()
    for code in ("en", "es", "ar"):
        assert (
            f'<link rel="alternate" hreflang="{code}" '
            f'href="/{code}/p/{published_petition.slug}/audit/">'
        ) in html
    assert (
        f'<link rel="alternate" hreflang="x-default" href="/p/{published_petition.slug}/audit/">'
        in html
    )


def test_the_switcher_keeps_the_page_and_its_query(client, published_petition):
    html = client.get(f"/ar/p/{published_petition.slug}/?level=email").content.decode()
    switcher = re.search(r'<nav class="language-switcher".*?</nav>', html, re.S).group(0)
    assert "<form" not in switcher
    links = re.findall(r'<a href="([^"]+)" lang="(\w+)"', switcher)
    assert links == [
        (f"/{code}/p/{published_petition.slug}/?level=email", code) for code in ("en", "es", "ar")
    ]
    assert 'aria-current="true">العربية' in switcher
    assert "data-keep-hash" in switcher


def test_staff_pages_exist_in_every_language(client, organizer):
    client.force_login(organizer)
    for prefix in ("", "/es", "/ar"):
        response = client.get(f"{prefix}/staff/")
        assert response.status_code == 200
        assert response["Referrer-Policy"] == "same-origin"


def test_the_javascript_catalogue_follows_the_address(client):
    response = client.get("/es/jsi18n/")
    assert response.status_code == 200
    assert "Set-Cookie" not in response.headers


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("es-ES,es;q=0.9,en;q=0.8", "es"),
        ("fr, ar;q=0.4, es;q=0.2", "ar"),
        ("en;q=0.1, es;q=0.9", "es"),
        ("de, fr", None),
        ("es;q=0", None),
        ("*", None),
        ("es;q=abc, ar", "ar"),
        ("x" * 5000, None),
    ],
)
def test_accept_language_parsing(header, expected):
    assert language_from_header(header) == expected


def test_path_without_language():
    assert path_without_language("/es/p/x/") == "/p/x/"
    assert path_without_language("/es") == "/"
    assert path_without_language("/p/x/") == "/p/x/"
    assert path_without_language("/estimate/") == "/estimate/"
