"""Celery tasks of the transparency log: asking witnesses to cosign."""

from __future__ import annotations

import logging

from celery import shared_task
from django.conf import settings

from ..models import LogCheckpoint, WitnessCosignature
from . import witness

logger = logging.getLogger(__name__)


@shared_task(
    autoretry_for=(witness.WitnessError, OSError),
    retry_backoff=30,
    retry_backoff_max=1800,
    max_retries=10,
)
def witness_cosign(name: str) -> bool:
    """Ask one witness to cosign the latest checkpoint. True when it did."""
    configured = witness.witness_named(name)
    if configured is None:
        return False  # removed from the configuration since
    return witness.cosign_latest(configured) is not None


def witnesses_enqueue() -> None:
    """After a checkpoint commits: one task per witness. A broker outage is logged and
    left to witnesses_sweep; it never reaches the publication that called this.

    Without a worker (tasks run eagerly: the embedded default, tests) nothing is sent: an
    eager task would make the signer's request wait for a slow witness and its retries.
    Witnesses need the worker and its beat (production requires both, check E003)."""
    if settings.CELERY_TASK_ALWAYS_EAGER:
        return
    for configured in witness.configured_witnesses():
        try:
            witness_cosign.delay(configured.name)
        except Exception:  # broker down, or (eager mode) the witness failed for good
            logger.warning("witness %s: not asked now; the sweep retries", configured.name)


@shared_task
def witnesses_sweep() -> int:
    """Beat: ask again every witness that has not cosigned the latest checkpoint."""
    latest = LogCheckpoint.objects.order_by("-size").first()
    if latest is None:
        return 0
    done = set(
        WitnessCosignature.objects.filter(checkpoint=latest).values_list("witness", flat=True)
    )
    missing = [w for w in witness.configured_witnesses() if w.name not in done]
    for configured in missing:
        try:
            witness_cosign.delay(configured.name)
        except Exception:
            logger.warning("witness %s: not asked now", configured.name)
    return len(missing)
