"""The Arabic translation in Chromium (issue 18): a signer on a phone from a code link to the
receipt, and a moderator who works in Arabic approving a comment written in Arabic.

Every page must be right to left and in Arabic: no Latin word may show except names that are
the same in every language (the product's name, codes, addresses, formats), no page may
scroll sideways at 390 px, axe-core finds nothing serious, no cookie is set for the signer.
Codes and receipts stay left to right inside the right-to-left page, and the progress bar
fills from the right. The petition is written in Arabic, as its organizers would write it.
Screenshots go to $COUNTERSIGN_SHOTS_DIR when it is set, for a person to look at."""

from __future__ import annotations

import os
import re
import time
from pathlib import Path

import pytest
from allauth.mfa.totp.internal.auth import format_hotp_value, hotp_value
from django.urls import reverse
from django.utils import translation
from playwright.sync_api import expect

from organizing.models import AuditEntry, Role
from petition.codes import code_batch_create
from petition.models import EntryReview, Signature
from petition.services import petition_publish
from tests.browser.axe import assert_accessible
from tests.browser.conftest import sign_in
from tests.factories import PASSWORD, CampaignFactory, MembershipFactory, PetitionFactory
from tests.organizing.notices.helpers import add_signatures

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# Latin words that may show on an Arabic page: those docs/glossary.md keeps in Latin letters
# (the product's name, formats, standards, "nullifier" beside its Arabic explanation), and
# the language switcher's names for the other languages (each written in itself).
SAME_IN_EVERY_LANGUAGE = re.compile(
    r"Countersign|English|Español|JSON|PDF|CSV|UTC|QR|HTTPS|RFC \d+|RSA|Wi-Fi|Markdown|"
    r"[Ww]ebhooks?|nullifier|"
    r"[0-9A-Z]{5}-[0-9A-Z]{5}|"  # a code
    r"(?:[0-9a-f]{4} ){3,}[0-9a-f]{4}|\b(?=[0-9a-f]*\d)[0-9a-f]{6,}\b|"  # keys' fingerprints, ids
    r"\S*[/@.]\S*[/.]\S*"  # addresses, file names
)
LATIN_WORD = re.compile(r"[A-Za-z]{2,}")

ARABIC_PETITION = {
    "title": "استراحتان مدفوعتان لمدة ربع ساعة في كل وردية ليلية بالمستودع",
    "summary": "منذ مارس فقدت الوردية الليلية استراحتيها المدفوعتين. نطلب عودتهما "
    "ابتداءً من الشهر القادم لكل فرق الليل.",
    "demands": "1. إعادة الاستراحتين المدفوعتين.\n2. دفع أجر الساعات الضائعة.",
    "addressed_to": "إدارة المستودع",
    "goal": 500,
}
ARABIC_CAMPAIGN = {"name": "عمال الوردية الليلية في المستودع", "employer_name": "مخازن المثال"}
COMMENT = "مراقبة كل ضغطة على لوحة المفاتيح ليست إدارة"
NAME = "سلمى"

# Facts read from the page: what a person sees (direction, width, cookies aside).
PAGE_FACTS = """() => {
  const html = document.documentElement;
  return {
    lang: html.lang,
    dir: html.dir,
    direction: getComputedStyle(document.body).direction,
    wide: html.scrollWidth - window.innerWidth,
    text: document.body.innerText,
  };
}"""


def ar(message: str) -> str:
    """The catalogue's Arabic for an English message, so the test follows the translators."""
    with translation.override("ar"):
        return translation.gettext(message)


def _arabic_browser(browser, width, height, locale="ar"):
    context = browser.new_context(viewport={"width": width, "height": height}, locale=locale)
    page = context.new_page()
    page.set_default_timeout(15_000)
    page.problems = []
    page.on("pageerror", lambda exc: page.problems.append(str(exc)))
    page.on(
        "console",
        lambda msg: page.problems.append(msg.text) if msg.type == "error" else None,
    )
    return page


def _shot(page, name: str) -> None:
    folder = os.environ.get("COUNTERSIGN_SHOTS_DIR")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(folder) / f"{name}.png"), full_page=True)


def latin_words(text: str) -> list[str]:
    """The lines of `text` that hold a Latin word no language translates."""
    return [
        line.strip()
        for line in text.splitlines()
        if LATIN_WORD.search(SAME_IN_EVERY_LANGUAGE.sub(" ", line))
    ]


def _check(page, name: str) -> None:
    page.wait_for_load_state("load")
    facts = page.evaluate(PAGE_FACTS)
    assert (facts["lang"], facts["dir"], facts["direction"]) == ("ar", "rtl", "rtl"), name
    english = latin_words(facts["text"])
    assert english == [], f"English on {name}: {english}"
    assert facts["wide"] <= 0, f"{name} scrolls sideways by {facts['wide']} px"
    assert_accessible(page, name)
    _shot(page, name)


def _fonts(page, selector: str) -> set[str]:
    """The fonts Chromium drew the element's text with (what a screenshot shows, by name)."""
    cdp = page.context.new_cdp_session(page)
    cdp.send("DOM.enable")
    cdp.send("CSS.enable")
    root = cdp.send("DOM.getDocument")["root"]["nodeId"]
    node = cdp.send("DOM.querySelector", {"nodeId": root, "selector": selector})["nodeId"]
    fonts = cdp.send("CSS.getPlatformFontsForNode", {"nodeId": node})["fonts"]
    cdp.detach()
    return {font["postScriptName"] for font in fonts}


def _direction(locator) -> str:
    return locator.evaluate("el => getComputedStyle(el).direction")


@pytest.fixture
def phone(browser):
    page = _arabic_browser(browser, 390, 844)
    yield page
    page.context.close()


@pytest.fixture
def arabic_petition():
    campaign = CampaignFactory(**ARABIC_CAMPAIGN, entries_need_review=True)
    return petition_publish(petition=PetitionFactory(campaign=campaign, **ARABIC_PETITION))


def test_the_helper_names_english_and_lets_codes_and_names_through():
    assert latin_words("وقّع الآن\nSign now") == ["Sign now"]
    assert latin_words("K7Q2M-9XW4H · Countersign · https://example.org/p/x/ · English") == []


def test_a_signer_signs_on_a_phone_in_arabic_from_a_code_link(live_server, phone, arabic_petition):
    petition = arabic_petition
    code = code_batch_create(petition=petition, level="in_person", size=10)[1][0]

    phone.goto(f"{live_server.url}/ar/p/{petition.slug}/")
    expect(phone.get_by_role("link", name=ar("Sign this petition"))).to_be_visible()
    # The bar fills from the right: a <progress> follows its own direction.
    assert _direction(phone.locator("progress.progress")) == "rtl"
    _check(phone, "ar-1-petition")

    phone.goto(f"{live_server.url}/ar/p/{petition.slug}/#code={code}&level=in_person")
    expect(phone.locator("#code-input")).to_have_value(code)
    # The code reads left to right inside the right-to-left page.
    assert _direction(phone.locator("#code-input")) == "ltr"
    _check(phone, "ar-2-code")

    phone.locator("#code-submit").click()
    expect(phone.locator("#step-credential")).to_be_visible()
    phone.locator("#show-name").check()
    phone.locator("#display-name").fill(NAME)
    phone.locator("#comment").fill(COMMENT)
    _check(phone, "ar-3-credential")

    phone.locator("#sign-now").click()
    expect(phone.locator("#step-done")).to_be_visible()
    expect(phone.locator("#receipt-token")).not_to_have_value("")
    assert _direction(phone.locator("#receipt-token")) == "ltr"
    expect(phone.locator("#count [data-count]")).to_have_text("1")
    _check(phone, "ar-4-receipt")

    phone.locator("#done-check").click()
    phone.wait_for_url(f"**/ar/p/{petition.slug}/audit/**")
    expect(phone.locator("#audit-result")).not_to_be_empty()
    # The log's address keeps its own order inside the Arabic sentence ("…/log", not "log/…").
    origin = phone.locator("#tlog-status bdi").filter(has_text="/log")
    expect(origin).to_have_count(1)
    assert _direction(origin) == "ltr"
    # Keys and fingerprints keep the monospace face they have in every language.
    assert "Naskh" not in phone.locator("#log-vkey").evaluate(
        "el => getComputedStyle(el).fontFamily"
    )
    _check(phone, "ar-5-audit")

    assert phone.context.cookies() == []  # signer pages set none, in any language
    assert phone.problems == []
    signature = Signature.objects.get(petition=petition)
    assert (signature.comment, signature.display_name) == (COMMENT, NAME)


def test_a_moderator_approves_a_comment_written_in_arabic(live_server, browser, arabic_petition):
    petition = arabic_petition
    membership = MembershipFactory(
        campaign=petition.campaign, role=Role.MODERATOR, user__language="ar"
    )
    moderator = membership.user
    code = code_batch_create(petition=petition, level="in_person", size=10)[1][0]

    # A coworker signs with a name and an Arabic comment (the signer's journey is above).
    phone = _arabic_browser(browser, 390, 844)
    phone.goto(f"{live_server.url}/ar/p/{petition.slug}/#code={code}&level=in_person")
    phone.locator("#code-submit").click()
    expect(phone.locator("#step-credential")).to_be_visible()
    phone.locator("#show-name").check()
    phone.locator("#display-name").fill(NAME)
    phone.locator("#comment").fill(COMMENT)
    phone.locator("#sign-now").click()
    expect(phone.locator("#step-done")).to_be_visible()

    # The moderator's browser asks for English: their account's language decides once they
    # are signed in. The sign-in pages follow the address (/ar/).
    desk = _arabic_browser(browser, 1280, 900, locale="en-US")
    desk.goto(f"{live_server.url}/ar/staff/")
    desk.wait_for_url("**/ar/accounts/login/**")
    _check(desk, "ar-6-login")
    desk.locator("input[name=login]").fill(moderator.email)
    desk.locator("input[name=password]").fill(PASSWORD)
    desk.locator("form button[type=submit]").first.click()
    desk.wait_for_url("**/accounts/2fa/authenticate/**")
    _check(desk, "ar-7-two-factor")
    totp = format_hotp_value(hotp_value(moderator.totp_secret, int(time.time()) // 30))
    desk.locator("input[name=code]").fill(totp)
    desk.locator("form button[type=submit]").first.click()
    desk.wait_for_url("**/staff/")

    desk.goto(f"{live_server.url}/staff/c/{petition.campaign.slug}/moderation/")
    quote = desk.locator("blockquote", has_text=COMMENT)
    expect(quote).to_be_visible()
    assert quote.get_attribute("dir") == "auto"
    assert _direction(quote) == "rtl"
    _check(desk, "ar-8-moderation")

    desk.get_by_role("button", name=ar("Approve both")).click()
    expect(desk.get_by_text(ar("Approved: it shows on the petition page."))).to_be_visible()
    _check(desk, "ar-9-moderation-approved")
    signature = Signature.objects.get(petition=petition)
    assert signature.review == EntryReview.APPROVED
    assert AuditEntry.objects.filter(actor_id=moderator.pk, action="entry_approve").exists()

    phone.goto(f"{live_server.url}/ar/p/{petition.slug}/")
    entries = phone.locator("section.entries")
    expect(entries.locator("blockquote")).to_have_text(COMMENT)
    expect(entries.locator("bdi")).to_have_text(NAME)
    assert entries.locator("blockquote").get_attribute("dir") == "auto"
    # The comment is drawn with the Arabic font the site ships (shaped, joined letters); its
    # spaces, outside that font's unicode-range, come from the fallback font.
    assert "NotoNaskhArabic-Regular" in _fonts(phone, "section.entries blockquote")
    _check(phone, "ar-10-public-comment")
    assert phone.context.cookies() == []
    assert phone.problems == [] and desk.problems == []
    phone.context.close()
    desk.context.close()


def test_an_organizer_reads_what_is_pending_before_closing_in_arabic(
    live_server, browser, arabic_petition
):
    """The checklist's "!" marks sit at the start of each line: the right in Arabic."""
    petition = arabic_petition
    organizer = MembershipFactory(
        campaign=petition.campaign, role=Role.ORGANIZER, user__language="ar"
    ).user
    add_signatures(petition, 1)
    Signature.objects.filter(petition=petition).update(comment=COMMENT, review=EntryReview.WAITING)
    desk = _arabic_browser(browser, 390, 844, locale="en-US")
    sign_in(desk, live_server, organizer)
    desk.goto(f"{live_server.url}{reverse('staff:petition_close', args=[petition.slug])}")
    item = desk.locator(".checklist-item")
    expect(item).to_have_count(1)
    # Resolved values: a mark at the right edge has right 0 (it had left 0 before).
    mark_right = item.evaluate("el => getComputedStyle(el, '::before').right")
    assert mark_right == "0px"
    assert item.evaluate("el => getComputedStyle(el).paddingRight") == "28px"  # 1.75rem
    _check(desk, "ar-11-close-checklist")
    assert desk.problems == []
    desk.context.close()
