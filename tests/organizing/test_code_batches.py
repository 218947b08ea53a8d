"""Moderators make single-use code cards; the codes appear once; batches can be revoked."""

from __future__ import annotations

import re
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse

from petition.credentials import code_hash
from petition.models import CodeBatch, SigningCode
from petition.services import petition_publish
from tests.factories import form_key

pytestmark = pytest.mark.django_db


@pytest.fixture
def open_petition(draft_petition):
    """Open, taking in-person codes only (so flyer codes are refused)."""
    return petition_publish(petition=draft_petition)


def test_moderator_makes_codes_shown_once_and_stored_hashed(client, moderator, open_petition):
    client.force_login(moderator)
    url = reverse("staff:code_batches", kwargs={"slug": open_petition.slug})
    response = client.post(
        url, {"level": "in_person", "size": "4", "label": "floor 3", "form_key": form_key()}
    )
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    codes = re.findall(r'<code class="code">([0-9A-Z-]{11})</code>', response.content.decode())
    assert len(codes) == 4
    assert {bytes(c.code_hash) for c in SigningCode.objects.all()} == {code_hash(c) for c in codes}
    listing = client.get(url).content.decode()
    assert "floor 3" in listing and "0 / 4" in listing
    assert not any(code in listing for code in codes)


def test_code_form_rejects_a_level_the_petition_does_not_take(client, moderator, open_petition):
    client.force_login(moderator)
    url = reverse("staff:code_batches", kwargs={"slug": open_petition.slug})
    response = client.post(url, {"level": "flyer", "size": "4", "form_key": form_key()})
    assert "level" in response.context["form"].errors
    assert not CodeBatch.objects.exists()


def test_revoking_a_batch(client, moderator, open_petition):
    client.force_login(moderator)
    client.post(
        reverse("staff:code_batches", kwargs={"slug": open_petition.slug}),
        {"level": "in_person", "size": "2", "form_key": form_key()},
    )
    batch = CodeBatch.objects.get()
    response = client.post(
        reverse(
            "staff:code_batch_revoke", kwargs={"slug": open_petition.slug, "batch_id": batch.pk}
        )
    )
    assert response.status_code == 302
    batch.refresh_from_db()
    assert batch.revoked_at is not None


def test_issue_codes_command_prints_codes_and_records_the_batch(open_petition):
    out = StringIO()
    call_command(
        "issue_codes", open_petition.slug, "--level", "in_person", "--count", "7", stdout=out
    )
    codes = out.getvalue().split()
    assert len(codes) == 7 and all(re.fullmatch(r"[0-9A-Z]{5}-[0-9A-Z]{5}", c) for c in codes)
    batch = CodeBatch.objects.get()
    assert batch.size == 7 and batch.codes.count() == 7


@pytest.mark.parametrize(
    "args",
    [
        ["--level", "flyer", "--count", "3"],  # not accepted by this petition
        ["--level", "in_person", "--count", "0"],
    ],
)
def test_issue_codes_command_refuses_bad_requests(open_petition, args):
    with pytest.raises(CommandError):
        call_command("issue_codes", open_petition.slug, *args, stdout=StringIO())
    assert not CodeBatch.objects.exists()


def test_issue_codes_refuses_a_draft(draft_petition):
    with pytest.raises(CommandError, match="open"):
        call_command(
            "issue_codes",
            draft_petition.slug,
            "--level",
            "in_person",
            "--count",
            "1",
            stdout=StringIO(),
        )
