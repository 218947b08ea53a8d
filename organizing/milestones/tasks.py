"""Celery tasks of the milestone outbox. They take ids, carry no personal data, are
bounded in time, and are idempotent: each either inserts under a unique key or claims a
row with a conditional UPDATE, so a retry, a redelivered message, two workers or two beat
runs at once never send anything twice."""

from __future__ import annotations

import logging
from datetime import timedelta

from celery import shared_task
from celery.exceptions import Retry, SoftTimeLimitExceeded
from django.utils import timezone
from kombu.exceptions import OperationalError as BrokerError
from redis.exceptions import RedisError

from petition.models import Petition
from petition.selectors import petition_counts

from ..links import site_host
from ..models import Channel, MilestonePlan
from . import channels, messages, services

logger = logging.getLogger(__name__)


def enqueue(task, *args) -> bool:
    """Send a task; if the broker is down, say so and go on: the outbox row (or the count
    the sweep compares with the high-water mark) is already committed, and the sweep sends
    it once the broker is back. A signer's request or a publication run never fails here."""
    try:
        task.delay(*args)
    except (BrokerError, RedisError, OSError) as exc:
        logger.warning(
            "broker unavailable (%s); the sweep will run %s", type(exc).__name__, task.name
        )
        return False
    return True


@shared_task(soft_time_limit=50, time_limit=60)
def milestones_check(petition_id: str) -> int:
    """Record the milestones a publication batch crossed (enqueued on its commit)."""
    return len(services.milestones_check(petition_id=petition_id))


def _send(delivery) -> None:
    if delivery.channel == Channel.EMAIL:
        subject, body = messages.email_message(delivery)
        domain = site_host()
        channels.send_email(
            to=delivery.recipient.email,
            subject=subject,
            body=body,
            message_id=messages.message_id(delivery, domain or "localhost"),
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
def delivery_send(self, delivery_id: int) -> str:
    delivery = services.delivery_claim(delivery_id=delivery_id)
    if delivery is None:
        return "not claimed"  # sent, given up, not due, or another sender holds it
    try:
        _send(delivery)
    except (channels.DeliveryError, SoftTimeLimitExceeded) as exc:
        error = str(exc) or type(exc).__name__
    except Exception as exc:
        # A bug, not an outage: count the attempt so the row ends `failed`, not in a loop.
        services.delivery_mark_failed(delivery=delivery, error=type(exc).__name__)
        raise
    else:
        services.delivery_mark_sent(delivery=delivery)
        return "sent"
    delay = services.delivery_mark_failed(delivery=delivery, error=error)
    logger.info("delivery %s failed (%s), attempt %s", delivery.pk, error, delivery.attempts)
    if delay is None:
        return "failed"
    if self.request.is_eager:
        return "retry by sweep"  # in-process tasks (make run): no sleeping in a request
    try:
        raise self.retry(countdown=delay)
    except Retry:
        raise
    except (BrokerError, RedisError, OSError):
        return "retry by sweep"


@shared_task(acks_late=True, soft_time_limit=100, time_limit=120)
def milestones_sweep() -> int:
    """Every minute (beat): catch up on checks whose task was lost (a count above the
    high-water mark) and resend every delivery that is due and unclaimed."""
    recent = timezone.now() - timedelta(days=7)
    petitions = Petition.objects.filter(status=Petition.Status.PUBLISHED) | Petition.objects.filter(
        status__in=[Petition.Status.CLOSED, Petition.Status.DELIVERED], closed_at__gte=recent
    )
    marks = dict(MilestonePlan.objects.values_list("petition_id", "high_water"))
    for petition in petitions:
        if petition_counts(petition)["total"] > marks.get(petition.pk, 0):
            services.milestones_check(petition_id=petition.pk)
    due = services.deliveries_due()
    for delivery_id in due:
        enqueue(delivery_send, delivery_id)
    return len(due)


@shared_task(acks_late=True, soft_time_limit=250, time_limit=300)
def digests_record() -> int:
    """Daily (beat): one digest per open petition; a second run the same day adds nothing."""
    today = timezone.localdate()
    made = 0
    for petition in Petition.objects.filter(status=Petition.Status.PUBLISHED).select_related(
        "campaign"
    ):
        if services.digest_record(petition=petition, day=today) is not None:
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
    return {"closed": len(closed), "reminded": len(reminded), "erasures": len(erasures)}
