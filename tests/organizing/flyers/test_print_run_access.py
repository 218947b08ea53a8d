"""Who may open a print run (a PDF of codes is its maker's alone), expiry checked at download
(even while beat is down), and who a retry records (whoever retried)."""

from __future__ import annotations

import io
import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from pypdf import PdfReader

from organizing.flyers import runs
from organizing.models import AuditAction, AuditEntry, PrintRun, Role
from petition.models import CodeBatch
from tests.factories import MembershipFactory, form_key

from .test_designer import FORM

pytestmark = pytest.mark.django_db

CODE = re.compile(r"[0-9A-Z]{5}-[0-9A-Z]{5}")


def _url(name: str, run: PrintRun) -> str:
    return reverse(f"staff:{name}", kwargs={"slug": run.petition.slug, "run_id": run.pk})


def make_cards(client, user, petition, size: int = 10) -> PrintRun:
    client.force_login(user)
    response = client.post(
        reverse("staff:code_batches", kwargs={"slug": petition.slug}),
        {"form_key": form_key(), "level": "in_person", "size": str(size), "paper": "a4"},
    )
    assert response.status_code == 302, response.content
    return PrintRun.objects.filter(created_by=user).latest("created_at")


def codes_in(pdf: bytes) -> set[str]:
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)
    return set(CODE.findall(text))


def test_an_organizer_cannot_see_or_download_a_moderators_code_cards(
    client, organizer, moderator, open_petition
):
    """The leak as first reproduced: mod2 made 10 cards; org2 found the run on the designer page and
    downloaded it (200, 10 codes). Now the designer lists it without a link and the file's
    address answers 404, like an unknown run."""
    run = make_cards(client, moderator, open_petition)
    assert run.status == PrintRun.Status.DONE

    client.force_login(organizer)
    page = client.get(reverse("staff:flyers", kwargs={"slug": open_petition.slug}))
    html = page.content.decode()
    assert str(run.pk) not in html  # no link to its page or file
    assert "only they can open it" in html  # but it is said to exist
    for name in ("print_run", "print_run_status", "print_run_download"):
        assert client.get(_url(name, run)).status_code == 404
    assert client.post(_url("print_run_retry", run)).status_code == 404
    assert not AuditEntry.objects.filter(action=AuditAction.PRINT_RUN_DOWNLOAD).exists()


def test_a_moderator_cannot_download_an_organizers_code_cards_by_their_address(
    client, organizer, moderator, open_petition
):
    run = make_cards(client, organizer, open_petition)
    client.force_login(moderator)
    assert client.get(_url("print_run_download", run)).status_code == 404
    assert client.get(_url("print_run", run)).status_code == 404


def test_another_moderator_cannot_download_tear_off_tabs_either(
    client, organizer, open_petition, campaign
):
    client.force_login(organizer)
    client.post(
        reverse("staff:flyers", kwargs={"slug": open_petition.slug}),
        {"form_key": form_key(), **FORM, "design": "tearoff", "copies": "1"},
    )
    run = PrintRun.objects.get(design="tearoff")
    assert run.carries_codes
    other_organizer = MembershipFactory(campaign=campaign, role=Role.ORGANIZER).user
    client.force_login(other_organizer)
    assert client.get(_url("print_run_download", run)).status_code == 404


def test_the_maker_downloads_and_every_download_is_audited_without_a_code(
    client, moderator, open_petition
):
    run = make_cards(client, moderator, open_petition)
    page = client.get(_url("print_run", run)).content.decode()
    assert _url("print_run_download", run) in page
    assert "The file is deleted on" in page
    for _ in range(2):
        response = client.get(_url("print_run_download", run))
        assert response.status_code == 200
        pdf = b"".join(response.streaming_content)
    codes = codes_in(pdf)
    assert len(codes) == 10
    downloads = AuditEntry.objects.filter(action=AuditAction.PRINT_RUN_DOWNLOAD)
    assert downloads.count() == 2
    for entry in downloads:
        assert entry.actor_id == moderator.pk
        assert entry.object_id == str(run.pk)
        recorded = f"{entry.object_label} {entry.details}"
        assert not any(code in recorded or code.replace("-", "") in recorded for code in codes)


def test_posters_stay_shared_with_organizers(client, organizer, campaign, open_petition):
    client.force_login(organizer)
    client.post(
        reverse("staff:flyers", kwargs={"slug": open_petition.slug}),
        {"form_key": form_key(), **FORM, "design": "poster", "copies": "1"},
    )
    run = PrintRun.objects.get()
    assert not run.carries_codes
    client.force_login(MembershipFactory(campaign=campaign, role=Role.ORGANIZER).user)
    assert client.get(_url("print_run_download", run)).status_code == 200


def test_an_expired_run_is_refused_and_its_file_deleted_at_once(client, moderator, open_petition):
    """As first reproduced: expires_at an hour back, beat not running: the download answered
    200. Now 404, and the file is gone right then."""
    run = make_cards(client, moderator, open_petition)
    storage, name = run.file.storage, run.file.name
    PrintRun.objects.filter(pk=run.pk).update(expires_at=timezone.now() - timedelta(hours=1))
    assert client.get(_url("print_run_download", run)).status_code == 404
    assert not storage.exists(name)
    assert not PrintRun.objects.filter(pk=run.pk).exists()
    assert not AuditEntry.objects.filter(action=AuditAction.PRINT_RUN_DOWNLOAD).exists()


def test_the_default_lifetime_is_short(client, moderator, open_petition, settings):
    assert settings.COUNTERSIGN_PRINT_FILE_HOURS <= 2
    run = make_cards(client, moderator, open_petition)
    left = run.expires_at - timezone.now()
    assert timedelta(hours=1) < left <= timedelta(hours=settings.COUNTERSIGN_PRINT_FILE_HOURS)


# --- retries: the new codes are the retrying person's ---------------------------------------


def _fail_next_render(monkeypatch):
    def broken(**kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(runs, "flyer_pdf", broken)


def test_only_the_maker_retries_a_run_of_codes_and_the_new_batch_is_theirs(
    client, organizer, moderator, open_petition, monkeypatch
):
    _fail_next_render(monkeypatch)
    run = make_cards(client, moderator, open_petition)
    assert run.status == PrintRun.Status.FAILED
    monkeypatch.undo()

    client.force_login(organizer)  # another member, even an organizer
    assert client.post(_url("print_run_retry", run)).status_code == 404
    run.refresh_from_db()
    assert run.status == PrintRun.Status.FAILED

    client.force_login(moderator)
    assert client.post(_url("print_run_retry", run)).status_code == 302
    run.refresh_from_db()
    assert run.status == PrintRun.Status.DONE
    fresh = CodeBatch.objects.get(revoked_at__isnull=True)
    assert fresh.created_by_id == moderator.pk
    made = AuditEntry.objects.filter(
        action=AuditAction.CODE_BATCH_CREATE, object_id=str(fresh.pk)
    ).get()
    assert made.actor_id == moderator.pk


def test_a_retry_records_the_retrying_organizer(
    client, organizer, campaign, open_petition, monkeypatch
):
    """Before: the new codes of a retried run were recorded under the run's first
    maker. A poster run (no codes) is shared by organizers: whoever retries it owns it."""
    _fail_next_render(monkeypatch)
    client.force_login(organizer)
    client.post(
        reverse("staff:flyers", kwargs={"slug": open_petition.slug}),
        {"form_key": form_key(), **FORM, "design": "poster", "copies": "1"},
    )
    run = PrintRun.objects.get()
    monkeypatch.undo()
    second = MembershipFactory(campaign=campaign, role=Role.ORGANIZER).user
    client.force_login(second)
    assert client.post(_url("print_run_retry", run)).status_code == 302
    run.refresh_from_db()
    assert run.status == PrintRun.Status.DONE and run.created_by_id == second.pk


def test_a_demoted_maker_cannot_retry_a_designer_run_of_codes(
    client, organizer, campaign, open_petition, monkeypatch
):
    _fail_next_render(monkeypatch)
    client.force_login(organizer)
    client.post(
        reverse("staff:flyers", kwargs={"slug": open_petition.slug}),
        {"form_key": form_key(), **FORM, "design": "tearoff", "copies": "1"},
    )
    run = PrintRun.objects.get()
    monkeypatch.undo()
    organizer.memberships.update(role=Role.MODERATOR)
    assert client.post(_url("print_run_retry", run)).status_code == 403
    run.refresh_from_db()
    assert run.status == PrintRun.Status.FAILED
