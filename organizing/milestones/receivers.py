"""Listen to the petition app: a committed publication batch may have crossed a threshold."""

from __future__ import annotations

from django.db import transaction
from django.dispatch import receiver

from petition.signals import counts_published


@receiver(counts_published, dispatch_uid="milestones_on_counts_published")
def check_milestones_after_publication(sender, petition_id, **kwargs) -> None:
    from .tasks import enqueue, milestones_check

    # The signal is sent after commit already; on_commit also covers a sender that sends
    # it from inside a transaction, so the task never reads counts that are rolled back.
    transaction.on_commit(lambda: enqueue(milestones_check, str(petition_id)))
