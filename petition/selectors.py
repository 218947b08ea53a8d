"""Reads for public pages and the API."""

from __future__ import annotations

from django.db.models import Count, Q, QuerySet

from organizing.models import Campaign

from . import blindrsa
from .models import Level, Petition, PetitionKey, Signature

PUBLIC_STATUSES = (Petition.Status.PUBLISHED, Petition.Status.CLOSED, Petition.Status.DELIVERED)


def public_petitions() -> QuerySet[Petition]:
    return Petition.objects.filter(status__in=PUBLIC_STATUSES).select_related("campaign")


def public_campaigns() -> QuerySet[Campaign]:
    return (
        Campaign.objects.annotate(
            public_count=Count("petitions", filter=Q(petitions__status__in=PUBLIC_STATUSES))
        )
        .filter(public_count__gt=0)
        .order_by("name")
    )


def petition_counts(petition: Petition) -> dict[str, int]:
    """Counts per level, withdrawn signatures excluded."""
    active = Q(signatures__withdrawn=False)
    aggregates = {
        level: Count("signatures", filter=active & Q(signatures__level=level))
        for level in Level.values
    }
    counts = Petition.objects.filter(pk=petition.pk).aggregate(**aggregates)
    counts["total"] = sum(counts.values())
    return counts


def public_log(petition: Petition) -> list[dict]:
    rows = (
        Signature.objects.filter(petition=petition)
        .select_related("key")
        .only("nullifier", "msg", "sig", "withdrawn", "key__key_id")
        .order_by("nullifier")
    )
    return [
        {
            "nullifier": blindrsa.b64url_encode(bytes(row.nullifier)),
            "key_id": blindrsa.b64url_encode(bytes(row.key.key_id)),
            "msg": blindrsa.b64url_encode(bytes(row.msg)),
            "sig": blindrsa.b64url_encode(bytes(row.sig)),
            "withdrawn": row.withdrawn,
        }
        for row in rows
    ]


def petition_public_keys(petition: Petition) -> QuerySet[PetitionKey]:
    """The public halves only: the private column is never loaded for a public page."""
    return petition.keys.only("petition_id", "level", "key_id", "spki", "modulus_bits")
