"""A coworker scans a code card: credential → sign → the count goes up → withdraw → the
count goes down. In Chromium at phone size, against the real API, with no cookie sent, the
code never in a request URL, and no CSP violation."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from petition.codes import code_batch_create
from petition.models import Signature
from petition.services import petition_publish
from tests.browser.axe import assert_accessible
from tests.factories import PetitionFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_scan_sign_withdraw(live_server, page):
    petition = petition_publish(petition=PetitionFactory())
    _batch, codes = code_batch_create(petition=petition, level="in_person", size=10)
    code = codes[0]
    requests = []
    page.on("request", lambda r: requests.append((r.url, r.headers.get("cookie"))))

    page.goto(f"{live_server.url}/p/{petition.slug}/#code={code}")
    expect(page.locator("#sign-steps")).to_be_visible()
    assert "#code" not in page.url  # the script drops the fragment from history
    expect(page.locator("#code-input")).to_have_value(code)
    assert_accessible(page, "code step")
    page.locator("#code-submit").click()

    expect(page.locator("#step-credential")).to_be_visible()
    assert_accessible(page, "credential step")
    page.locator("#comment").fill("For all of us on floor 3")
    page.locator("#sign-now").click()
    expect(page.locator("#step-done")).to_be_visible()
    expect(page.locator("#done-public")).to_have_text("It appears in the public count and log now.")
    expect(page.locator("[data-count]").first).to_have_text("1")
    assert_accessible(page, "signed")
    token = page.input_value("#receipt-token")
    assert len(token) == 43
    signature = Signature.objects.get(petition=petition)
    assert signature.comment == "For all of us on floor 3" and not signature.withdrawn

    page.locator("#withdraw").click()
    page.locator("#withdraw-confirm").click()
    expect(page.locator("#step-withdrawn")).to_be_visible()
    assert_accessible(page, "withdrawn")
    expect(page.locator("[data-count]").first).to_have_text("0")
    signature.refresh_from_db()
    assert signature.withdrawn

    assert all(code not in url and code.replace("-", "") not in url for url, _ in requests)
    assert all(cookie is None for _url, cookie in requests)
    assert page.problems == []


def test_a_batched_petition_accepts_at_once_and_says_by_when_it_is_public(live_server, page):
    from django.utils import timezone

    from petition.models import PendingSignature
    from petition.publication_policy import overdue_at

    petition = PetitionFactory(publish_interval=3600, publish_min_batch=5)
    petition = petition_publish(petition=petition)
    _batch, codes = code_batch_create(petition=petition, level="in_person", size=10)
    page.goto(f"{live_server.url}/p/{petition.slug}/#code={codes[0]}")
    expect(page.locator("#publication")).to_contain_text(
        "once at least 5 people have signed the same way"
    )
    page.locator("#code-submit").click()
    page.locator("#sign-now").click()
    expect(page.locator("#step-done")).to_be_visible()
    public_by = overdue_at(timezone.now().date(), petition.publish_max_wait)
    expect(page.locator("#done-public")).to_contain_text(
        "in a batch of at least 5 new signatures of the same kind"
    )
    expect(page.locator("#done-public")).to_contain_text("once at least 5 people have signed")
    expect(page.locator("#done-public")).not_to_contain_text("safe minimum")
    expect(page.locator("#done-public")).to_contain_text(str(public_by.year))
    assert_accessible(page, "signed, public with the next batch")
    expect(page.locator("[data-count]").first).to_have_text("0")  # not public yet
    assert PendingSignature.objects.filter(petition=petition).count() == 1
    assert Signature.objects.filter(petition=petition).count() == 0
    assert page.problems == []


def test_a_petition_below_the_safe_floor_says_so_on_the_page_and_the_receipt(live_server, page):
    """k = 1 with an interval (allowed here by the test settings' override) is
    called unsafe; nothing promises that the signer is hidden."""
    petition = PetitionFactory(publish_interval=60, publish_min_batch=1)
    petition = petition_publish(petition=petition)
    _batch, codes = code_batch_create(petition=petition, level="in_person", size=10)
    page.goto(f"{live_server.url}/p/{petition.slug}/#code={codes[0]}")
    expect(page.locator("#publication")).to_contain_text("below the safe minimum")
    expect(page.locator("#publication")).not_to_contain_text("nobody can tell")
    page.locator("#code-submit").click()
    page.locator("#sign-now").click()
    expect(page.locator("#step-done")).to_be_visible()
    expect(page.locator("#done-public")).to_contain_text("smaller or shorter than the safe minimum")
    assert_accessible(page, "signed, unsafe publication policy")
    assert page.problems == []
