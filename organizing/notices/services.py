"""Writes of the notices, above the outbox: who hears what, recording notices under their
unique keys with one outbox row per recipient and webhook, the deadline and erasure
reminders, and the staff settings (milestone plan, webhooks, notification preferences).

Recording a notice adds its outbox rows (organizing/notices/outbox.py) in the same
transaction and returns the notice. It starts no task: only tasks record notices, and the
task that called sends the new rows after commit (organizing/notices/tasks.py), which keeps
this module below the tasks (no import cycle) without a signal in between; the sweep sends
whatever that misses.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import date, timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone

from petition.models import MAX_GOAL, Petition
from petition.pagecache import pages_changed
from petition.review import petitions_with_entries_ended, purge_due_on
from petition.selectors import petition_counts
from petition.services import TransitionError, petition_close

from ..audit import audit_record, update_with_audit
from ..models import (
    AuditAction,
    Campaign,
    Delivery,
    Membership,
    MilestonePlan,
    Notice,
    NoticeKind,
    NoticeMode,
    NotificationPreference,
    Role,
    User,
    Webhook,
)
from . import selectors, thresholds
from .outbox import outbox_add

logger = logging.getLogger(__name__)


# --- who hears what ---------------------------------------------------------------------


def default_mode(role: str) -> str:
    # Organizers asked for the petition; moderators hand out codes and opt in to more.
    return NoticeMode.INSTANT if role == Role.ORGANIZER else NoticeMode.NONE


def email_recipients(campaign: Campaign, *, modes: Iterable[str], roles=None) -> list[User]:
    """Members of the campaign whose (explicit or default) preference is in `modes` with
    email on."""
    modes = set(modes)
    prefs = {p.user_id: p for p in NotificationPreference.objects.filter(campaign=campaign)}
    members = Membership.objects.filter(campaign=campaign, user__is_active=True).select_related(
        "user"
    )
    if roles is not None:
        members = members.filter(role__in=roles)
    chosen = []
    for membership in members.order_by("user_id"):
        pref = prefs.get(membership.user_id)
        mode = pref.mode if pref else default_mode(membership.role)
        email = pref.email if pref else True
        if email and mode in modes:
            chosen.append(membership.user)
    return chosen


# --- recording notices ------------------------------------------------------------------


def _notice_create(*, petition: Petition, kind: str, data: dict, **key) -> Notice | None:
    """Insert under the unique key; None if that notice exists already. The callers hold
    the petition's plan lock, so this is the database's word on a race, not the only one."""
    try:
        with transaction.atomic():
            return Notice.objects.create(petition=petition, kind=kind, data=data, **key)
    except IntegrityError:
        return None


def _lock_plan(petition_id) -> MilestonePlan:
    MilestonePlan.objects.get_or_create(petition_id=petition_id)
    # One check at a time per petition: two publication runs (or a run and the sweep)
    # queue here instead of both reading the same high-water mark.
    return (
        MilestonePlan.objects.select_for_update()
        .select_related("petition")
        .get(petition_id=petition_id)
    )


@transaction.atomic
def milestones_check(*, petition_id) -> list[Notice]:
    """Record a notice for every threshold the published total crossed since the last
    check, with its deliveries, and raise the goal if the petition asks for it."""
    plan = _lock_plan(petition_id)
    petition = plan.petition
    counts = petition_counts(petition)
    total = counts["total"]
    crossed = thresholds.crossed(
        previous=plan.high_water,
        current=total,
        goal=petition.goal,
        use_ladder=plan.use_default_ladder,
        use_goal_percentages=plan.use_goal_percentages,
        extra=plan.extra_thresholds,
    )
    notices = []
    instant_users = email_recipients(petition.campaign, modes=[NoticeMode.INSTANT])
    webhooks = list(Webhook.objects.filter(campaign=petition.campaign, active=True))
    for threshold in crossed:
        data = {"total": total, "goal": petition.goal, "counts": counts}
        notice = _notice_create(
            petition=petition, kind=NoticeKind.MILESTONE, threshold=threshold, data=data
        )
        if notice is None:
            continue  # recorded before: sent or on its way, never a second time
        outbox_add(notice, instant_users, webhooks)
        notices.append(notice)
    if total > plan.high_water:
        MilestonePlan.objects.filter(pk=plan.pk).update(high_water=total)
    if plan.raise_goal_when_reached and total >= petition.goal and petition.goal < MAX_GOAL:
        new_goal = thresholds.next_goal(total, MAX_GOAL)
        # Conditional on the goal we read: an organizer's edit in between wins.
        if Petition.objects.filter(pk=petition.pk, goal=petition.goal).update(
            goal=new_goal, updated_at=timezone.now()
        ):
            pages_changed(slugs=[petition.slug])  # the page and API show the goal
            audit_record(
                actor=None,
                action=AuditAction.PETITION_UPDATE,
                campaign=petition.campaign,
                target=petition,
                details={"fields": ["goal"], "goal": new_goal, "reason": "goal reached"},
            )
    return notices


@transaction.atomic
def digest_record(*, petition: Petition, day: date) -> Notice | None:
    """The daily digest of `day` for one petition: counts by level now and the change since
    the previous digest, milestones reached since, items waiting. Nothing to say, no mail."""
    _lock_plan(petition.pk)
    previous = (
        Notice.objects.filter(petition=petition, kind=NoticeKind.DIGEST, day__lt=day)
        .order_by("-day")
        .first()
    )
    data = selectors.digest_data(petition, previous)
    notice = _notice_create(petition=petition, kind=NoticeKind.DIGEST, day=day, data=data)
    if notice is not None and selectors.digest_is_news(data):
        users = email_recipients(petition.campaign, modes=[NoticeMode.INSTANT, NoticeMode.DIGEST])
        outbox_add(notice, users, [])
    return notice


@transaction.atomic
def deadline_reminder_record(*, petition: Petition) -> Notice | None:
    _lock_plan(petition.pk)
    counts = petition_counts(petition)
    notice = _notice_create(
        petition=petition,
        kind=NoticeKind.DEADLINE_REMINDER,
        day=petition.deadline,
        data={"total": counts["total"], "goal": petition.goal, "counts": counts},
    )
    if notice is None:
        return None
    users = email_recipients(
        petition.campaign,
        modes=[NoticeMode.INSTANT, NoticeMode.DIGEST],
        roles=[Role.ORGANIZER],
    )
    outbox_add(notice, users, [])
    return notice


# --- deadlines --------------------------------------------------------------------------


def petitions_close_past_deadline(*, today: date) -> list[Petition]:
    """Close every open petition whose last day has passed (which destroys its private
    keys). Two runs at once: the status transition is conditional, one of them wins."""
    closed = []
    for petition in Petition.objects.filter(status=Petition.Status.PUBLISHED, deadline__lt=today):
        try:
            closed.append(petition_close(petition=petition))
        except TransitionError:
            continue
    return closed


def deadline_reminders_record(*, today: date, days_before: int = 3) -> list[Notice]:
    notices = []
    for petition in Petition.objects.filter(
        status=Petition.Status.PUBLISHED, deadline=today + timedelta(days=days_before)
    ).select_related("campaign"):
        notice = deadline_reminder_record(petition=petition)
        if notice is not None:
            notices.append(notice)
    return notices


RETENTION_REMINDER_DAYS = 7


@transaction.atomic
def retention_reminder_record(*, petition: Petition, erase_on: date) -> Notice | None:
    """Tell the petition's organizers that its names and comments are erased on
    `erase_on`, once per petition and day (a later delivery moves the day: a new notice)."""
    _lock_plan(petition.pk)
    notice = _notice_create(
        petition=petition,
        kind=NoticeKind.RETENTION_REMINDER,
        day=erase_on,
        data={"delivered": petition.status == Petition.Status.DELIVERED},
    )
    if notice is None:
        return None
    users = email_recipients(
        petition.campaign,
        modes=[NoticeMode.INSTANT, NoticeMode.DIGEST],
        roles=[Role.ORGANIZER],
    )
    outbox_add(notice, users, [])
    return notice


def retention_reminders_record(*, days_before: int = RETENTION_REMINDER_DAYS) -> list[Notice]:
    """Petitions whose names and comments are erased within `days_before` days (counted
    from delivery, or from closing when never delivered): remind their organizers, so a
    closed petition's delivery document can still be downloaded before it loses them."""
    now = timezone.now()
    notices = []
    for petition in petitions_with_entries_ended():
        due = purge_due_on(petition)
        if now < due <= now + timedelta(days=days_before):
            notice = retention_reminder_record(petition=petition, erase_on=timezone.localdate(due))
            if notice is not None:
                notices.append(notice)
    return notices


# --- staff settings ---------------------------------------------------------------------


@transaction.atomic
def milestone_plan_update(*, petition: Petition, actor: User | None, **fields) -> MilestonePlan:
    plan = _lock_plan(petition.pk)
    update_with_audit(
        plan,
        fields,
        actor=actor,
        action=AuditAction.MILESTONE_UPDATE,
        campaign=petition.campaign,
        target=petition,
        # The whole list as it stands after the change, so the log says what is planned.
        details={"extra_thresholds": fields.get("extra_thresholds", plan.extra_thresholds)},
    )
    return plan


@transaction.atomic
def webhook_create(*, campaign: Campaign, actor: User | None, url: str, label: str = "") -> Webhook:
    webhook = Webhook(campaign=campaign, url=url, label=label, created_by=actor)
    webhook.full_clean()
    webhook.save()
    audit_record(
        actor=actor,
        action=AuditAction.WEBHOOK_UPDATE,
        campaign=campaign,
        target=webhook,
        details={"change": "added", "url": url},
    )
    return webhook


@transaction.atomic
def webhook_delete(*, webhook: Webhook, actor: User | None) -> None:
    audit_record(
        actor=actor,
        action=AuditAction.WEBHOOK_UPDATE,
        campaign=webhook.campaign,
        target=webhook,
        details={"change": "removed", "url": webhook.url},
    )
    webhook.delete()


@transaction.atomic
def notification_preference_set(
    *, user: User, campaign: Campaign, mode: str, email: bool
) -> NotificationPreference:
    preference, _created = NotificationPreference.objects.update_or_create(
        user=user, campaign=campaign, defaults={"mode": mode, "email": email}
    )
    return preference


def notification_preference_for(user: User, campaign: Campaign, role: str):
    """The member's preference, or an unsaved one with the defaults of their role."""
    return NotificationPreference.objects.filter(
        user=user, campaign=campaign
    ).first() or NotificationPreference(
        user=user, campaign=campaign, mode=default_mode(role), email=True
    )


@transaction.atomic
def webhook_test_record(*, webhook: Webhook, actor: User | None) -> Delivery:
    """Record a test notice for one webhook and its outbox row, due now: the task that sends
    real notices sends it (tasks.webhook_test_send), so the test tries the whole path. It is
    about no petition and carries the campaign's name only."""
    notice = Notice.objects.create(
        petition=None, kind=NoticeKind.TEST, data={"campaign": webhook.campaign.name}
    )
    (delivery_id,) = outbox_add(notice, [], [webhook])
    audit_record(
        actor=actor,
        action=AuditAction.WEBHOOK_UPDATE,
        campaign=webhook.campaign,
        target=webhook,
        details={"change": "test notice", "url": webhook.url},
    )
    return Delivery.objects.get(pk=delivery_id)
