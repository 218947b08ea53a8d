"""In Chromium: the headers this stream added (Permissions-Policy, frame denial) raise no
console error on signer and staff pages, an oversized staff form shows the 413 page, and
the webhook page explains Standard Webhooks. Screenshots go to COUNTERSIGN_SHOTS if set."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from django.urls import reverse

from .conftest import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def shot(page, name: str) -> None:
    folder = os.environ.get("COUNTERSIGN_SHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(folder) / f"{name}.png"), full_page=True)


def test_signer_pages_raise_no_header_errors(page, live_server, open_petition):
    response = page.goto(f"{live_server.url}/p/{open_petition.slug}/")
    assert "camera=()" in response.headers["permissions-policy"]
    shot(page, "phone-petition")
    page.goto(f"{live_server.url}/no-such-page/")
    shot(page, "phone-404")
    # The 404 answer itself is reported as a failed load; anything else is a problem.
    assert [p for p in page.problems if "status of 404" not in p] == []


def test_an_oversized_staff_form_shows_the_413_page(desktop, live_server, campaign, organizer):
    sign_in(desktop, live_server, organizer)
    desktop.goto(live_server.url + reverse("staff:campaign_edit", kwargs={"slug": campaign.slug}))
    desktop.evaluate(
        """() => { const form = document.querySelector('main form[method=post]');
        const big = document.createElement('textarea'); big.name = 'padding';
        big.value = 'x'.repeat(600 * 1024); form.appendChild(big); form.submit(); }"""
    )
    desktop.wait_for_load_state()
    assert desktop.locator("h1").inner_text() == "Too much data"
    shot(desktop, "desktop-413")


def test_the_webhook_page_names_standard_webhooks(desktop, live_server, campaign, organizer):
    sign_in(desktop, live_server, organizer)
    desktop.goto(live_server.url + reverse("staff:webhooks", kwargs={"slug": campaign.slug}))
    text = desktop.locator("main").inner_text()
    assert "Standard Webhooks" in text and "deprecated" in text
    shot(desktop, "desktop-webhooks")
    assert desktop.problems == []
