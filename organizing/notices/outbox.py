"""The outbox of the notices: one row (model `Delivery`) per notice and recipient or
webhook, and the steps of sending it exactly once. Called by the recording services (add)
and by the tasks (claim, mark sent or failed, due); it never starts a task itself.

A sender claims a row with one conditional UPDATE (pending, due, lease free: lease taken),
sends, then marks it sent; on failure it releases the lease with the next attempt time
(exponential backoff with jitter, capped) or, once the attempts are used up, marks it
failed. A sender that dies mid-send leaves the lease to expire, and the sweep hands the row
to another.
"""

from __future__ import annotations

import random
from collections.abc import Iterable
from datetime import timedelta

from django.conf import settings
from django.db.models import F, Q
from django.utils import timezone

from ..models import Channel, Delivery, DeliveryState, Notice, User, Webhook


def outbox_add(notice: Notice, users: Iterable[User], webhooks: Iterable[Webhook]) -> list[int]:
    """The outbox rows of a new notice, due now; returns their ids. The caller's transaction
    commits them with the notice, and a task sends them after commit (or the sweep does)."""
    now = timezone.now()
    rows = [
        Delivery(notice=notice, channel=Channel.EMAIL, recipient=user, next_attempt_at=now)
        for user in users
    ] + [
        Delivery(notice=notice, channel=Channel.WEBHOOK, webhook=hook, next_attempt_at=now)
        for hook in webhooks
    ]
    return [row.pk for row in Delivery.objects.bulk_create(rows)]


def outbox_of(notices: Iterable[Notice]) -> list[int]:
    """The ids of the rows still waiting for these notices (what a task sends after
    recording them)."""
    return list(
        Delivery.objects.filter(
            notice__in=[notice.pk for notice in notices], state=DeliveryState.PENDING
        ).values_list("pk", flat=True)
    )


def _lease() -> timedelta:
    return timedelta(seconds=settings.COUNTERSIGN_DELIVERY_LEASE_SECONDS)


def outbox_claim(*, delivery_id: int) -> Delivery | None:
    """Take the row for sending, or None if it is sent, given up, not due yet or held
    by another sender whose lease has not expired. One UPDATE decides: two workers (or a
    task and the sweep) cannot both win."""
    now = timezone.now()
    won = (
        Delivery.objects.filter(
            pk=delivery_id, state=DeliveryState.PENDING, next_attempt_at__lte=now
        )
        .filter(Q(lease_until__isnull=True) | Q(lease_until__lt=now))
        .update(lease_until=now + _lease(), attempts=F("attempts") + 1)
    )
    if not won:
        return None
    return Delivery.objects.select_related(
        "notice__petition__campaign", "recipient", "webhook"
    ).get(pk=delivery_id)


def outbox_mark_sent(*, delivery: Delivery) -> bool:
    return bool(
        Delivery.objects.filter(pk=delivery.pk, state=DeliveryState.PENDING).update(
            state=DeliveryState.SENT, sent_at=timezone.now(), lease_until=None, last_error=""
        )
    )


def retry_delay(attempts: int) -> float:
    """Exponential backoff with full jitter, capped: base·2^(n-1), at most the cap."""
    base = settings.COUNTERSIGN_DELIVERY_RETRY_BASE_SECONDS
    cap = settings.COUNTERSIGN_DELIVERY_RETRY_MAX_SECONDS
    ceiling = min(cap, base * 2 ** max(0, attempts - 1))
    return ceiling / 2 + random.uniform(0, ceiling / 2)  # noqa: S311 (not a secret)


def outbox_mark_failed(*, delivery: Delivery, error: str) -> float | None:
    """Release the lease and schedule the next attempt; returns its delay in seconds, or
    None once the attempts are used up (the row is then `failed`, shown on the dashboard)."""
    if delivery.attempts >= settings.COUNTERSIGN_DELIVERY_MAX_ATTEMPTS:
        Delivery.objects.filter(pk=delivery.pk, state=DeliveryState.PENDING).update(
            state=DeliveryState.FAILED, lease_until=None, last_error=error[:200]
        )
        return None
    delay = retry_delay(delivery.attempts)
    Delivery.objects.filter(pk=delivery.pk, state=DeliveryState.PENDING).update(
        lease_until=None,
        next_attempt_at=timezone.now() + timedelta(seconds=delay),
        last_error=error[:200],
    )
    return delay


def outbox_due(limit: int = 500) -> list[int]:
    """Rows due and not held by a sender, oldest first: what the sweep sends."""
    now = timezone.now()
    return list(
        Delivery.objects.filter(state=DeliveryState.PENDING, next_attempt_at__lte=now)
        .filter(Q(lease_until__isnull=True) | Q(lease_until__lt=now))
        .order_by("next_attempt_at")
        .values_list("pk", flat=True)[:limit]
    )
