"""Celery tasks of the notices: the milestone outbox (check, send, sweep, digest, deadlines)
and the moderation alerts (sweep, send). Loaded by the worker through CELERY_IMPORTS
(config/settings/base.py); a task's name is this module's path plus its function name.

They take ids, carry no personal data, are bounded in time, and are idempotent: each either
inserts under a unique key or claims a row with a conditional UPDATE, so a retry, a
redelivered message, two workers or two beat runs at once never send anything twice.

The tasks sit above the services (which record notices and their outbox rows) and the
outbox (claim, mark sent or failed): those never start a task, so after a service records
notices the task that called it sends their rows (`_send_new`). Broker down: logged, and
`notices_sweep` sends the rows later (config/background.py).
"""

from __future__ import annotations

import logging
from datetime import timedelta

from celery import shared_task
from celery.exceptions import Retry, SoftTimeLimitExceeded
from django.utils import timezone

from config.background import BROKER_ERRORS, enqueue_on_commit, enqueue_on_commit_or_raise
from petition.links import site_host
from petition.models import Petition
from petition.selectors import petition_counts

from ..models import Channel, MilestonePlan
from . import alerts, channels, messages, outbox, services

logger = logging.getLogger(__name__)


def _send_new(notices) -> None:
    """Send the outbox rows of notices just recorded (their transaction has committed). A
    broker outage loses nothing: the rows are due, and the sweep sends them."""
    for delivery_id in outbox.outbox_of(notices):
        enqueue_on_commit(notice_send, delivery_id)


@shared_task(soft_time_limit=50, time_limit=60)
def milestones_check(petition_id: str) -> int:
    """Record the milestones a publication batch crossed (enqueued on its commit), then send
    their outbox rows."""
    notices = services.milestones_check(petition_id=petition_id)
    _send_new(notices)
    return len(notices)


def _send(delivery) -> None:
    if delivery.channel == Channel.EMAIL:
        subject, body = messages.email_message(delivery)
        domain = site_host()
        channels.send_email(
            to=delivery.recipient.email,
            subject=subject,
            body=body,
            message_id=messages.message_id(delivery, domain or "localhost"),
            language=messages.email_language(delivery),
        )
    else:
        body = messages.webhook_body(delivery)
        channels.post_webhook(
            url=delivery.webhook.url,
            body=body,
            headers=channels.webhook_headers(
                salt=delivery.webhook.salt, body=body, delivery_id=delivery.pk
            ),
        )


# acks_late: a worker killed mid-send leaves the message in the queue for another; safe
# because the claim below lets exactly one sender through per lease.
@shared_task(bind=True, acks_late=True, soft_time_limit=45, time_limit=60, max_retries=None)
def notice_send(self, delivery_id: int) -> str:
    """Send one outbox row (a `Delivery`: one notice to one recipient or webhook)."""
    delivery = outbox.outbox_claim(delivery_id=delivery_id)
    if delivery is None:
        return "not claimed"  # sent, given up, not due, or another sender holds it
    try:
        _send(delivery)
    except (channels.SendError, SoftTimeLimitExceeded) as exc:
        error = str(exc) or type(exc).__name__
    except Exception as exc:
        # A bug, not an outage: count the attempt so the row ends `failed`, not in a loop.
        outbox.outbox_mark_failed(delivery=delivery, error=type(exc).__name__)
        raise
    else:
        outbox.outbox_mark_sent(delivery=delivery)
        return "sent"
    delay = outbox.outbox_mark_failed(delivery=delivery, error=error)
    logger.info("delivery %s failed (%s), attempt %s", delivery.pk, error, delivery.attempts)
    if delay is None:
        return "failed"
    if self.request.is_eager:
        return "retry by sweep"  # in-process tasks (make run): no sleeping in a request
    try:
        raise self.retry(countdown=delay)
    except Retry:
        raise
    except BROKER_ERRORS:
        return "retry by sweep"  # the row is due again at its next attempt time


def webhook_test_send(*, webhook, actor):
    """An organizer's "send a test notice": recorded like a real notice, then sent by
    `notice_send` after commit (or by the sweep, if the broker is down)."""
    delivery = services.webhook_test_record(webhook=webhook, actor=actor)
    enqueue_on_commit(notice_send, delivery.pk)
    return delivery


@shared_task(acks_late=True, soft_time_limit=100, time_limit=120)
def notices_sweep() -> int:
    """Every minute (beat): catch up on checks whose task was lost (a count above the
    high-water mark) and resend every outbox row that is due and unclaimed."""
    recent = timezone.now() - timedelta(days=7)
    petitions = Petition.objects.filter(status=Petition.Status.PUBLISHED) | Petition.objects.filter(
        status__in=[Petition.Status.CLOSED, Petition.Status.DELIVERED], closed_at__gte=recent
    )
    marks = dict(MilestonePlan.objects.values_list("petition_id", "high_water"))
    for petition in petitions:
        if petition_counts(petition)["total"] > marks.get(petition.pk, 0):
            services.milestones_check(petition_id=petition.pk)
    # Rows of the checks just made are due now, so this sends them too.
    due = outbox.outbox_due()
    for delivery_id in due:
        enqueue_on_commit(notice_send, delivery_id)
    return len(due)


@shared_task(acks_late=True, soft_time_limit=250, time_limit=300)
def digests_record() -> int:
    """Daily (beat): one digest per open petition; a second run the same day adds nothing."""
    today = timezone.localdate()
    made = 0
    for petition in Petition.objects.filter(status=Petition.Status.PUBLISHED).select_related(
        "campaign"
    ):
        notice = services.digest_record(petition=petition, day=today)
        if notice is not None:
            _send_new([notice])
            made += 1
    return made


@shared_task(acks_late=True, soft_time_limit=250, time_limit=300)
def deadlines_run() -> dict[str, int]:
    """Hourly (beat): close petitions whose last day has passed, remind organizers three
    days before, and a week before a petition's names and comments are erased.
    Conditional transitions and unique notices make two runs at once safe."""
    today = timezone.localdate()
    closed = services.petitions_close_past_deadline(today=today)
    reminded = services.deadline_reminders_record(today=today)
    erasures = services.retention_reminders_record()
    _send_new(reminded + erasures)
    return {"closed": len(closed), "reminded": len(reminded), "erasures": len(erasures)}


@shared_task(soft_time_limit=120, time_limit=180)
def moderation_alerts_sweep() -> int:
    """Beat, hourly: claim today's "items wait" alert for campaigns with waiting work."""
    claimed = 0
    for alert_id in alerts.moderation_alerts_claim():
        # Raise, not log: no sweep sends a claimed alert again (the claim is the day's
        # row), so a lost message must fail this run where the worker's log shows it.
        enqueue_on_commit_or_raise(moderation_alert_send, alert_id)
        claimed += 1
    return claimed


@shared_task(
    autoretry_for=(OSError,),
    retry_backoff=True,
    retry_backoff_max=600,
    max_retries=8,
    soft_time_limit=60,
    time_limit=90,
)
def moderation_alert_send(alert_id: int) -> bool:
    """Mail one claimed alert (idempotent: an alert already marked sent is skipped)."""
    return alerts.moderation_alert_mail(alert_id=alert_id)
