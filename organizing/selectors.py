"""Reads for staff pages."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from django.db.models import Count, QuerySet
from django.urls import reverse
from django.utils import timezone

from petition import review
from petition.codes import code_batches_waiting_approval
from petition.links import absolute_url
from petition.models import Level, Petition
from petition.selectors import (
    percent_of,
    petition_count_history,
    petition_counts,
    petition_public_keys,
)

from .models import (
    AuditAction,
    AuditEntry,
    Campaign,
    Invitation,
    Membership,
    PrintRun,
    Role,
    User,
)


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


def dashboard_campaigns(
    user: User,
) -> list[tuple[Membership, list[PetitionSummary], dict[str, int]]]:
    """Each campaign of `user` with its petitions and what waits for its moderators (M2)."""
    return [
        (
            membership,
            petition_summaries(membership.campaign.petitions.all()),
            review.campaign_items_waiting(membership.campaign),
        )
        for membership in memberships_for_user(user)
    ]


# --- what is still pending before closing or delivery (review O20, O22) ----------------------


@dataclass(frozen=True)
class PendingItem:
    """One line of a checklist: what is pending, and where to fix it."""

    kind: str
    count: int
    url: str
    label: str = ""


def _runs_not_downloaded(petition: Petition) -> list[PrintRun]:
    """Unexpired PDFs of the petition that are still being made, failed, or were never
    downloaded (every download leaves an audit row)."""
    runs = list(
        PrintRun.objects.filter(petition=petition, expires_at__gt=timezone.now()).order_by(
            "created_at"
        )
    )
    downloaded = set(
        AuditEntry.objects.filter(
            action=AuditAction.PRINT_RUN_DOWNLOAD,
            object_type="printrun",
            object_id__in=[str(run.pk) for run in runs],
        ).values_list("object_id", flat=True)
    )
    return [
        run for run in runs if run.status != PrintRun.Status.DONE or str(run.pk) not in downloaded
    ]


def _entries_waiting(petition: Petition) -> list[PendingItem]:
    waiting = review.review_queue(petition.campaign).filter(petition=petition).count()
    if not waiting:
        return []
    url = reverse("staff:moderation", kwargs={"slug": petition.campaign.slug}) + "#queue-title"
    return [PendingItem("entries", waiting, url)]


def close_checklist(petition: Petition) -> list[PendingItem]:
    """What is still pending before signing closes: names and comments waiting for review,
    code batches waiting for a second person (their codes never work after closing), and
    PDFs not yet made or downloaded (their codes stop working too)."""
    items = _entries_waiting(petition)
    petitions = Petition.objects.filter(pk=petition.pk)
    if batches := code_batches_waiting_approval(petitions).count():
        url = reverse("staff:moderation", kwargs={"slug": petition.campaign.slug})
        items.append(PendingItem("batches", batches, url + "#batches-waiting-title"))
    for run in _runs_not_downloaded(petition):
        url = reverse("staff:print_run", kwargs={"slug": petition.slug, "run_id": run.pk})
        label = f"{run.get_design_display()} · {run.get_paper_display()} · {run.copies}"
        items.append(PendingItem(f"run_{run.status}", 1, url, label))
    return items


def delivery_checklist(petition: Petition) -> list[PendingItem]:
    """What is still pending before delivery: names and comments waiting for review (the
    document shows only approved ones), and the delivery document never downloaded."""
    items = _entries_waiting(petition)
    downloaded = AuditEntry.objects.filter(
        action=AuditAction.DELIVERY_DOWNLOAD, object_type="petition", object_id=str(petition.pk)
    ).exists()
    if not downloaded:
        url = reverse("staff:delivery", kwargs={"slug": petition.slug})
        items.append(PendingItem("document", 1, url))
    return items


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
        # Honest, not the progress bar's: above 100 when the goal was passed.
        "percent": round(counts["total"] * 100 / petition.goal),
        "made_on": timezone.localdate(),
        "level_counts": [(Level(level).label, counts[level]) for level in petition.levels],
        "entries": review.public_entries(petition, limit=None),
        "keys": petition_public_keys(petition),
        "page_url": absolute_url(petition.get_absolute_url()),
        "log_url": absolute_url(reverse("petition:api_log", kwargs={"slug": petition.slug})),
        "keys_url": absolute_url(reverse("petition:api_keys", kwargs={"slug": petition.slug})),
    }
