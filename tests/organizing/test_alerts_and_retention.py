"""Moderators hear when work waits (counts only); names and comments are erased after
delivery (or closing) while counts and the public log stay."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core import mail
from django.utils import formats, timezone

from organizing.models import AuditEntry, ModerationAlert
from organizing.notices.tasks import deadlines_run, moderation_alert_send, moderation_alerts_sweep
from petition.codes import code_batch_create
from petition.models import EntryReview, Petition, Signature
from petition.review import entry_approve, entry_hide
from petition.selectors import petition_counts
from petition.services import petition_close, petition_mark_delivered
from petition.tasks import retention_purge
from tests.organizing.test_moderation import sign

pytestmark = pytest.mark.django_db


def test_moderators_get_one_mail_a_day_with_counts_only(
    open_petition, moderator, organizer, django_capture_on_commit_callbacks
):
    campaign = open_petition.campaign
    campaign.code_batches_need_approval = True
    campaign.save()
    sign(open_petition, display_name="Ada", comment="Secret words from a signer")
    code_batch_create(petition=open_petition, level="in_person", size=10, actor=organizer)
    with django_capture_on_commit_callbacks(execute=True):
        assert moderation_alerts_sweep() == 1
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == [moderator.email]
    assert "1 name or comment to review" in message.body
    assert "1 code batch to approve" in message.body
    assert "Secret words" not in message.body and "Ada" not in message.body
    assert ModerationAlert.objects.get().sent_at is not None
    with django_capture_on_commit_callbacks(execute=True):
        assert moderation_alerts_sweep() == 0  # the same day: no second mail
    assert len(mail.outbox) == 1


def test_no_mail_when_nothing_waits(open_petition, moderator, django_capture_on_commit_callbacks):
    signature = sign(open_petition, comment="Fine")
    entry_approve(signature=signature, actor=moderator)
    with django_capture_on_commit_callbacks(execute=True):
        assert moderation_alerts_sweep() == 0
    assert mail.outbox == [] and not ModerationAlert.objects.exists()


def test_the_daily_digest_carries_the_count_and_its_readers_get_no_second_mail(
    open_petition, moderator, organizer, django_capture_on_commit_callbacks
):
    from organizing.notices.services import digest_record

    sign(open_petition, comment="Waiting")
    notice = digest_record(petition=open_petition, day=timezone.localdate())
    assert notice.data["moderation_waiting"] == 1
    with django_capture_on_commit_callbacks(execute=True):
        moderation_alerts_sweep()
    alerted = [m.to for m in mail.outbox if "Waiting for moderation" in m.subject]
    assert alerted == [[moderator.email]]  # the organizer reads it in the digest


def test_sending_an_alert_twice_mails_once(open_petition, moderator):
    sign(open_petition, comment="Waiting")
    alert = ModerationAlert.objects.create(
        campaign=open_petition.campaign, sent_on=timezone.localdate(), entries=1
    )
    assert moderation_alert_send(alert.pk) is True
    assert moderation_alert_send(alert.pk) is False
    assert len(mail.outbox) == 1


# --- retention ----------------------------------------------------------------------------


@pytest.fixture
def delivered(open_petition, moderator):
    shown = sign(open_petition, display_name="Ada", comment="Proud to sign")
    hidden = sign(open_petition, comment="Names my boss")
    sign(open_petition)
    entry_approve(signature=shown, actor=moderator)
    entry_hide(signature=hidden, actor=moderator, reason="identifies")
    petition_close(petition=open_petition)
    return petition_mark_delivered(petition=open_petition)


def _age(petition: Petition, days: int) -> None:
    Petition.objects.filter(pk=petition.pk).update(
        delivered_at=timezone.now() - timedelta(days=days)
    )


def test_names_and_comments_are_erased_after_the_retention_period(delivered, client):
    counts = petition_counts(delivered)
    log = client.get(f"/api/v1/petitions/{delivered.slug}/log").json()
    _age(delivered, 31)
    assert retention_purge() == 2
    rows = Signature.objects.filter(petition=delivered)
    assert rows.count() == 3
    assert set(rows.values_list("display_name", "comment", "hidden_reason")) == {("", "", "")}
    assert set(rows.values_list("review", flat=True)) <= {EntryReview.ERASED, EntryReview.WAITING}
    assert petition_counts(delivered) == counts
    after = client.get(f"/api/v1/petitions/{delivered.slug}/log").json()
    assert [e["nullifier"] for e in after["entries"]] == [e["nullifier"] for e in log["entries"]]
    purge = AuditEntry.objects.get(action="retention_purge")
    assert purge.actor_id is None and purge.details == {"entries": 2}
    assert retention_purge() == 0  # run twice: nothing left
    assert AuditEntry.objects.filter(action="retention_purge").count() == 1


def test_nothing_is_erased_before_the_period_ends(delivered):
    delivered.campaign.retention_days = 60
    delivered.campaign.save()
    _age(delivered, 31)
    assert retention_purge() == 0
    assert Signature.objects.filter(petition=delivered, comment="Proud to sign").exists()


def test_a_closed_but_undelivered_petition_is_erased_after_the_period_from_closing(
    open_petition, moderator, organizer, client
):
    """A petition closed and never marked delivered used to keep its names and comments
    for ever. Now the retention period counts from closing; organizers see the date first."""
    sign(open_petition, display_name="Ada", comment="Still here")
    closed = petition_close(petition=open_petition)
    assert retention_purge() == 0  # closed today: kept for the period
    assert Signature.objects.filter(comment="Still here").exists()

    client.force_login(organizer)
    page = client.get(f"/staff/p/{closed.slug}/").content.decode()
    due = formats.date_format(closed.closed_at + timedelta(days=30), "DATE_FORMAT")
    assert f"erased on {due}" in page

    Petition.objects.filter(pk=closed.pk).update(closed_at=timezone.now() - timedelta(days=31))
    assert retention_purge() == 1
    row = Signature.objects.get(petition=closed)
    assert (row.display_name, row.comment, row.review) == ("", "", EntryReview.ERASED)
    purge = AuditEntry.objects.get(action="retention_purge")
    assert purge.actor_id is None and purge.details == {"entries": 1}
    assert retention_purge() == 0


def test_an_open_petition_is_never_erased(open_petition):
    sign(open_petition, comment="Open still")
    assert retention_purge() == 0
    assert Signature.objects.filter(comment="Open still").exists()


def test_organizers_are_told_a_week_before_a_closed_petition_is_erased(
    open_petition, moderator, organizer, django_capture_on_commit_callbacks
):
    sign(open_petition, display_name="Ada", comment="Keep me a while")
    closed = petition_close(petition=open_petition)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        assert deadlines_run()["erasures"] == 0  # 30 days ahead: too early to say
    Petition.objects.filter(pk=closed.pk).update(closed_at=timezone.now() - timedelta(days=25))
    with django_capture_on_commit_callbacks(execute=True):
        assert deadlines_run()["erasures"] == 1
        assert deadlines_run()["erasures"] == 0  # once per erasure day
    erase_on = formats.date_format(
        timezone.localdate(timezone.now() + timedelta(days=5)), "DATE_FORMAT"
    )
    [reminder] = [m for m in mail.outbox if "are erased on" in m.subject]
    assert reminder.to == [organizer.email]  # organizers only, like deadline reminders
    assert erase_on in reminder.subject
    assert "download the delivery document" in reminder.body
    assert "Keep me a while" not in reminder.body and "Ada" not in reminder.body
