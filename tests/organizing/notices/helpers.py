"""Signatures that reach the published counts, the way milestones see them."""

from __future__ import annotations

import secrets

from django.utils import timezone

from petition.models import Petition, PublicationBatch, Signature
from petition.signals import counts_published


def add_signatures(petition: Petition, count: int, level: str = "in_person") -> None:
    """Rows as a publication batch writes them (the signature bytes are not checked here:
    the signing and publication tests prove those; these tests are about what the published
    counts trigger). The counts move now; `publish` then sends the batch's signal."""
    key = petition.keys.get(level=level)
    last = PublicationBatch.objects.filter(petition=petition, level=level).order_by("-number")
    last = last.first()
    batch = PublicationBatch.objects.create(
        petition=petition,
        level=level,
        number=last.number + 1 if last else 1,
        published_on=timezone.localdate(),
        added=count,
        withdrawn=0,
        total_added=(last.total_added if last else 0) + count,
        total_withdrawn=last.total_withdrawn if last else 0,
    )
    Signature.objects.bulk_create(
        Signature(
            petition=petition,
            batch=batch,
            key=key,
            level=level,
            nullifier=secrets.token_bytes(32),
            msg=b"m",
            sig=b"s",
        )
        for _ in range(count)
    )


def withdraw_signatures(petition: Petition, count: int, level: str = "in_person") -> None:
    """A batch that publishes `count` withdrawals: the published total drops now."""
    last = PublicationBatch.objects.filter(petition=petition, level=level).latest("number")
    batch = PublicationBatch.objects.create(
        petition=petition,
        level=level,
        number=last.number + 1,
        published_on=timezone.localdate(),
        added=0,
        withdrawn=count,
        total_added=last.total_added,
        total_withdrawn=last.total_withdrawn + count,
    )
    rows = petition.signatures.filter(level=level, withdrawn=False).values("pk")[:count]
    Signature.objects.filter(pk__in=rows).update(withdrawn=True)
    assert batch.total == last.total - count


def publish(petition: Petition) -> None:
    """A publication batch committed."""
    counts_published.send(sender=Petition, petition_id=petition.pk)


def sign_and_publish(petition: Petition, count: int, level: str = "in_person") -> None:
    add_signatures(petition, count, level)
    publish(petition)
