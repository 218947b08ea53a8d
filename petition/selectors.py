"""Reads for public pages and the API."""

from __future__ import annotations

from django.db.models import Count, Q, QuerySet

from organizing.models import Campaign

from .models import Level, Petition, PetitionKey

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
    """Signature counts per level; zero until the signing protocol lands (issue 3)."""
    counts = {level: 0 for level in Level.values}
    counts["total"] = sum(counts.values())
    return counts


def petition_public_keys(petition: Petition) -> QuerySet[PetitionKey]:
    """The public halves only: the private column is never loaded for a public page."""
    return petition.keys.only("petition_id", "level", "key_id", "spki", "modulus_bits")
