"""Closing and delivery (review O20-O22): what is pending is listed before each step, the
closed page keeps only what still matters, delivery records its day and a note, and the
delivery PDF carries dates, the goal, page numbers and clear attribution on either paper."""

from __future__ import annotations

import io
import re
from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from pypdf import PdfReader

from organizing.models import AuditEntry, PrintRun
from petition.codes import code_batch_create
from petition.models import Petition
from petition.review import entry_approve
from petition.services import TransitionError, petition_close, petition_mark_delivered
from tests.organizing.test_moderation import sign

pytestmark = pytest.mark.django_db


def _url(name, petition, **query) -> str:
    url = reverse(f"staff:{name}", kwargs={"slug": petition.slug})
    return url + ("?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else "")


def _day(value) -> str:
    return date_format(value, "DATE_FORMAT")


def _done_run(petition, user) -> PrintRun:
    run = PrintRun(
        petition=petition,
        design="poster",
        paper="a4",
        copies=3,
        pages_total=1,
        pages_done=1,
        status=PrintRun.Status.DONE,
        created_by=user,
        expires_at=timezone.now() + timedelta(hours=1),
    )
    run.file.save("closing.pdf", ContentFile(b"%PDF-1.7 test"), save=False)
    run.save()
    return run


# --- before closing ---------------------------------------------------------------------


def test_the_close_page_lists_what_is_pending_with_links(client, organizer, open_petition):
    campaign = open_petition.campaign
    campaign.code_batches_need_approval = True
    campaign.save()
    sign(open_petition, display_name="Dana", comment="Waiting for a moderator")
    code_batch_create(petition=open_petition, level="in_person", size=10, actor=organizer)
    run = _done_run(open_petition, organizer)
    client.force_login(organizer)
    page = client.get(_url("petition_close", open_petition)).content.decode()
    moderation = reverse("staff:moderation", kwargs={"slug": campaign.slug})
    assert "1 name or comment still waits for review." in page
    assert f'href="{moderation}#queue-title"' in page
    assert "1 code batch still waits for a second person" in page
    assert f'href="{moderation}#batches-waiting-title"' in page
    run_url = reverse("staff:print_run", kwargs={"slug": open_petition.slug, "run_id": run.pk})
    assert "was made but never downloaded" in page and run_url in page
    # Downloading the PDF takes it off the list.
    download = reverse(
        "staff:print_run_download", kwargs={"slug": open_petition.slug, "run_id": run.pk}
    )
    b"".join(client.get(download).streaming_content)
    page = client.get(_url("petition_close", open_petition)).content.decode()
    assert "never downloaded" not in page and "1 code batch" in page


def test_the_close_page_says_when_nothing_is_pending(client, organizer, open_petition):
    client.force_login(organizer)
    page = client.get(_url("petition_close", open_petition)).content.decode()
    assert "Nothing is pending" in page and "still wait" not in page


def test_the_closed_page_drops_advice_for_an_open_petition(client, organizer, draft_petition):
    from petition.services import petition_publish

    draft_petition.publish_interval = 0
    draft_petition.publish_min_batch = 1
    draft_petition.save()
    petition = petition_publish(petition=draft_petition)
    client.force_login(organizer)
    page = client.get(_url("petition", petition)).content.decode()
    assert "Set a smallest batch of 5" in page and "Next:" in page
    petition_close(petition=petition)
    page = client.get(_url("petition", petition)).content.decode()
    assert "Set a smallest batch of 5" not in page and "Next:" not in page
    assert "Invalidate one only if it may have leaked before closing" in page
    assert "Closed" in page and _day(timezone.localdate()) in page


# --- marking as delivered -------------------------------------------------------------------


@pytest.fixture
def closed(open_petition):
    return petition_close(petition=open_petition)


def test_the_deliver_page_asks_for_the_day_and_warns_about_erasure(client, organizer, closed):
    sign_day = timezone.localdate()
    client.force_login(organizer)
    response = client.get(_url("petition_deliver", closed))
    page = response.content.decode()
    assert response.status_code == 200
    assert f'value="{sign_day.isoformat()}"' in page  # today, prefilled
    assert f'max="{sign_day.isoformat()}"' in page
    erase = sign_day + timedelta(days=closed.campaign.retention_days)
    assert f"Names and comments are erased on {_day(erase)}." in page
    assert "Nobody has downloaded the delivery document yet." in page
    client.get(_url("delivery", closed))
    page = client.get(_url("petition_deliver", closed)).content.decode()
    assert "Nobody has downloaded" not in page


def test_marking_as_delivered_stores_the_day_and_the_note(client, organizer, closed):
    yesterday = timezone.localdate() - timedelta(days=1)
    Petition.objects.filter(pk=closed.pk).update(published_at=timezone.now() - timedelta(days=9))
    client.force_login(organizer)
    response = client.post(
        _url("petition_deliver", closed),
        {"delivered_on": yesterday.isoformat(), "delivery_note": "  Handed to HR  "},
    )
    assert response.status_code == 302
    closed.refresh_from_db()
    assert (closed.status, closed.delivered_on, closed.delivery_note) == (
        "delivered",
        yesterday,
        "Handed to HR",
    )
    entry = AuditEntry.objects.get(action="petition_deliver")
    assert entry.details == {"delivered_on": yesterday.isoformat(), "delivery_note": "Handed to HR"}
    assert entry.actor_id == organizer.pk
    page = client.get(_url("petition", closed)).content.decode()
    assert _day(yesterday) in page and "Handed to HR" in page
    audit = client.get(reverse("staff:audit_log", kwargs={"slug": closed.campaign.slug}))
    assert "Delivered on" in audit.content.decode() and _day(yesterday) in audit.content.decode()


@pytest.mark.parametrize(
    ("data", "error"),
    [
        ({"delivered_on": ""}, "Give the day the petition was handed over."),
        ({"delivered_on": "31.02.2026"}, "Enter a valid date."),
        ({"delivered_on": "+1"}, "cannot be in the future"),
        ({"delivered_on": "-400"}, "it cannot be delivered before that"),
        ({"delivered_on": "0", "delivery_note": "x" * 301}, "at most 300 characters"),
    ],
)
def test_a_bad_delivery_gets_a_form_error_and_changes_nothing(
    client, organizer, closed, data, error
):
    if re.fullmatch(r"[+-]?\d+", data["delivered_on"]):
        day = timezone.localdate() + timedelta(days=int(data["delivered_on"]))
        data = {**data, "delivered_on": day.isoformat()}
    client.force_login(organizer)
    response = client.post(_url("petition_deliver", closed), data)
    assert response.status_code == 400
    assert error in response.content.decode()
    closed.refresh_from_db()
    assert closed.status == "closed" and closed.delivered_on is None
    assert not AuditEntry.objects.filter(action="petition_deliver").exists()


def test_only_organizers_mark_as_delivered(client, moderator, outsider, closed):
    today = timezone.localdate().isoformat()
    for user, status in ((moderator, 403), (outsider, 404), (None, 302)):
        client.logout()
        if user:
            client.force_login(user)
        response = client.post(_url("petition_deliver", closed), {"delivered_on": today})
        assert response.status_code == status
    closed.refresh_from_db()
    assert closed.status == "closed"


def test_an_open_petition_cannot_be_marked_delivered(client, organizer, open_petition):
    client.force_login(organizer)
    today = timezone.localdate().isoformat()
    response = client.post(_url("petition_deliver", open_petition), {"delivered_on": today})
    assert response.status_code == 302
    open_petition.refresh_from_db()
    assert open_petition.status == "published"
    with pytest.raises(TransitionError):
        petition_mark_delivered(petition=open_petition)


def test_the_service_refuses_a_future_day(closed):
    with pytest.raises(ValidationError) as caught:
        petition_mark_delivered(
            petition=closed, delivered_on=timezone.localdate() + timedelta(days=1)
        )
    assert "delivered_on" in caught.value.error_dict
    closed.refresh_from_db()
    assert closed.status == "closed"


def test_the_database_keeps_the_delivery_day_with_the_status(closed, open_petition):
    with pytest.raises(IntegrityError), transaction.atomic():
        Petition.objects.filter(pk=closed.pk).update(
            status="delivered", delivered_at=timezone.now(), delivered_on=None
        )
    with pytest.raises(IntegrityError), transaction.atomic():
        Petition.objects.filter(pk=closed.pk).update(delivery_note="before delivery")


# --- the delivery document ------------------------------------------------------------------


def _pdf_text(client, petition, paper):
    response = client.get(_url("delivery", petition, format="pdf", paper=paper))
    assert response.status_code == 200
    assert f"-delivery-{paper}.pdf" in response["Content-Disposition"]
    reader = PdfReader(io.BytesIO(response.content))
    return reader, [page.extract_text() for page in reader.pages]


@pytest.mark.parametrize(("paper", "size"), [("a4", (595, 842)), ("letter", (612, 792))])
def test_the_pdf_has_dates_goal_page_numbers_and_attribution(
    client, organizer, moderator, open_petition, paper, size
):
    unnamed = sign(open_petition, comment="The opt-out matters most to me.")
    named = sign(open_petition, display_name="Priya", comment="I support this.")
    for row in (unnamed, named):
        entry_approve(signature=row, actor=moderator)
    petition = petition_close(petition=open_petition)
    petition = petition_mark_delivered(petition=petition, note="To HR")
    client.force_login(organizer)
    reader, pages = _pdf_text(client, petition, paper)
    width, height = (round(float(v)) for v in reader.pages[0].mediabox.upper_right)
    assert (width, height) == size
    text = "\n".join(pages)
    today = _day(timezone.localdate())
    for label in ("Signing opened", "Signing closed", "Delivered", "This document made"):
        assert label in text
    assert today in text
    assert f"The goal was {petition.goal} signatures" in text
    total = len(pages)
    for number, page in enumerate(pages, start=1):
        assert f"Page {number} of {total}" in " ".join(page.split())
    # Each entry starts with its name, or says it has none, then its comment: whatever the
    # order, the line just above each comment is its own signer's.
    flat = " ".join(text.split())
    before_unnamed = flat[: flat.index("The opt-out matters most to me.")].rstrip()
    assert before_unnamed.endswith("Signed without a name")
    assert flat[: flat.index("I support this.")].rstrip().endswith("Priya")


def test_unknown_paper_falls_back_to_a4(client, organizer, closed):
    client.force_login(organizer)
    response = client.get(_url("delivery", closed, format="pdf", paper="tabloid"))
    reader = PdfReader(io.BytesIO(response.content))
    assert round(float(reader.pages[0].mediabox.upper_right[0])) == 595


def test_the_screen_version_offers_both_papers_and_a_way_back(client, organizer, closed):
    client.force_login(organizer)
    page = client.get(_url("delivery", closed)).content.decode()
    assert "paper=letter" in page and "paper=a4" in page
    assert reverse("staff:petition", kwargs={"slug": closed.slug}) in page
    assert "Page 1 of" not in page
