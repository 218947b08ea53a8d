"""A code batch's "works until" is the last day the codes work, the same day on the form,
the batch table and the audit log, in any site time zone (review O19).

Stored as `expires_at`, the first instant of the next day in settings.TIME_ZONE; read back
as `CodeBatch.last_day`. The old pages showed `expires_at`'s own date: one day late.
"""

from __future__ import annotations

import re
import types
from datetime import timedelta

import pytest
from django.test import Client, override_settings
from django.urls import reverse
from django.utils import formats, timezone

from organizing.forms import CodeBatchForm
from petition import credentials
from petition.codes import code_batch_create, code_batch_expiry
from petition.models import CodeBatch
from tests.factories import form_key
from tests.petition.test_credentials_api import ask
from tests.signing_client import start

pytestmark = pytest.mark.django_db

ZONES = ["UTC", "America/Los_Angeles", "Pacific/Auckland"]


def shown(day) -> str:
    return formats.date_format(day, "DATE_FORMAT")


def _text(client, name, slug) -> str:
    html = client.get(reverse(f"staff:{name}", kwargs={"slug": slug})).content.decode()
    return re.sub(r"\s+", " ", html)


@pytest.mark.parametrize("zone", ZONES)
def test_the_chosen_last_day_is_the_day_shown_everywhere(client, organizer, open_petition, zone):
    with override_settings(TIME_ZONE=zone):
        last_day = timezone.localdate() + timedelta(days=5)
        client.force_login(organizer)
        response = client.post(
            reverse("staff:code_batches", kwargs={"slug": open_petition.slug}),
            {
                "level": "in_person",
                "size": "10",
                "expires_at": last_day.isoformat(),
                "paper": "a4",
                "form_key": form_key(),
            },
        )
        assert response.status_code == 302
        batch = CodeBatch.objects.get()
        assert batch.last_day == last_day
        # Stored: the first instant after the chosen day, in the site's zone.
        local_end = timezone.localtime(batch.expires_at)
        assert (local_end.date(), local_end.time().isoformat()) == (
            last_day + timedelta(days=1),
            "00:00:00",
        )
        table = _text(client, "code_batches", open_petition.slug)
        assert shown(last_day) in table
        assert shown(last_day + timedelta(days=1)) not in table
        log = _text(client, "audit_log", open_petition.campaign.slug)
        assert shown(last_day) in log
        assert shown(last_day + timedelta(days=1)) not in log


def _clock_at(moment):
    """The redemption's clock only (petition.credentials reads `timezone.now()`): the rest of
    the request keeps the real time."""
    return types.SimpleNamespace(now=lambda: moment)


@pytest.mark.parametrize("zone", ZONES)
def test_codes_work_through_the_whole_last_day_and_not_after(open_petition, monkeypatch, zone):
    with override_settings(TIME_ZONE=zone):
        last_day = timezone.localdate() + timedelta(days=2)
        form = CodeBatchForm(
            {
                "level": "in_person",
                "size": "10",
                "expires_at": last_day.isoformat(),
                "form_key": form_key(),
            },
            petition=open_petition,
        )
        assert form.is_valid(), form.errors
        _batch, codes = code_batch_create(
            petition=open_petition,
            level="in_person",
            size=10,
            expires_at=form.service_fields()["expires_at"],
        )
        end = code_batch_expiry(last_day)
        # One second before local midnight at the end of the last day: still that day.
        last_second = end - timedelta(seconds=1)
        assert timezone.localtime(last_second).date() == last_day
        assert timezone.localtime(last_second).time().isoformat() == "23:59:59"

        client = Client()
        monkeypatch.setattr(credentials, "timezone", _clock_at(last_second))
        response = ask(
            client,
            open_petition,
            "in_person",
            start(client, open_petition, "in_person"),
            code=codes[0],
        )
        assert response.status_code == 200, response.content

        monkeypatch.setattr(credentials, "timezone", _clock_at(end))
        response = ask(
            client,
            open_petition,
            "in_person",
            start(client, open_petition, "in_person"),
            code=codes[1],
        )
        assert (response.status_code, response.json()["error"]["code"]) == (403, "invalid_code")


def test_the_form_starts_empty_and_names_the_petitions_deadline(client, organizer, open_petition):
    open_petition.deadline = timezone.localdate() + timedelta(days=40)
    open_petition.save()
    client.force_login(organizer)
    html = client.get(reverse("staff:code_batches", kwargs={"slug": open_petition.slug}))
    field = re.search(r'<input[^>]*name="expires_at"[^>]*>', html.content.decode()).group(0)
    assert "value=" not in field  # empty: until the petition closes
    text = re.sub(r"\s+", " ", html.content.decode())
    assert f"until the petition closes (its deadline is {shown(open_petition.deadline)})" in text


def test_an_empty_last_day_means_until_the_petition_closes(open_petition):
    form = CodeBatchForm(
        {"level": "in_person", "size": "10", "expires_at": "", "form_key": form_key()},
        petition=open_petition,
    )
    assert form.is_valid(), form.errors
    assert form.service_fields()["expires_at"] is None
