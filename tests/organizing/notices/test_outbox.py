"""The outbox with in-process tasks: events, deliveries and messages."""

from __future__ import annotations

import pytest
from django.core import mail

from organizing.models import (
    AuditEntry,
    Delivery,
    DeliveryState,
    MilestonePlan,
    Notice,
    NoticeMode,
    NotificationPreference,
)
from organizing.notices import outbox

from .helpers import add_signatures, publish, sign_and_publish, withdraw_signatures

pytestmark = pytest.mark.django_db(transaction=True)


def test_crossing_a_threshold_mails_each_organizer_once(open_petition, organizer, moderator):
    sign_and_publish(open_petition, 10)
    notices = Notice.objects.filter(petition=open_petition)
    assert [n.threshold for n in notices] == [10]
    assert [m.to for m in mail.outbox] == [[organizer.email]]
    message = mail.outbox[0]
    assert open_petition.title in message.subject and "10" in message.subject
    assert f"/p/{open_petition.slug}/" in message.body
    assert Delivery.objects.get().state == DeliveryState.SENT


def test_publishing_again_without_a_new_threshold_sends_nothing(open_petition, organizer):
    sign_and_publish(open_petition, 12)
    publish(open_petition)
    sign_and_publish(open_petition, 3)
    assert len(mail.outbox) == 1
    assert Notice.objects.count() == 1


def test_one_batch_crossing_three_thresholds_records_three_notices(open_petition, organizer):
    sign_and_publish(open_petition, 55)
    thresholds = sorted(Notice.objects.values_list("threshold", flat=True))
    # goal 100: 25 and 50 are both a ladder step and a percentage, recorded once each.
    assert thresholds == [10, 25, 50]
    assert len(mail.outbox) == 3


def test_withdrawals_never_refire_a_threshold(open_petition, organizer):
    sign_and_publish(open_petition, 10)
    withdraw_signatures(open_petition, 3)
    publish(open_petition)
    sign_and_publish(open_petition, 3)
    assert Notice.objects.count() == 1
    assert len(mail.outbox) == 1


def test_the_database_refuses_a_second_event_for_a_threshold(open_petition):
    from django.db import IntegrityError

    Notice.objects.create(petition=open_petition, kind="milestone", threshold=10)
    with pytest.raises(IntegrityError):
        Notice.objects.create(petition=open_petition, kind="milestone", threshold=10)


def test_moderators_hear_only_if_they_opt_in(open_petition, organizer, moderator, campaign):
    NotificationPreference.objects.create(
        user=moderator, campaign=campaign, mode=NoticeMode.INSTANT, email=True
    )
    sign_and_publish(open_petition, 10)
    assert sorted(m.to[0] for m in mail.outbox) == sorted([organizer.email, moderator.email])


def test_digest_only_recipients_get_no_instant_notice(open_petition, organizer, campaign):
    NotificationPreference.objects.create(
        user=organizer, campaign=campaign, mode=NoticeMode.DIGEST, email=True
    )
    sign_and_publish(open_petition, 10)
    assert mail.outbox == []
    assert Notice.objects.count() == 1  # still recorded, for the digest and the dashboard


def test_the_goal_rises_when_reached_if_the_petition_asks(open_petition, organizer):
    MilestonePlan.objects.create(petition=open_petition, raise_goal_when_reached=True)
    sign_and_publish(open_petition, 100)
    open_petition.refresh_from_db()
    assert open_petition.goal == 250
    assert AuditEntry.objects.get(action="petition_update", actor=None).details["goal"] == 250
    assert "reached its goal" in mail.outbox[-1].subject


def test_a_failed_send_waits_for_its_backoff_then_goes_once(open_petition, organizer, settings):
    settings.EMAIL_BACKEND = "tests.organizing.notices.test_outbox.RefusingBackend"
    sign_and_publish(open_petition, 10)
    delivery = Delivery.objects.get()
    assert delivery.state == DeliveryState.PENDING
    assert delivery.attempts == 1
    assert "SMTP" in delivery.last_error
    assert outbox.outbox_claim(delivery_id=delivery.pk) is None  # not due yet
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    Delivery.objects.filter(pk=delivery.pk).update(
        next_attempt_at=delivery.next_attempt_at.replace(year=2000)
    )
    from organizing.notices.tasks import notices_sweep

    notices_sweep()
    notices_sweep()
    assert len(mail.outbox) == 1
    assert Delivery.objects.get().state == DeliveryState.SENT


def test_attempts_end_in_failed_after_the_cap(open_petition, organizer, settings):
    settings.EMAIL_BACKEND = "tests.organizing.notices.test_outbox.RefusingBackend"
    settings.COUNTERSIGN_DELIVERY_MAX_ATTEMPTS = 2
    sign_and_publish(open_petition, 10)
    Delivery.objects.update(
        next_attempt_at=Delivery.objects.get().next_attempt_at.replace(year=2000)
    )
    from organizing.notices.tasks import notices_sweep

    notices_sweep()
    delivery = Delivery.objects.get()
    assert (delivery.state, delivery.attempts) == (DeliveryState.FAILED, 2)


def test_a_claimed_delivery_cannot_be_claimed_twice(open_petition, organizer, settings):
    settings.EMAIL_BACKEND = "tests.organizing.notices.test_outbox.RefusingBackend"
    sign_and_publish(open_petition, 10)
    delivery = Delivery.objects.get()
    Delivery.objects.filter(pk=delivery.pk).update(
        next_attempt_at=delivery.next_attempt_at.replace(year=2000)
    )
    first = outbox.outbox_claim(delivery_id=delivery.pk)
    second = outbox.outbox_claim(delivery_id=delivery.pk)
    assert first is not None
    assert second is None


def test_a_lost_check_task_is_caught_up_by_the_sweep(open_petition, organizer):
    add_signatures(open_petition, 26)  # no counts_published: as if the task was lost
    from organizing.notices.tasks import notices_sweep

    notices_sweep()
    assert sorted(Notice.objects.values_list("threshold", flat=True)) == [10, 25]
    assert len(mail.outbox) == 2


class RefusingBackend:
    """An SMTP server that refuses connections."""

    def __init__(self, *args, **kwargs):
        pass

    def send_messages(self, messages):
        raise ConnectionRefusedError("refused")


def test_a_threshold_added_below_the_count_does_not_fire_for_the_past(open_petition, organizer):
    sign_and_publish(open_petition, 12)
    MilestonePlan.objects.filter(petition=open_petition).update(extra_thresholds=[5, 14])
    sign_and_publish(open_petition, 3)
    assert sorted(Notice.objects.values_list("threshold", flat=True)) == [10, 14]


def test_a_lost_high_water_mark_still_sends_nothing_twice(open_petition, organizer):
    sign_and_publish(open_petition, 12)
    MilestonePlan.objects.filter(petition=open_petition).update(high_water=0)
    publish(open_petition)
    assert Notice.objects.count() == 1
    assert Delivery.objects.count() == 1
    assert len(mail.outbox) == 1
