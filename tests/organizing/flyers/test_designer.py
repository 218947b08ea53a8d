"""The flyer designer and print runs: form to PDF, hostile text, code cards after a POST
that redirects (a reload makes nothing twice), big runs in the worker, failures, expiry."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from organizing.flyers import runs
from organizing.flyers.tasks import print_run_chunk, print_run_render, print_runs_expire
from organizing.models import FlyerBatch, PrintRun, PrintRunChunk
from petition.codes import code_hash
from petition.models import CodeBatch, SigningCode
from tests.factories import form_key

from .helpers import PAGE_POINTS, decode_qr_codes, page_sizes, pdf_text

pytestmark = pytest.mark.django_db

FORM = {
    "design": "poster",
    "paper": "a4",
    "copies": "2",
    "batch_label": "",
    "headline": "Don't want to work at the Employee Data Extraction Factory?",
    "subheadline": "Switch off the tracking software.",
    "body": "We ask management to stop recording our keystrokes.",
    "call_to_action": "Scan to read and sign, anonymously.",
    "privacy_line": "Scan with your personal phone, not a work device.",
    "language": "en",
    "accent": "#1f5f8b",
}


def post(client, url, data):
    """Send a create form as the browser does: with the fresh key the empty form carried."""
    return client.post(url, {"form_key": form_key(), **data})


def designer(petition) -> str:
    return reverse("staff:flyers", kwargs={"slug": petition.slug})


def download(client, run) -> bytes:
    response = client.get(
        reverse("staff:print_run_download", kwargs={"slug": run.petition.slug, "run_id": run.pk})
    )
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert "attachment" in response["Content-Disposition"]
    assert "no-store" in response["Cache-Control"]
    return b"".join(response.streaming_content)


def test_organizer_sees_a_preview_of_every_design_with_the_petitions_text(
    client, organizer, open_petition
):
    client.force_login(organizer)
    response = client.get(designer(open_petition))
    assert response.status_code == 200
    html = response.content.decode()
    for design in ("poster", "halves", "tearoff", "stickers"):
        assert f'data-design="{design}"' in html
    assert open_petition.title in html
    assert '<svg class="qr"' in html
    assert "style=" not in html and "<style" not in html  # strict CSP: no inline styles


def test_organizer_goes_from_the_form_to_a_print_ready_pdf(client, organizer, open_petition):
    client.force_login(organizer)
    response = post(client, designer(open_petition), {**FORM, "batch_label": "Canteen"})
    run = PrintRun.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse(
        "staff:print_run", kwargs={"slug": open_petition.slug, "run_id": run.pk}
    )
    page = client.get(response["Location"]).content.decode()
    assert "Download the PDF" in page
    pdf = download(client, run)
    assert page_sizes(pdf) == [pytest.approx(PAGE_POINTS["a4"], abs=0.5)] * 2
    assert "EmployeeDataExtractionFactory" in pdf_text(pdf)
    batch = FlyerBatch.objects.get()
    assert (batch.label, batch.copies, run.flyer_batch) == ("Canteen", 2, batch)


HOSTILE = {
    "html": "<script>alert(1)</script><img src=x onerror=alert(2)>",
    "long word": "Datenextraktionsfabrik" * 4,
    "right to left": "لا نريد العمل في مصنع استخراج البيانات",
    "hebrew": "לא רוצים לעבוד במפעל לחילוץ נתונים?",
    "accents and cyrillic": "Żądamy końca śledzenia. Хватит слежки. Tiếng Việt.",
}


@pytest.mark.parametrize("kind", list(HOSTILE))
def test_hostile_text_renders_as_text_on_one_page(client, organizer, open_petition, kind):
    client.force_login(organizer)
    text = HOSTILE[kind]
    data = {**FORM, "copies": "1", "headline": text, "body": text * 5}
    response = post(client, designer(open_petition), data)
    assert response.status_code == 302, response.context["form"].errors
    pdf = download(client, PrintRun.objects.get())
    assert len(page_sizes(pdf)) == 1  # nothing spills onto a second page
    preview = client.get(designer(open_petition)).content.decode()
    assert "<script>alert" not in preview and "<img src=x" not in preview
    if kind == "html":
        assert "<script>alert(1)</script><imgsrc=x" in pdf_text(pdf)  # printed as the text it is


@pytest.mark.parametrize(
    "field, value, message",
    [
        ("headline", "Hidden \u202etext reversed", "invisible control characters"),
        ("headline", "x" * 91, "at most 90 characters"),
        # No shipped font has them: they would print as empty boxes, so the form says so.
        ("headline", "No tracking 🙅‍♀️📉✊🏽", "cannot be printed with the fonts"),
        ("body", "監視をやめろ", "監 視"),
        ("call_to_action", "निगरानी बंद करो", "cannot be printed"),
        ("accent", "#ffff00", "too light"),
        ("accent", "red; background:url(x)", "Pick a colour"),
        ("copies", "501", None),
        ("design", "cards", "Select a valid choice"),
    ],
)
def test_bad_flyer_input_gets_a_form_error_and_makes_nothing(
    client, organizer, open_petition, field, value, message
):
    client.force_login(organizer)
    data = {**FORM, field: value}
    if field == "copies":
        data["design"] = "tearoff"
    response = post(client, designer(open_petition), data)
    assert response.status_code == 400
    errors = response.context["form"].errors
    assert field in errors
    if message:
        assert message in " ".join(errors[field])
    html = response.content.decode()
    assert 'aria-invalid="true"' in html or 'class="error"' in html
    assert not PrintRun.objects.exists() and not FlyerBatch.objects.exists()


def test_tear_off_flyers_need_a_petition_taking_flyer_codes(client, organizer, draft_petition):
    from petition.services import petition_publish

    petition = petition_publish(petition=draft_petition)  # in-person codes only
    client.force_login(organizer)
    response = post(client, designer(petition), {**FORM, "design": "tearoff", "copies": "1"})
    assert response.status_code == 400
    assert "does not take" in response.content.decode()
    assert not SigningCode.objects.exists()


# --- code cards: POST, redirect, download ----------------------------------------------


def test_code_cards_come_as_a_pdf_after_a_redirect_and_a_reload_makes_nothing_twice(
    client, moderator, open_petition
):
    client.force_login(moderator)
    url = reverse("staff:code_batches", kwargs={"slug": open_petition.slug})
    data = {"level": "in_person", "size": "12", "label": "floor 3", "paper": "letter"}
    data["form_key"] = form_key()
    response = client.post(url, data)
    assert response.status_code == 302
    run = PrintRun.objects.get()
    assert response["Location"].endswith(f"/prints/{run.pk}/")
    for _ in range(2):  # the page after the redirect can be reloaded freely
        assert client.get(response["Location"]).status_code == 200
    resent = client.post(url, data)  # the browser re-sends the form
    assert resent["Location"] == response["Location"]
    assert CodeBatch.objects.count() == 1 and PrintRun.objects.count() == 1
    pdf = download(client, run)
    assert len(page_sizes(pdf)) == 2
    codes = re.findall(r"#code=([0-9A-Z]{10})&", "\n".join(decode_qr_codes(pdf)))
    assert len(set(codes)) == 12
    stored = {bytes(h) for h in SigningCode.objects.values_list("code_hash", flat=True)}
    assert {code_hash(c) for c in codes} == stored
    listing = client.get(url).content.decode()
    assert "floor 3" in listing and not any(code in listing for code in codes)


def test_code_cards_are_refused_while_the_petition_is_not_open(client, moderator, draft_petition):
    client.force_login(moderator)
    url = reverse("staff:code_batches", kwargs={"slug": draft_petition.slug})
    response = post(client, url, {"level": "in_person", "size": "12", "paper": "a4"})
    assert response.status_code == 400
    assert "only while the petition is open" in response.content.decode()
    assert not PrintRun.objects.exists() and not CodeBatch.objects.exists()


# --- big runs, failures, expiry ------------------------------------------------------------


def test_a_big_run_goes_to_the_worker_and_reports_progress(
    client, organizer, open_petition, django_capture_on_commit_callbacks
):
    client.force_login(organizer)
    with django_capture_on_commit_callbacks(execute=False) as queued:
        post(client, designer(open_petition), {**FORM, "design": "stickers", "copies": "120"})
    run = PrintRun.objects.get()
    status_url = reverse(
        "staff:print_run_status", kwargs={"slug": open_petition.slug, "run_id": run.pk}
    )
    assert client.get(status_url).json() == {
        "status": "pending",
        "pages_done": 0,
        "pages_total": 12,
        "error": "",
    }
    page = client.get(
        reverse("staff:print_run", kwargs={"slug": open_petition.slug, "run_id": run.pk})
    )
    assert b"<progress" in page.content
    assert len(queued) == 1
    # The task, run eagerly as the worker would, and what it sends: one task per chunk of
    # 25 sheets (here one), then the join.
    with django_capture_on_commit_callbacks(execute=True) as sent:
        queued[0]()
    assert len(sent) == 2
    assert client.get(status_url).json()["status"] == "done"
    assert len(page_sizes(download(client, PrintRun.objects.get()))) == 12
    assert print_run_render(str(run.pk)) is False  # a second delivery does nothing
    assert print_run_chunk(str(run.pk), 0) is False
    assert not PrintRunChunk.objects.exists()  # the chunk files are deleted once joined


def test_a_failed_run_says_why_revokes_its_codes_and_can_be_retried(
    client, organizer, open_petition, monkeypatch
):
    def broken(**kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(runs, "flyer_pdf", broken)
    client.force_login(organizer)
    post(client, designer(open_petition), {**FORM, "design": "tearoff", "copies": "1"})
    run = PrintRun.objects.get()
    assert run.status == PrintRun.Status.FAILED
    assert "Something went wrong" in run.error
    assert CodeBatch.objects.get().revoked_at is not None  # never printed, never valid
    page = client.get(
        reverse("staff:print_run", kwargs={"slug": open_petition.slug, "run_id": run.pk})
    )
    assert "Try again" in page.content.decode()

    monkeypatch.undo()
    retry = reverse("staff:print_run_retry", kwargs={"slug": open_petition.slug, "run_id": run.pk})
    assert client.post(retry).status_code == 302
    run.refresh_from_db()
    assert run.status == PrintRun.Status.DONE
    fresh = CodeBatch.objects.filter(revoked_at__isnull=True)
    assert fresh.count() == 1 and fresh.get().size == 10
    assert len(decode_qr_codes(download(client, run))) == 11


def test_expired_pdfs_are_deleted_with_their_runs(client, organizer, open_petition):
    client.force_login(organizer)
    post(client, designer(open_petition), FORM)
    run = PrintRun.objects.get()
    storage, name = run.file.storage, run.file.name
    assert storage.exists(name)
    assert print_runs_expire() == 0
    PrintRun.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    assert print_runs_expire() == 1
    assert print_runs_expire() == 0  # idempotent
    assert not storage.exists(name) and not PrintRun.objects.exists()
