"""Reads for staff pages."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from django.db.models import Count, QuerySet
from django.urls import reverse
from django.utils import timezone

from petition import review
from petition.models import Level, Petition
from petition.selectors import (
    percent_of,
    petition_count_history,
    petition_counts,
    petition_public_keys,
)

from .links import absolute_url
from .models import Campaign, Invitation, Membership, Role, User


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


def campaign_role_counts(campaign: Campaign) -> dict[str, int]:
    """How many organizers and moderators the campaign has: what a moderator may know of
    the team besides their own row."""
    counts = dict(
        campaign.memberships.values_list("role").annotate(n=Count("id")).values_list("role", "n")
    )
    return {role: counts.get(role, 0) for role in Role.values}


def campaign_pending_invitations(campaign: Campaign) -> QuerySet[Invitation]:
    """Invitations not yet accepted, expired ones included (they can be renewed or
    withdrawn); `is_expired` tells them apart."""
    return campaign.invitations.filter(accepted_at__isnull=True).order_by("email")


TREND_DAYS = 14


@dataclass(frozen=True)
class PetitionSummary:
    """One petition's line on the dashboard: its count, progress to goal and trend."""

    petition: Petition
    total: int
    percent: int
    gained_this_week: int
    trend: list[int]  # the published total at the end of each of the last TREND_DAYS days


def petition_daily_totals(
    petition: Petition, *, days: int = TREND_DAYS, today: date | None = None
) -> list[int]:
    """The published total at the end of each of the last `days` days, oldest first."""
    today = today or timezone.localdate()
    history = petition_count_history(petition)
    totals, known, i = [], 0, 0
    for offset in range(days - 1, -1, -1):
        day = today - timedelta(days=offset)
        while i < len(history) and history[i][0] <= day:
            known = history[i][1]
            i += 1
        totals.append(known)
    return totals


def week_gain(totals: list[int]) -> int:
    """Growth over the last seven days from daily totals: today's against the end of the
    day a week ago (withdrawals subtracted; never below zero on the dashboard)."""
    return max(totals[-1] - totals[-8], 0) if len(totals) >= 8 else 0


def petition_week_gain(petition: Petition, *, today: date | None = None) -> int:
    return week_gain(petition_daily_totals(petition, days=8, today=today))


def petition_summaries(petitions) -> list[PetitionSummary]:
    summaries = []
    for petition in petitions:
        total = petition_counts(petition)["total"]
        trend = petition_daily_totals(petition) if petition.is_public else []
        summaries.append(
            PetitionSummary(
                petition=petition,
                total=total,
                percent=percent_of(total, petition.goal),
                gained_this_week=week_gain(trend),
                trend=trend,
            )
        )
    return summaries


def dashboard_campaigns(user: User) -> list[tuple[Membership, list[PetitionSummary]]]:
    return [
        (membership, petition_summaries(membership.campaign.petitions.all()))
        for membership in memberships_for_user(user)
    ]


# --- two-person rules: two people, not two accounts of one ------------------------------------


def members_waiting_confirmation(campaign: Campaign) -> list[Membership]:
    """Members who count in no two-person rule until a second organizer confirms them."""
    return list(
        Membership.objects.filter(campaign=campaign, confirmed_at__isnull=True)
        .select_related("user", "added_by")
        .order_by("created_at")
    )


def confirmed_organizer_count(campaign: Campaign) -> int:
    return Membership.objects.filter(
        campaign=campaign, role=Role.ORGANIZER, confirmed_at__isnull=False
    ).count()


def delivery_context(petition: Petition) -> dict:
    """What the delivery document shows (organizing/views/delivery_document.py)."""
    counts = petition_counts(petition)
    return {
        "petition": petition,
        "campaign": petition.campaign,
        "total": counts["total"],
        "level_counts": [(Level(level).label, counts[level]) for level in petition.levels],
        "entries": review.public_entries(petition, limit=None),
        "keys": petition_public_keys(petition),
        "page_url": absolute_url(petition.get_absolute_url()),
        "log_url": absolute_url(reverse("petition:api_log", kwargs={"slug": petition.slug})),
        "keys_url": absolute_url(reverse("petition:api_keys", kwargs={"slug": petition.slug})),
    }
