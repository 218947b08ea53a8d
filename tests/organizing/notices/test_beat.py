"""Beat tasks run twice at the same moment (two beat processes by mistake, or a slow run
overlapping the next): each notice and each delivery exists once."""

from __future__ import annotations

import datetime
import threading

import pytest
from django.core import mail
from django.db import connection
from django.utils import timezone

from organizing.models import Delivery, Notice
from organizing.notices.tasks import deadlines_run, digests_record, notices_sweep
from petition.models import Petition

from .helpers import add_signatures, sign_and_publish

pytestmark = pytest.mark.django_db(transaction=True)


def twice_at_once(task) -> list:
    barrier = threading.Barrier(2, timeout=20)
    results, errors = [], []

    def run():
        try:
            barrier.wait()
            results.append(task())
        except Exception as exc:  # reported below, with the thread's own error
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors, errors
    assert not any(t.is_alive() for t in threads)
    return results


def test_two_digest_runs_at_once_record_one_digest_and_mail_it_once(open_petition, organizer):
    sign_and_publish(open_petition, 12)
    mail.outbox.clear()
    assert sorted(twice_at_once(digests_record)) == [0, 1]
    assert Notice.objects.filter(kind="digest").count() == 1
    digests = [m for m in mail.outbox if "Daily digest" in m.subject]
    assert len(digests) == 1
    assert "Published total: 12 of 100 (12 since the last digest)" in digests[0].body
    assert "Milestones reached: 10" in digests[0].body


def test_a_quiet_day_records_a_digest_but_mails_nothing(open_petition, organizer):
    digests_record()
    assert Notice.objects.filter(kind="digest").count() == 1
    assert mail.outbox == []


def test_two_deadline_runs_at_once_close_once_and_remind_once(campaign, organizer, open_petition):
    from petition.services import petition_publish
    from tests.factories import PetitionFactory

    today = timezone.localdate()
    Petition.objects.filter(pk=open_petition.pk).update(deadline=today - datetime.timedelta(days=1))
    soon = petition_publish(
        petition=PetitionFactory(campaign=campaign, deadline=today + datetime.timedelta(days=3))
    )
    results = twice_at_once(deadlines_run)
    assert sorted(r["closed"] for r in results) == [0, 1]
    open_petition.refresh_from_db()
    assert open_petition.status == Petition.Status.CLOSED
    assert not open_petition.keys.filter(private_key_encrypted__isnull=False).exists()
    assert Notice.objects.filter(kind="deadline_reminder", petition=soon).count() == 1
    reminders = [m for m in mail.outbox if "closes after" in m.subject]
    assert [m.to for m in reminders] == [[organizer.email]]


def test_two_sweeps_at_once_send_a_lost_milestone_once(open_petition, organizer):
    add_signatures(open_petition, 10)  # the check task was lost
    twice_at_once(notices_sweep)
    assert Notice.objects.filter(kind="milestone").count() == 1
    assert len(mail.outbox) == 1
    assert Delivery.objects.get().state == "sent"
