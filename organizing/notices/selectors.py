"""Reads of the notices: for the petition dashboard, the digest and the messages."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Count, Q
from django.urls import reverse
from django.utils import timezone

from organizing.flyers.selectors import petition_scans
from petition.links import absolute_url
from petition.models import Level, Petition
from petition.review import items_waiting
from petition.selectors import petition_count_history, petition_counts

from ..charts import growth_chart
from ..models import AuditEntry, Delivery, DeliveryState, MilestonePlan, Notice, NoticeKind, Webhook
from .thresholds import crossed


def petition_links(petition: Petition) -> dict[str, str]:
    return {
        "public": absolute_url(petition.get_absolute_url()),
        "staff": absolute_url(reverse("staff:petition", kwargs={"slug": petition.slug})),
    }


def plan_for(petition: Petition) -> MilestonePlan:
    """The petition's plan, unsaved defaults if the organizers never changed it."""
    return MilestonePlan.objects.filter(petition=petition).first() or MilestonePlan(
        petition=petition
    )


def upcoming_thresholds(petition: Petition, total: int, count: int = 3) -> list[int]:
    plan = plan_for(petition)
    horizon = max(total * 4, petition.goal, 1_000)
    ahead = crossed(
        previous=max(total, plan.high_water),
        current=horizon,
        goal=petition.goal,
        use_ladder=plan.use_default_ladder,
        use_goal_percentages=plan.use_goal_percentages,
        extra=plan.extra_thresholds,
    )
    return ahead[:count]


@dataclass
class MilestoneRow:
    notice: Notice
    sent: int
    pending: int
    failed: int

    @property
    def state(self) -> str:
        if self.failed:
            return DeliveryState.FAILED
        if self.pending:
            return DeliveryState.PENDING
        return DeliveryState.SENT


def milestones_hit(petition: Petition) -> list[MilestoneRow]:
    notices = (
        Notice.objects.filter(petition=petition, kind=NoticeKind.MILESTONE)
        .annotate(
            sent=Count("deliveries", filter=Q(deliveries__state=DeliveryState.SENT)),
            pending=Count("deliveries", filter=Q(deliveries__state=DeliveryState.PENDING)),
            failed=Count("deliveries", filter=Q(deliveries__state=DeliveryState.FAILED)),
        )
        .order_by("-threshold")
    )
    return [MilestoneRow(n, n.sent, n.pending, n.failed) for n in notices]


def campaign_webhooks(campaign) -> list[Webhook]:
    """The campaign's webhooks with their counts of real notices sent and given up, and
    `last_test`: the outbox row of the latest test notice, if any (its state and error)."""
    real = Q(deliveries__notice__kind__in=[k for k in NoticeKind.values if k != NoticeKind.TEST])
    webhooks = list(
        campaign.webhooks.annotate(
            sent=Count("deliveries", filter=Q(deliveries__state=DeliveryState.SENT) & real),
            failed=Count("deliveries", filter=Q(deliveries__state=DeliveryState.FAILED) & real),
        ).order_by("created_at")
    )
    tests = Delivery.objects.filter(webhook__in=webhooks, notice__kind=NoticeKind.TEST).order_by(
        "webhook_id", "-pk"
    )
    latest: dict[int, Delivery] = {}
    for delivery in tests:
        latest.setdefault(delivery.webhook_id, delivery)
    for webhook in webhooks:
        webhook.last_test = latest.get(webhook.pk)
    return webhooks


# --- hooks for the other parts of the digest --------------------------------------------


def flyer_scans(petition: Petition) -> int | None:
    """Total flyer scans of the petition, as the staff pages show it (as of yesterday, sum of
    the batches' figures in steps of 5); None (the line is hidden) while it is 0."""
    return petition_scans(petition)


def moderation_items_waiting(petition: Petition) -> int | None:
    """Comments and names waiting for review, or None where moderation does not exist.

    Hook for the moderation part: return the queue length here and the digest shows it.
    """
    return items_waiting(petition)


# --- digest -----------------------------------------------------------------------------


def digest_data(petition: Petition, previous: Notice | None) -> dict:
    counts = petition_counts(petition)
    before = (previous.data.get("counts") if previous else None) or {}
    change = {key: counts[key] - int(before.get(key, 0)) for key in counts}
    milestones = Notice.objects.filter(petition=petition, kind=NoticeKind.MILESTONE)
    if previous is not None:
        milestones = milestones.filter(created_at__gt=previous.created_at)
    data = {
        "counts": counts,
        "change": change,
        "goal": petition.goal,
        "milestones": sorted(milestones.values_list("threshold", flat=True)),
    }
    scans = flyer_scans(petition)
    if scans is not None:
        # No change since the last digest: that is a daily figure, which scan counts never
        # show (threat model, scan counts). Whether it moved only decides if there is news.
        data["flyer_scans"] = scans
        data["flyer_scans_moved"] = scans != (
            previous.data.get("flyer_scans") if previous else None
        )
    waiting = moderation_items_waiting(petition)
    if waiting is not None:
        data["moderation_waiting"] = waiting
    # The campaign's audit chain head, kept in the mailboxes of the team: a rewrite of the
    # whole log by the database's owner no longer contains it (organizing/auditchain.py).
    head = (
        AuditEntry.objects.filter(campaign_id=petition.campaign_id)
        .order_by("-seq")
        .values_list("seq", "hash")
        .first()
    )
    if head is not None:
        data["audit_head"] = {"seq": head[0], "hash": head[1]}
    return data


def digest_is_news(data: dict) -> bool:
    return bool(
        any(data["change"].values())
        or data["milestones"]
        or data.get("flyer_scans_moved")
        or data.get("moderation_waiting")
    )


def level_rows(counts: dict[str, int], levels=None) -> list[tuple[str, int]]:
    """(label, count) per level (those in `levels`, or all), in the public page's order."""
    return [
        (label, counts.get(value, 0))
        for value, label in Level.choices
        if levels is None or value in levels
    ]


def petition_dashboard(petition: Petition) -> dict:
    """What the staff petition page shows about growth and notices."""
    counts = petition_counts(petition)
    history = petition_count_history(petition)
    return {
        "level_counts": level_rows(counts, petition.levels),
        "growth_chart": growth_chart(history, goal=petition.goal, today=timezone.localdate()),
        "growth_history": history,
        "milestones": milestones_hit(petition),
        "upcoming_thresholds": upcoming_thresholds(petition, counts["total"]),
        "flyer_scans": flyer_scans(petition),
    }
