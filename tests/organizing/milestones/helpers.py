"""Signatures that reach the published counts, the way milestones see them."""

from __future__ import annotations

import secrets

from django.utils import timezone

from petition.models import Petition, Signature
from petition.signals import counts_published


def add_signatures(petition: Petition, count: int, level: str = "in_person") -> None:
    """Rows as redemption writes them (the signature bytes are not checked here: the
    signing tests prove redemption; these tests are about what the counts trigger)."""
    key = petition.keys.get(level=level)
    Signature.objects.bulk_create(
        Signature(
            petition=petition,
            key=key,
            level=level,
            nullifier=secrets.token_bytes(32),
            msg=b"m",
            sig=b"s",
            signed_on=timezone.localdate(),
        )
        for _ in range(count)
    )


def publish(petition: Petition) -> None:
    """A publication batch committed."""
    counts_published.send(sender=Petition, petition_id=petition.pk)


def sign_and_publish(petition: Petition, count: int, level: str = "in_person") -> None:
    add_signatures(petition, count, level)
    publish(petition)
