"""Listen to the petition app: a committed publication batch may have crossed a threshold."""

from __future__ import annotations

from django.db import transaction
from django.dispatch import receiver

from petition.signals import counts_published

from ..models import Delivery
from .signals import deliveries_created
from .tasks import delivery_send, enqueue, milestones_check


@receiver(counts_published, dispatch_uid="milestones_on_counts_published")
def check_milestones_after_publication(sender, petition_id, **kwargs) -> None:
    # The signal is sent after commit already; on_commit also covers a sender that sends
    # it from inside a transaction, so the task never reads counts that are rolled back.
    transaction.on_commit(lambda: enqueue(milestones_check, str(petition_id)))


@receiver(deliveries_created, sender=Delivery, dispatch_uid="milestones_send_new_deliveries")
def send_new_deliveries(sender, ids, **kwargs) -> None:
    # Already after commit (the services send this from on_commit). If the broker is down,
    # the rows stay due and the sweep sends them.
    for delivery_id in ids:
        enqueue(delivery_send, delivery_id)
