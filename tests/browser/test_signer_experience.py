"""A signer on a 390x844 phone, as the newcomer review walked it: the way to sign is on
the first screen (also from a code card's link), every number is right after signing, a
withdrawn receipt says so on another device, the public log has a page a person can use,
and errors do not linger. axe-core checks each state."""

from __future__ import annotations

import json

import pytest
from django.core import mail
from playwright.sync_api import expect

from petition.codes import code_batch_create
from petition.services import petition_publish
from tests.browser.axe import assert_accessible
from tests.factories import PetitionFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SCREEN = 844


def _open_petition(**fields):
    fields.setdefault("goal", 500)
    fields.setdefault(
        "title", "Restore two paid fifteen-minute breaks on every night shift at the warehouse"
    )
    fields.setdefault(
        "summary",
        "Since March the night shift has lost both paid breaks. We ask management to restore "
        "them, starting next month, for every team on nights.",
    )
    fields.setdefault("demands", "\n\n".join(f"{i}. A long demand paragraph." for i in range(30)))
    return petition_publish(petition=PetitionFactory(**fields))


def _within_first_screen(locator) -> bool:
    box = locator.bounding_box()
    return box is not None and box["y"] >= 0 and box["y"] + box["height"] <= SCREEN


def _sign_with_code(page, live_server, petition, code) -> None:
    page.goto(f"{live_server.url}/p/{petition.slug}/#code={code}&level=in_person")
    page.locator("#code-submit").click()
    expect(page.locator("#step-credential")).to_be_visible()
    page.locator("#sign-now").click()
    expect(page.locator("#step-done")).to_be_visible()


def test_the_sign_action_is_on_the_first_phone_screen(live_server, page):
    petition = _open_petition()
    page.goto(f"{live_server.url}/p/{petition.slug}/")
    sign = page.get_by_role("link", name="Sign this petition")
    assert _within_first_screen(sign)
    assert _within_first_screen(page.locator("[data-count]"))
    assert _within_first_screen(page.locator(".lead"))
    assert page.evaluate("window.scrollY") == 0
    assert_accessible(page, "petition page, top")
    sign.click()
    expect(page.locator("#step-method")).to_be_in_viewport()
    assert_accessible(page, "ways to verify")


def test_a_code_link_opens_on_the_sign_step_with_the_code_filled_in(live_server, page):
    petition = _open_petition()
    code = code_batch_create(petition=petition, level="in_person", size=10)[1][0]
    page.goto(f"{live_server.url}/p/{petition.slug}/#code={code}")
    expect(page.locator("#code-input")).to_have_value(code)
    assert _within_first_screen(page.locator("#code-input"))
    assert _within_first_screen(page.locator("#code-submit"))
    assert_accessible(page, "code step from a link")


def test_after_signing_every_number_is_right_at_once(live_server, page):
    petition = _open_petition(accepts_flyer=True)
    code = code_batch_create(petition=petition, level="in_person", size=10)[1][0]
    _sign_with_code(page, live_server, petition, code)
    count = page.locator("#count")
    expect(count.locator("[data-count]")).to_have_text("1")
    expect(count.locator("[data-count-level=in_person]")).to_have_text("1")
    expect(count.locator("[data-count-level=flyer]")).to_have_text("0")
    expect(count.locator("[data-count-noun]")).to_have_text("verified signature of a goal of 500")
    expect(count.locator("[data-remaining]")).to_have_text("499 more to reach the goal")
    # 1 of 500 still draws something on the bar.
    expect(count.locator("progress")).to_have_attribute("value", "2")
    assert_accessible(page, "signed")


def test_a_withdrawn_receipt_on_another_device_says_it_was_withdrawn(live_server, browser, page):
    petition = _open_petition()
    code = code_batch_create(petition=petition, level="in_person", size=10)[1][0]
    _sign_with_code(page, live_server, petition, code)
    receipt = page.evaluate(f"localStorage.getItem('countersign:v1:{petition.slug}')")
    page.locator("#withdraw").click()
    page.locator("#withdraw-confirm").click()
    expect(page.locator("#step-withdrawn")).to_be_visible()

    other = browser.new_context(viewport={"width": 390, "height": 844})
    try:
        phone = other.new_page()
        phone.goto(f"{live_server.url}/p/{petition.slug}/")
        phone.locator("#method-import").click()
        assert_accessible(phone, "import a receipt")
        phone.locator("#import-text").fill(json.dumps(json.loads(receipt)))
        phone.locator("#import-submit").click()
        expect(phone.locator("#step-withdrawn")).to_be_visible()
        expect(phone.locator("#sign-now")).to_be_hidden()
        expect(phone.locator("#step-credential")).to_be_hidden()
        expect(phone.locator("#sign-error")).to_have_text("")
        assert_accessible(phone, "withdrawn receipt imported")
    finally:
        other.close()


def test_the_audit_page_finds_a_receipt_on_the_device(live_server, page):
    petition = _open_petition()
    code = code_batch_create(petition=petition, level="in_person", size=10)[1][0]
    _sign_with_code(page, live_server, petition, code)
    token = page.input_value("#receipt-token")
    requests = []
    page.on("request", lambda r: requests.append((r.url, r.post_data)))
    page.get_by_role("link", name="Check it against the public log").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Check the count yourself")
    expect(page.locator(".fingerprints code")).to_have_count(1)
    batches = page.locator("table").nth(1)
    expect(batches.locator("tbody tr")).to_have_count(1)
    expect(batches.locator("tbody tr")).to_contain_text("Code from a moderator")
    page.locator("#audit-receipt").fill(token)
    page.get_by_role("button", name="Check on this device").click()
    expect(page.locator("#audit-result")).to_contain_text("Found: your signature is in the")
    # The receipt never left the device: no request carried it.
    assert all(token not in url and token not in (body or "") for url, body in requests)
    assert_accessible(page, "audit page with a result")
    page.locator("#audit-receipt").fill("A" * 43)
    page.get_by_role("button", name="Check on this device").click()
    expect(page.locator("#audit-result")).to_contain_text("Not in the public log")
    assert_accessible(page, "audit page, receipt not found")
    assert page.problems == []


def test_the_email_step_says_where_the_code_went_and_allows_a_change(live_server, page):
    petition = _open_petition(accepts_work_email=True, accepts_in_person=False)
    page.goto(f"{live_server.url}/p/{petition.slug}/")
    page.locator("#method-work_email").click()
    assert_accessible(page, "work email step")
    page.locator("#email-input").fill("night.worker@example.com")
    page.locator("#email-submit").click()
    expect(page.locator("#email-sent-to")).to_have_text("night.worker@example.com")
    assert [m.subject for m in mail.outbox] == ["Your Countersign code"]
    assert_accessible(page, "email code step")
    page.get_by_role("button", name="Change the address").click()
    expect(page.locator("#step-email")).to_be_visible()
    expect(page.locator("#email-input")).to_have_value("night.worker@example.com")
    assert_accessible(page, "changing the address")


def test_an_old_error_does_not_stay_on_the_next_step(live_server, page):
    petition = _open_petition(accepts_flyer=True)
    page.goto(f"{live_server.url}/p/{petition.slug}/#code=WRONG-CODE1&level=in_person")
    page.locator("#code-submit").click()
    expect(page.locator("#sign-error")).not_to_have_text("")
    assert_accessible(page, "a wrong code")
    page.locator("#step-code [data-back]").click()
    expect(page.locator("#step-method")).to_be_visible()
    expect(page.locator("#sign-error")).to_have_text("")
    assert_accessible(page, "back to the ways to verify")


def test_a_long_word_in_a_title_does_not_scroll_the_page_sideways(live_server, page):
    petition = _open_petition(title="Stop" + "tracking" * 19)
    page.goto(f"{live_server.url}/p/{petition.slug}/")
    assert page.evaluate(
        "document.documentElement.scrollWidth <= document.documentElement.clientWidth"
    )
    assert_accessible(page, "petition with a long word in its title")


def test_a_comment_reversed_by_a_hidden_character_is_refused_with_a_reason(live_server, page):
    petition = _open_petition()
    code = code_batch_create(petition=petition, level="in_person", size=10)[1][0]
    page.goto(f"{live_server.url}/p/{petition.slug}/#code={code}&level=in_person")
    page.locator("#code-submit").click()
    expect(page.locator("#step-credential")).to_be_visible()
    # U+202E makes the rest of the comment read backwards to a moderator.
    page.locator("#comment").fill("I agree \u202egnorw si siht")
    page.locator("#sign-now").click()
    expect(page.locator("#sign-error")).to_contain_text("invisible characters")
    expect(page.locator("#step-credential")).to_be_visible()  # the credential is still there
    assert_accessible(page, "comment refused")
    page.locator("#comment").fill("I agree")
    page.locator("#sign-now").click()
    expect(page.locator("#step-done")).to_be_visible()
    assert_accessible(page, "signed after the refused comment")
