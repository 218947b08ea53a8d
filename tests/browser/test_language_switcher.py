"""The language switcher in Chromium: plain links that keep the page and a code link's
fragment, and no cookie whichever language is chosen (issue 18, item 2)."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from petition.codes import code_batch_create
from petition.services import petition_publish
from tests.factories import PetitionFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_switching_language_keeps_the_page_and_the_code(live_server, page):
    petition = petition_publish(petition=PetitionFactory())
    _batch, codes = code_batch_create(petition=petition, level="in_person", size=10)
    page.goto(f"{live_server.url}/p/{petition.slug}/#code={codes[0]}")
    expect(page.locator("#code-input")).to_have_value(codes[0])
    spanish = page.locator('.language-switcher a[hreflang="es"]')
    assert spanish.get_attribute("href").endswith(f"/es/p/{petition.slug}/#code={codes[0]}")
    spanish.click()
    page.wait_for_url(f"**/es/p/{petition.slug}/")
    assert page.locator("html").get_attribute("lang") == "es"
    expect(page.locator("#code-input")).to_have_value(codes[0])  # the code came along
    page.locator('.language-switcher a[hreflang="ar"]').click()
    page.wait_for_url(f"**/ar/p/{petition.slug}/")
    assert page.locator("html").get_attribute("dir") == "rtl"
    assert page.context.cookies() == []
    assert page.problems == []
