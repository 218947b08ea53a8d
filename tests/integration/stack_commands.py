"""What the fault tests do to a private stack's database with the app's own services, in a
process of its own (the test process's Django is set up on the test database, not on the
private cluster). Run by tests/integration/instances.py `AppStack.run`; prints one JSON line.

    python -m tests.integration.stack_commands seed <codes>   # an open petition and codes
    python -m tests.integration.stack_commands count <slug>   # what waits, what is published
    python -m tests.integration.stack_commands close <slug>   # close it and count everything
"""

from __future__ import annotations

import json
import sys

import django


def seed(codes: int) -> dict:
    campaign = Campaign.objects.create(name="Faults", slug="faults", employer_name="Acme")
    petition = petition_publish(
        petition=petition_create(
            campaign=campaign,
            slug="faults",
            title="Fault tests",
            demands="Hold on through a restart.",
            addressed_to="Acme",
            goal=1000,
        )
    )
    _batch, issued = code_batch_create(petition=petition, level="in_person", size=codes)
    return {"slug": petition.slug, "codes": issued}


def count(slug: str) -> dict:
    petition = Petition.objects.get(slug=slug)
    return {
        "waiting": PendingSignature.objects.filter(petition=petition).count(),
        "published": Signature.objects.filter(petition=petition).count(),
    }


def close(slug: str) -> dict:
    """Close the petition (which publishes everything still waiting) and report what is
    stored: every published nullifier, what still waits, the batches' totals, the
    transparency log's entries by kind and the public count."""
    petition = Petition.objects.get(slug=slug)
    waiting_before = PendingSignature.objects.filter(petition=petition).count()
    petition_close(petition=petition)
    batches = list(PublicationBatch.objects.filter(petition=petition).order_by("level", "number"))
    return {
        "waiting_before_close": waiting_before,
        "nullifiers": [
            bytes(n).hex()
            for n in Signature.objects.filter(petition=petition).values_list("nullifier", flat=True)
        ],
        "waiting": PendingSignature.objects.filter(petition=petition).count(),
        "batch_added": sum(b.added for b in batches),
        "batches": len(batches),
        # The transparency log: one entry per signature, one summary per batch.
        "log_signatures": LogEntry.objects.filter(
            petition_id=petition.id, kind=KIND_SIGNATURE
        ).count(),
        "log_summaries": LogEntry.objects.filter(
            petition_id=petition.id, kind=KIND_SUMMARY
        ).count(),
        "log_entries": LogEntry.objects.filter(petition_id=petition.id).count(),
        "count": petition_counts(petition)["total"],
    }


if __name__ == "__main__":
    django.setup()
    # After set-up: the models need the app registry of this process's settings.
    from organizing.models import Campaign
    from petition.codes import code_batch_create
    from petition.models import PendingSignature, Petition, PublicationBatch, Signature
    from petition.selectors import petition_counts
    from petition.services import petition_close, petition_create, petition_publish
    from petition.tlog.entries import KIND_SIGNATURE, KIND_SUMMARY
    from petition.tlog.models import LogEntry

    command, argument = sys.argv[1], sys.argv[2]
    if command == "seed":
        print(json.dumps(seed(int(argument))))
    else:
        print(json.dumps({"count": count, "close": close}[command](argument)))
