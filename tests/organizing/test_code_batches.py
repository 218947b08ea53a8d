"""Code batches: the rules live in petition/codes.py and hold for every door."""

from __future__ import annotations

import re
from datetime import UTC, timedelta
from io import StringIO

import pytest
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from organizing.forms import CodeBatchForm
from organizing.models import AuditEntry
from petition.codes import (
    CodeBatchError,
    code_batch_approve,
    code_batch_create,
    code_batches_for_petition,
    code_usage_record,
)
from petition.models import CODE_BATCH_MAX_SIZE, CODE_BATCH_MIN_SIZE, CodeBatch, SigningCode
from petition.services import petition_publish
from tests.factories import MembershipFactory, form_key

pytestmark = pytest.mark.django_db


@pytest.fixture
def open_petition(draft_petition):
    """Open, taking in-person codes only (so flyer codes are refused)."""
    return petition_publish(petition=draft_petition)


def record_usage_at_last_turn() -> None:
    """As if every batch was made two days ago and the beat ran at last midnight (UTC)."""
    now = timezone.now()
    CodeBatch.objects.update(created_at=now - timedelta(days=2))
    midnight = now.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    code_usage_record(now=midnight + timedelta(minutes=1))


def _codes_url(petition) -> str:
    return reverse("staff:code_batches", kwargs={"slug": petition.slug})


# Making code cards (POST, redirect, PDF download) is tested in flyers/test_designer.py.


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"level": "flyer", "size": "12"}, "level"),  # not accepted by this petition
        ({"level": "in_person", "size": str(CODE_BATCH_MIN_SIZE - 1)}, "size"),
        ({"level": "in_person", "size": str(CODE_BATCH_MAX_SIZE + 1)}, "size"),
        ({"level": "in_person", "size": "12", "expires_at": "2001-01-01"}, "expires_at"),
    ],
)
def test_code_form_refuses_bad_batches_with_a_field_error(
    client, moderator, open_petition, data, field
):
    client.force_login(moderator)
    response = client.post(_codes_url(open_petition), {**data, "form_key": form_key()})
    assert response.status_code == 400
    assert field in response.context["form"].errors
    assert not CodeBatch.objects.exists()


def test_one_maximum_for_form_command_and_database(open_petition):
    size_field = CodeBatchForm(petition=open_petition).fields["size"]
    assert (size_field.min_value, size_field.max_value) == (
        CODE_BATCH_MIN_SIZE,
        CODE_BATCH_MAX_SIZE,
    )
    with pytest.raises(CommandError, match=str(CODE_BATCH_MAX_SIZE)):
        call_command(
            "issue_codes",
            open_petition.slug,
            "--level",
            "in_person",
            "--count",
            str(CODE_BATCH_MAX_SIZE + 1),
            stdout=StringIO(),
        )
    for size in (CODE_BATCH_MIN_SIZE - 1, CODE_BATCH_MAX_SIZE + 1):
        with pytest.raises(IntegrityError), transaction.atomic():
            CodeBatch.objects.create(petition=open_petition, level="in_person", size=size)
    assert not CodeBatch.objects.exists()


def test_the_service_refuses_a_closed_petition_and_a_small_batch(open_petition):
    with pytest.raises(ValidationError) as small:
        code_batch_create(petition=open_petition, level="in_person", size=1)
    assert "size" in small.value.error_dict
    from petition.services import petition_close

    petition_close(petition=open_petition)
    with pytest.raises(ValidationError, match="open"):
        code_batch_create(petition=open_petition, level="in_person", size=10)
    assert not CodeBatch.objects.exists()


@pytest.mark.parametrize(
    ("used", "shown"),
    [(0, 0), (1, 0), (4, 0), (5, 5), (6, 5), (9, 5), (10, 10), (14, 10), (20, 20)],
)
def test_usage_is_shown_only_in_steps_of_five(open_petition, used, shown):
    batch, _codes = code_batch_create(petition=open_petition, level="in_person", size=20)
    used_pks = list(batch.codes.values_list("pk", flat=True)[:used])
    SigningCode.objects.filter(pk__in=used_pks).update(used=True)
    record_usage_at_last_turn()
    (listed,) = code_batches_for_petition(open_petition)
    assert listed.usage_at_least == shown
    assert not hasattr(listed, "_used")


def test_the_page_never_shows_a_single_use(client, moderator, open_petition):
    batch, _codes = code_batch_create(petition=open_petition, level="in_person", size=10)
    client.force_login(moderator)
    SigningCode.objects.filter(pk=batch.codes.first().pk).update(used=True)
    one_used = client.get(_codes_url(open_petition)).content.decode()
    SigningCode.objects.filter(batch=batch).update(used=False)
    none_used = client.get(_codes_url(open_petition)).content.decode()
    # The page differs only by its one-time tokens.
    strip = re.compile(r'name="(csrfmiddlewaretoken|form_key)" value="[^"]+"')
    assert strip.sub("", one_used) == strip.sub("", none_used)


def test_revoking_a_batch(client, moderator, open_petition):
    client.force_login(moderator)
    client.post(
        _codes_url(open_petition), {"level": "in_person", "size": "10", "form_key": form_key()}
    )
    batch = CodeBatch.objects.get()
    response = client.post(
        reverse(
            "staff:code_batch_revoke", kwargs={"slug": open_petition.slug, "batch_id": batch.pk}
        )
    )
    assert response.status_code == 302
    batch.refresh_from_db()
    assert batch.revoked_at is not None and batch.state == "revoked"


# --- a second pair of eyes ----------------------------------------------------------------


@pytest.fixture
def two_person_campaign(campaign):
    campaign.code_batches_need_approval = True
    campaign.save()
    return campaign


def _approve_url(batch) -> str:
    return reverse(
        "staff:code_batch_approve", kwargs={"slug": batch.petition.slug, "batch_id": batch.pk}
    )


def test_a_batch_waits_for_someone_else_to_approve_it(
    client, two_person_campaign, open_petition, moderator, organizer
):
    batch, _codes = code_batch_create(
        petition=open_petition, level="in_person", size=10, actor=moderator
    )
    assert batch.state == "waiting"
    client.force_login(moderator)
    response = client.post(_approve_url(batch), follow=True)
    assert "other than" in response.content.decode()
    batch.refresh_from_db()
    assert batch.approved_at is None
    client.force_login(organizer)
    client.post(_approve_url(batch))
    batch.refresh_from_db()
    assert (batch.state, batch.approved_by) == ("active", organizer)
    approval = AuditEntry.objects.get(action="code_batch_approve")
    assert approval.actor_id == organizer.pk


def test_the_maker_cannot_approve_through_the_service_or_the_database(
    two_person_campaign, open_petition, moderator
):
    batch, _codes = code_batch_create(
        petition=open_petition, level="in_person", size=10, actor=moderator
    )
    with pytest.raises(CodeBatchError):
        code_batch_approve(batch=batch, actor=moderator)
    with pytest.raises(IntegrityError), transaction.atomic():
        CodeBatch.objects.filter(pk=batch.pk).update(
            approved_at=timezone.now(), approved_by=moderator
        )
    batch.refresh_from_db()
    assert batch.approved_at is None


def test_a_batch_is_approved_once(two_person_campaign, open_petition, moderator, organizer):
    other = MembershipFactory(campaign=two_person_campaign, role="moderator").user
    batch, _codes = code_batch_create(
        petition=open_petition, level="in_person", size=10, actor=moderator
    )
    code_batch_approve(batch=batch, actor=organizer)
    with pytest.raises(CodeBatchError):
        code_batch_approve(batch=batch, actor=other)
    batch.refresh_from_db()
    assert batch.approved_by == organizer
    assert AuditEntry.objects.filter(action="code_batch_approve").count() == 1


def test_without_the_campaign_rule_a_batch_works_at_once(open_petition, moderator):
    batch, _codes = code_batch_create(
        petition=open_petition, level="in_person", size=10, actor=moderator
    )
    assert batch.state == "active" and batch.approved_by is None


# --- the command line ---------------------------------------------------------------------


def test_issue_codes_command_prints_codes_and_records_the_batch(open_petition):
    out = StringIO()
    call_command(
        "issue_codes", open_petition.slug, "--level", "in_person", "--count", "11", stdout=out
    )
    codes = out.getvalue().split()
    assert len(codes) == 11 and all(re.fullmatch(r"[0-9A-Z]{5}-[0-9A-Z]{5}", c) for c in codes)
    batch = CodeBatch.objects.get()
    assert batch.size == 11 and batch.codes.count() == 11 and batch.created_by is None


@pytest.mark.parametrize(
    "args",
    [
        ["--level", "flyer", "--count", "10"],  # not accepted by this petition
        ["--level", "in_person", "--count", "0"],
        ["--level", "in_person", "--count", str(CODE_BATCH_MIN_SIZE - 1)],
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
            "10",
            stdout=StringIO(),
        )


def test_issue_codes_says_when_a_batch_waits_for_approval(two_person_campaign, open_petition):
    err = StringIO()
    call_command(
        "issue_codes",
        open_petition.slug,
        "--level",
        "in_person",
        "--count",
        "10",
        stdout=StringIO(),
        stderr=err,
    )
    assert "approves" in err.getvalue()
    assert CodeBatch.objects.get().state == "waiting"


def test_form_expiry_means_the_end_of_the_chosen_day(open_petition):
    day = timezone.localdate() + timedelta(days=3)
    form = CodeBatchForm(
        {"level": "in_person", "size": "10", "expires_at": day.isoformat(), "form_key": form_key()},
        petition=open_petition,
    )
    assert form.is_valid(), form.errors
    expires_at = form.service_fields()["expires_at"]
    assert timezone.localtime(expires_at).date() == day + timedelta(days=1)
    assert timezone.localtime(expires_at).hour == 0
