"""An organizer designs a flyer in Chromium: types the text and sees the live preview
change, picks a design, paper and colour, makes the PDF and downloads it."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect
from pypdf import PdfReader

from organizing.models import PrintRun
from tests.browser.axe import assert_accessible
from tests.browser.conftest import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def flyer_petition(draft_petition):
    from petition.services import petition_publish

    draft_petition.accepts_flyer = True
    draft_petition.save()
    return petition_publish(petition=draft_petition)


def test_organizer_designs_a_flyer_sees_the_preview_and_downloads_the_pdf(
    live_server, desktop, organizer, flyer_petition, tmp_path
):
    page = desktop
    sign_in(page, live_server, organizer)
    page.goto(f"{live_server.url}/staff/p/{flyer_petition.slug}/flyers/")
    preview = page.locator("#flyer-preview")
    assert preview.locator(".preview-sheet[data-design=poster]").is_visible()
    assert preview.locator(".preview-sheet[data-design=tearoff]").is_hidden()

    headline = "Don't want to work at the Employee Data Extraction Factory?"
    page.locator("#id_headline").fill(headline)
    poster = preview.locator(".preview-sheet[data-design=poster]")
    assert poster.locator("[data-field=headline]").inner_text() == headline

    page.locator("#id_design").select_option("tearoff")
    tearoff = preview.locator(".preview-sheet[data-design=tearoff]")
    assert tearoff.is_visible() and poster.is_hidden()
    assert tearoff.locator(".tab").count() == 10
    assert tearoff.locator("h1[data-field=headline]").inner_text() == headline
    # Each tab carries the headline too, and follows the typing like the poster.
    assert tearoff.locator(".tab-title").all_inner_texts() == [headline] * 10

    page.locator("#id_paper").select_option("a4")
    assert "paper-a4" in preview.get_attribute("class")
    page.locator("#id_accent").evaluate(
        "el => { el.value = '#7a1f3d'; el.dispatchEvent(new Event('input', {bubbles: true})); }"
    )
    band = tearoff.locator(".band")
    assert band.evaluate("el => getComputedStyle(el).backgroundColor") == "rgb(122, 31, 61)"
    page.screenshot(path="/tmp/flyers-designer.png", full_page=False)
    assert_accessible(page, "flyer designer")

    page.locator("#id_copies").fill("2")
    page.get_by_role("button", name="Make the PDF").click()
    page.get_by_role("link", name="Download the PDF").wait_for()
    assert_accessible(page, "print run ready")
    with page.expect_download() as info:
        page.get_by_role("link", name="Download the PDF").click()
    target = tmp_path / "flyer.pdf"
    info.value.save_as(target)
    reader = PdfReader(io.BytesIO(target.read_bytes()))
    assert len(reader.pages) == 2
    assert float(reader.pages[0].mediabox.width) == pytest.approx(595.28, abs=0.5)
    page.screenshot(path="/tmp/flyers-run.png", full_page=True)
    assert page.problems == []


def test_the_progress_of_a_running_print_run_reads_as_a_sentence(
    live_server, desktop, organizer, flyer_petition
):
    run = PrintRun.objects.create(
        petition=flyer_petition,
        design="poster",
        paper="letter",
        copies=300,
        status=PrintRun.Status.RUNNING,
        pages_done=25,
        pages_total=300,
        expires_at=timezone.now() + timedelta(days=1),
    )
    sign_in(desktop, live_server, organizer)
    desktop.goto(f"{live_server.url}/staff/p/{flyer_petition.slug}/prints/{run.pk}/")
    pages = desktop.locator("#print-run-pages")
    assert pages.inner_text() == "25 of 300 pages"
    # The worker moves on; the page's script polls and says so in the same words.
    PrintRun.objects.filter(pk=run.pk).update(pages_done=50)
    expect(pages).to_have_text("50 of 300 pages", timeout=15_000)
    expect(desktop.locator("#print-run-progress")).to_have_attribute("value", "50")
    assert_accessible(desktop, "print run in progress")
