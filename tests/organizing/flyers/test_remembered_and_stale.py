"""The designer remembers the last PDF's text, colour and design per petition (review O8),
lists recent PDFs by their batch, and a print run whose worker was killed does not say
"Being made" forever: the sweep gives it up, revokes its codes and offers a retry."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from organizing.flyers import runs
from organizing.flyers.tasks import print_runs_sweep
from organizing.models import FlyerSettings, PrintRun
from petition.codes import code_batch_create
from petition.models import SigningCode
from tests.factories import PetitionFactory

from .test_designer import FORM, designer, post

pytestmark = pytest.mark.django_db

MINE = {
    **FORM,
    "design": "halves",
    "paper": "letter",
    "copies": "2",
    "batch_label": "Break room, Building 2",
    "body": "Our own words for the second run.",
    "organized_by": "Organized by the night shift",
    "deadline_line": "Sign by Friday",
    "accent": "#7a1f3d",
    "language": "fr",
}


def initial_of(response, name):
    return response.context["form"][name].value()


def test_the_designer_starts_from_the_last_pdf_of_the_petition(client, organizer, open_petition):
    client.force_login(organizer)
    first = client.get(designer(open_petition))
    assert initial_of(first, "body") == "" and initial_of(first, "accent") == "#1f5f8b"
    assert initial_of(first, "organized_by") == f"Organized by {open_petition.campaign.name}"
    assert post(client, designer(open_petition), MINE).status_code == 302

    again = client.get(designer(open_petition))
    for name in ("design", "paper", "body", "organized_by", "deadline_line", "accent", "language"):
        assert initial_of(again, name) == MINE[name], name
    html = again.content.decode()
    assert "Our own words for the second run." in html  # the preview shows it too
    assert "those of the last PDF made for this petition" in html
    saved = FlyerSettings.objects.get(petition=open_petition)
    assert saved.design == "halves" and saved.text["accent"] == "#7a1f3d"


def test_remembered_settings_belong_to_their_petition(client, organizer, open_petition):
    client.force_login(organizer)
    post(client, designer(open_petition), MINE)
    other = PetitionFactory(
        campaign=open_petition.campaign, status="published", published_at=timezone.now()
    )
    response = client.get(designer(other))
    assert initial_of(response, "body") == "" and initial_of(response, "design") == "poster"


def test_a_refused_form_is_not_remembered(client, organizer, open_petition):
    client.force_login(organizer)
    response = post(client, designer(open_petition), {**MINE, "accent": "#ffff00"})
    assert response.status_code == 400
    assert "contrast of 1.1:1" in response.content.decode()
    assert not FlyerSettings.objects.exists()


def test_recent_pdfs_are_named_by_batch_and_download_under_that_name(
    client, organizer, open_petition
):
    client.force_login(organizer)
    post(client, designer(open_petition), MINE)
    run = PrintRun.objects.get()
    html = client.get(designer(open_petition)).content.decode()
    assert "<strong>Break room, Building 2</strong>" in html
    download = reverse("staff:print_run_download", args=[open_petition.slug, run.pk])
    assert f'href="{download}"' in html
    response = client.get(download)
    assert response.status_code == 200
    assert (
        f'{open_petition.slug}-break-room-building-2-halves-letter.pdf"'
        in (response["Content-Disposition"])
    )


def stale_run(petition, organizer, minutes):
    """A tear-off run whose worker made its codes, then was killed `minutes` ago."""
    batch, _codes = code_batch_create(
        petition=petition, level="flyer", size=10, actor=organizer, label="Tabs"
    )
    return PrintRun.objects.create(
        petition=petition,
        design="tearoff",
        paper="a4",
        copies=1,
        code_level="flyer",
        code_batch=batch,
        status=PrintRun.Status.RUNNING,
        started_at=timezone.now() - timedelta(minutes=minutes),
        pages_total=1,
        created_by=organizer,
        expires_at=timezone.now() + timedelta(hours=2),
    )


def test_the_sweep_gives_up_a_run_whose_worker_died_and_revokes_its_codes(organizer, open_petition):
    dead = stale_run(open_petition, organizer, minutes=40)
    alive = stale_run(open_petition, organizer, minutes=5)
    assert print_runs_sweep() == 1
    assert print_runs_sweep() == 0  # idempotent: given up once
    dead.refresh_from_db()
    alive.refresh_from_db()
    assert dead.status == PrintRun.Status.FAILED and "stopped" in dead.error
    assert alive.status == PrintRun.Status.RUNNING
    codes = SigningCode.objects.filter(batch=dead.code_batch)
    assert codes.count() == 10
    assert dead.code_batch.revoked_at is not None
    assert alive.code_batch.revoked_at is None


def test_its_page_says_it_failed_and_a_retry_makes_it(client, organizer, open_petition):
    run = stale_run(open_petition, organizer, minutes=40)
    client.force_login(organizer)
    page = reverse("staff:print_run", args=[open_petition.slug, run.pk])
    html = client.get(page).content.decode()  # found stale here even without the beat
    assert "stopped before it was done" in html
    assert reverse("staff:print_run_retry", args=[open_petition.slug, run.pk]) in html
    response = client.post(reverse("staff:print_run_retry", args=[open_petition.slug, run.pk]))
    assert response.status_code == 302
    run.refresh_from_db()
    assert run.status == PrintRun.Status.DONE and run.file


def test_a_worker_that_outlives_the_sweep_does_not_publish_its_file(
    organizer, open_petition, monkeypatch
):
    run = PrintRun.objects.create(
        petition=open_petition,
        design="poster",
        paper="a4",
        copies=1,
        pages_total=1,
        created_by=organizer,
        expires_at=timezone.now() + timedelta(hours=2),
        text={"headline": "H", "call_to_action": "C", "privacy_line": "P"},
    )
    real_render = runs.flyer_pdf

    def render_then_be_given_up(**kwargs):
        pages = real_render(**kwargs)
        PrintRun.objects.filter(pk=run.pk).update(status=PrintRun.Status.FAILED)
        return pages

    monkeypatch.setattr(runs, "flyer_pdf", render_then_be_given_up)
    runs.print_run_execute(run_id=run.pk)
    run.refresh_from_db()
    assert run.status == PrintRun.Status.FAILED and not run.file
