"""Code usage as staff see it, so that nobody can watch one card being used: never to a batch's
maker, campaign-wide only for moderators, per batch for other organizers; always as recorded
at the end of the previous day (UTC), in steps of 5; never a live count."""

from __future__ import annotations

import re
from datetime import UTC, timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from organizing.models import Role
from petition.codes import code_batch_create, code_batches_for_petition, code_usage_record
from petition.models import CodeBatch, CodeUsageDay, SigningCode
from tests.factories import MembershipFactory
from tests.petition.test_credentials_api import ask
from tests.signing_client import start

pytestmark = pytest.mark.django_db

TOKENS = re.compile(r'name="(csrfmiddlewaretoken|form_key)" value="[^"]+"')


def midnight():
    return timezone.now().astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)


def made_days_ago(days: int = 2) -> None:
    CodeBatch.objects.update(created_at=timezone.now() - timedelta(days=days))


def redeem(petition, code: str) -> None:
    client = Client()
    response = ask(client, petition, "in_person", start(client, petition, "in_person"), code=code)
    assert response.status_code == 200, response.content


def page(client, name: str, slug: str) -> str:
    return TOKENS.sub(
        "", client.get(reverse(f"staff:{name}", kwargs={"slug": slug})).content.decode()
    )


def test_the_maker_spending_four_codes_then_handing_out_the_fifth_sees_nothing_move(
    client, moderator, organizer, campaign, open_petition
):
    """The watch as first reproduced: mod2's batch of 10; 4 codes redeemed by mod2 (no signature),
    page "fewer than 5"; the target redeems card 5: page "at least 5". Now no page the
    maker (or anyone) can open changes that day."""
    batch, codes = code_batch_create(
        petition=open_petition, level="in_person", size=10, actor=moderator
    )
    made_days_ago()
    code_usage_record(now=midnight() + timedelta(minutes=1))  # last night's turn: 0 used
    maker, colleague = Client(), Client()
    maker.force_login(moderator)
    colleague.force_login(organizer)

    def everything_they_see() -> list[str]:
        return [
            page(maker, "code_batches", open_petition.slug),
            page(maker, "moderation", campaign.slug),
            page(colleague, "code_batches", open_petition.slug),
            page(colleague, "moderation", campaign.slug),
        ]

    for code in codes[:4]:
        redeem(open_petition, code)
    before = everything_they_see()
    redeem(open_petition, codes[4])  # the target's card
    assert SigningCode.objects.filter(batch=batch, used=True).count() == 5
    assert everything_they_see() == before
    assert "at least 5" not in "".join(before)


def test_moderators_see_one_campaign_wide_figure_and_no_batch_usage(
    client, moderator, organizer, campaign, open_petition
):
    batch, _codes = code_batch_create(
        petition=open_petition, level="in_person", size=20, actor=organizer
    )
    SigningCode.objects.filter(pk__in=list(batch.codes.values_list("pk", flat=True)[:12])).update(
        used=True
    )
    made_days_ago()
    code_usage_record(now=midnight() + timedelta(minutes=1))

    client.force_login(moderator)
    for name, slug in (("code_batches", open_petition.slug), ("moderation", campaign.slug)):
        html = page(client, name, slug)
        assert ">Used<" not in html  # no per-batch column
        assert "whole campaign by the end of" in html and "at least 10" in html
        assert "12" not in re.sub(r"<[^>]+>", " ", html).split()  # never exact


def test_other_organizers_see_a_rounded_daily_figure_and_the_maker_none(
    client, organizer, campaign, open_petition
):
    maker = MembershipFactory(campaign=campaign, role=Role.ORGANIZER).user
    batch, _codes = code_batch_create(
        petition=open_petition, level="in_person", size=20, actor=maker
    )
    SigningCode.objects.filter(pk__in=list(batch.codes.values_list("pk", flat=True)[:7])).update(
        used=True
    )
    made_days_ago()
    code_usage_record(now=midnight() + timedelta(minutes=1))
    client.force_login(organizer)
    assert "at least 5" in page(client, "code_batches", open_petition.slug)
    client.force_login(maker)
    mine = page(client, "code_batches", open_petition.slug)
    assert "not shown to its maker" in mine and "at least 5" not in mine
    assert "whole campaign" not in mine  # no total to subtract the others from


def test_the_turn_is_recorded_once_and_a_late_beat_records_no_live_count(open_petition):
    batch, _codes = code_batch_create(petition=open_petition, level="in_person", size=10)
    made_days_ago()
    turn = midnight()
    assert code_usage_record(now=turn + timedelta(minutes=1)) == 1
    assert code_usage_record(now=turn + timedelta(minutes=2)) == 0  # idempotent
    SigningCode.objects.filter(batch=batch).update(used=True)
    # The next turn is missed; beat comes back at 03:00: the last figure, carried forward.
    assert code_usage_record(now=turn + timedelta(days=1, hours=3)) == 1
    assert list(CodeUsageDay.objects.order_by("day").values_list("used", flat=True)) == [0, 0]


def test_a_read_with_beat_down_fills_the_day_from_the_last_figure_not_a_live_count(
    client, organizer, campaign, open_petition
):
    maker = MembershipFactory(campaign=campaign, role=Role.ORGANIZER).user
    batch, _codes = code_batch_create(
        petition=open_petition, level="in_person", size=10, actor=maker
    )
    made_days_ago(3)
    SigningCode.objects.filter(batch=batch).update(used=True)
    # Two hours past the turn, whatever the clock says now: past the beat's window, so the
    # read itself fills the day the beat missed.
    (seen,) = code_batches_for_petition(
        open_petition, viewer=organizer, now=midnight() + timedelta(hours=2)
    )
    assert seen.usage_at_least == 0  # "fewer than 5", not the live 10
    row = CodeUsageDay.objects.get()
    assert row.day == (midnight() - timedelta(days=1)).date() and row.used == 0


def test_revoking_says_no_count(client, moderator, open_petition):
    batch, codes = code_batch_create(
        petition=open_petition, level="in_person", size=10, actor=moderator
    )
    client.force_login(moderator)
    url = reverse(
        "staff:code_batch_revoke", kwargs={"slug": open_petition.slug, "batch_id": batch.pk}
    )
    empty = TOKENS.sub("", client.get(url).content.decode())
    for code in codes[:3]:
        redeem(open_petition, code)
    assert TOKENS.sub("", client.get(url).content.decode()) == empty
    done = client.post(url, follow=True).content.decode()
    # Neither the log's verifier key (random base64) nor a date ("Dec. 3, 2026") is a count,
    # though either may hold a lone 3 or 7.
    done = re.sub(r'<code class="vkey"[^>]*>[^<]*</code>', " ", done)
    done = re.sub(r"\b[A-Z][a-z]{2,8}\.? \d{1,2}, \d{4}\b", " ", done)
    assert "Batch revoked" in done and not re.search(r"\b[37]\b", re.sub(r"<[^>]+>", " ", done))
