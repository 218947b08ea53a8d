"""Reads for staff pages."""

from __future__ import annotations

from django.db.models import QuerySet
from django.utils import timezone

from petition.models import Petition

from .models import Campaign, Invitation, Membership, User


def memberships_for_user(user: User) -> QuerySet[Membership]:
    return (
        Membership.objects.filter(user=user)
        .select_related("campaign")
        .prefetch_related("campaign__petitions")
        .order_by("campaign__name")
    )


def campaign_petitions(campaign: Campaign) -> QuerySet[Petition]:
    return campaign.petitions.order_by("-created_at")


def campaign_members(campaign: Campaign) -> QuerySet[Membership]:
    return campaign.memberships.select_related("user").order_by("role", "user__email")


def campaign_pending_invitations(campaign: Campaign) -> QuerySet[Invitation]:
    return campaign.invitations.filter(accepted_at__isnull=True, expires_at__gt=timezone.now())
