"""Reads for staff pages."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from django.db.models import QuerySet
from django.utils import timezone

from petition.models import Petition
from petition.selectors import petition_count_history, petition_counts
from petition.templatetags.petition_tags import percent_of

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


@dataclass(frozen=True)
class PetitionSummary:
    """One petition's line on the dashboard: its count, progress to goal and trend."""

    petition: Petition
    total: int
    percent: int
    gained_this_week: int


def petition_week_gain(petition: Petition, *, today: date | None = None) -> int:
    """How much the published total grew in the last seven days (withdrawals subtracted),
    from the stored batch totals: what the public saw, never rows still waiting."""
    since = (today or timezone.localdate()) - timedelta(days=6)
    history = petition_count_history(petition)
    before = [total for day, total in history if day < since]
    now = history[-1][1] if history else 0
    return now - (before[-1] if before else 0)


def petition_summaries(petitions) -> list[PetitionSummary]:
    summaries = []
    for petition in petitions:
        total = petition_counts(petition)["total"]
        summaries.append(
            PetitionSummary(
                petition=petition,
                total=total,
                percent=percent_of(total, petition.goal),
                gained_this_week=petition_week_gain(petition) if petition.is_public else 0,
            )
        )
    return summaries


def dashboard_campaigns(user: User) -> list[tuple[Membership, list[PetitionSummary]]]:
    return [
        (membership, petition_summaries(membership.campaign.petitions.all()))
        for membership in memberships_for_user(user)
    ]
