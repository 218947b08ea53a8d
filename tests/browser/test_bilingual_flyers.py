"""An organizer who reads Arabic (or Spanish) designs a bilingual tear-off sheet in Chromium:
picks the second language, looks at the preview, makes the PDF, and its QR codes, read
back from pixels, lead to the first language's page. Each page checked with axe-core and
for sideways scrolling. Screenshots of the preview and of the PDF's page go to
$COUNTERSIGN_SHOTS_DIR when it is set, for a person to look at."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext
from playwright.sync_api import expect

from organizing.models import PrintRun
from tests.browser.axe import assert_accessible
from tests.browser.conftest import sign_in
from tests.organizing.flyers.helpers import decode_qr_codes

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def flyer_petition(draft_petition):
    from petition.services import petition_publish

    draft_petition.accepts_flyer = True
    draft_petition.save()
    return petition_publish(petition=draft_petition)


def _in(language: str, message: str) -> str:
    with translation.override(language):
        return gettext(message)


def _no_sideways_scroll(page, name: str) -> None:
    wide = page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert wide <= 0, f"{name} scrolls sideways by {wide}px"


def _shots() -> Path | None:
    folder = os.environ.get("COUNTERSIGN_SHOTS_DIR")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        return Path(folder)
    return None


@pytest.mark.parametrize(
    ("language", "direction", "code_words"),
    [("ar", "rtl", "رمز · code"), ("es", "ltr", "código · code")],
)
def test_organizer_designs_a_bilingual_tear_off_sheet_whose_codes_lead_to_the_first_language(
    live_server, browser, organizer, flyer_petition, tmp_path, language, direction, code_words
):
    organizer.language = language
    organizer.save(update_fields=["language"])
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale=language)
    page = context.new_page()
    page.set_default_timeout(20_000)
    problems: list[str] = []
    page.on("pageerror", lambda exc: problems.append(str(exc)))
    sign_in(page, live_server, organizer)
    page.goto(f"{live_server.url}/staff/p/{flyer_petition.slug}/flyers/")
    html = page.locator("html")
    assert html.get_attribute("lang") == language
    assert html.get_attribute("dir") == direction
    # The designer starts in the organizer's language.
    expect(page.locator("#id_language")).to_have_value(language)

    page.locator("#id_design").select_option("tearoff")
    page.locator("#id_second_language").select_option("en")
    page.locator("#id_copies").fill("1")
    page.get_by_role("button", name=_in(language, "Show in the preview")).click()
    page.wait_for_load_state("load")
    expect(page.locator("#id_second_language")).to_have_value("en")
    sheet = page.locator(".preview-sheet[data-design=tearoff]")
    expect(sheet).to_be_visible()
    assert sheet.get_attribute("lang") == language
    assert sheet.get_attribute("dir") == direction
    # Both words for "code" on every tab, and the English lines under the first language's.
    assert sheet.locator(".tab-word").all_inner_texts() == [code_words] * 10
    english_cta = _in("en", "Scan to read the petition and sign it anonymously.")
    expect(sheet.locator(".cta .also")).to_have_text(english_cta)
    expect(sheet.locator(".cta .also")).to_have_attribute("lang", "en")
    # The codes stay left to right inside the right-to-left sheet.
    assert sheet.locator(".tab-code").first.get_attribute("dir") == "ltr"
    if direction == "rtl":
        # Mirrored: the first tab is the rightmost, the QR code right of the call to action.
        tabs = sheet.locator(".tab")
        first, last = tabs.first.bounding_box(), tabs.last.bounding_box()
        assert first["x"] > last["x"]
        qr = sheet.locator(".flyer .qr-block").bounding_box()
        cta = sheet.locator(".flyer .cta").bounding_box()
        assert qr["x"] > cta["x"]
    assert_accessible(page, f"{language} flyer designer, bilingual preview")
    _no_sideways_scroll(page, "the designer")
    if shots := _shots():
        sheet.screenshot(path=str(shots / f"flyer-preview-{language}.png"))

    page.get_by_role("button", name=_in(language, "Make the PDF")).click()
    download_link = page.get_by_role("link", name=_in(language, "Download the PDF"))
    download_link.wait_for()
    assert_accessible(page, f"{language} print run ready")
    _no_sideways_scroll(page, "the print run")
    with page.expect_download() as info:
        download_link.click()
    pdf = tmp_path / "tearoff.pdf"
    info.value.save_as(pdf)

    run = PrintRun.objects.get()
    assert (run.text["language"], run.text["second_language"]) == (language, "en")
    urls = decode_qr_codes(pdf)
    first_page = f"{settings.COUNTERSIGN_BASE_URL}/{language}/p/{flyer_petition.slug}/"
    assert len(urls) == 11, urls  # the poster's code and ten tabs
    assert all(url.startswith(first_page) for url in urls), urls
    assert sum("#code=" in url for url in urls) == 10
    if shots:
        subprocess.run(
            [
                "pdftoppm",
                "-png",
                "-r",
                "80",
                "-singlefile",
                str(pdf),
                str(shots / f"flyer-{language}"),
            ],
            check=True,
            timeout=60,
        )
    assert problems == []
    context.close()
