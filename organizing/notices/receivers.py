"""Listen to the petition app: a committed publication batch may have crossed a threshold.

`petition` may not import this package (docs/architecture.md, "Floors"), so it announces a
published count with `petition.signals.counts_published` and this receiver, connected in
OrganizingConfig.ready(), starts the milestone check.
"""

from __future__ import annotations

from django.dispatch import receiver

from config.background import enqueue_on_commit
from petition.signals import counts_published

from .tasks import milestones_check


@receiver(counts_published, dispatch_uid="milestones_on_counts_published")
def check_milestones_after_publication(sender, petition_id, **kwargs) -> None:
    # The signal is sent after commit already; waiting for a commit also covers a sender
    # that sends it from inside a transaction, so the task never reads counts that are
    # rolled back. Log and carry on if the broker is down: the sweep compares every open
    # petition's count with its high-water mark and runs the check it missed.
    enqueue_on_commit(milestones_check, str(petition_id))
