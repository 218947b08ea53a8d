"""Review of what signers chose to show: their public name and comment.

Only published signatures are reviewed, in nullifier order, so a moderator never sees when
one arrived; they see the name and the comment, nothing else about the signer. Approving
or hiding changes what the public page shows, never the count, and nobody can delete a
counted signature here. A campaign either holds names and comments until a moderator
approves them, or shows them at once and lets moderators hide them afterwards
(`Campaign.entries_need_review`).
"""

from __future__ import annotations

from datetime import timedelta

from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from organizing.audit import audit_record
from organizing.models import AuditAction, Campaign, User

from .codes import code_batches_waiting_approval
from .models import EntryReview, Petition, Signature
from .text import hidden_controls

HIDE_REASON_MAX = 200
PUBLIC_ENTRIES_SHOWN = 100


class ReviewError(Exception):
    """The decision cannot be taken (already decided, no reason given)."""


def _with_text(signatures: QuerySet[Signature]) -> QuerySet[Signature]:
    return signatures.filter(withdrawn=False).exclude(display_name="", comment="")


def _campaign_entries(campaign: Campaign) -> QuerySet[Signature]:
    return _with_text(
        Signature.objects.filter(petition__campaign=campaign).exclude(
            petition__status=Petition.Status.DRAFT
        )
    )


def _shown_filter(campaign: Campaign) -> Q:
    if campaign.entries_need_review:
        return Q(review=EntryReview.APPROVED)
    return Q(review__in=[EntryReview.APPROVED, EntryReview.WAITING])


def review_queue(campaign: Campaign) -> QuerySet[Signature]:
    """Names and comments waiting for a moderator (empty when the campaign shows them at
    once). Ordered by petition and nullifier: never by arrival."""
    if not campaign.entries_need_review:
        return Signature.objects.none()
    return (
        _campaign_entries(campaign)
        .filter(review=EntryReview.WAITING)
        .select_related("petition")
        .only("review_id", "petition__title", "petition__slug", "display_name", "comment", "review")
        .order_by("petition__title", "nullifier")
    )


def items_waiting(petition: Petition) -> int:
    """What waits for moderators on one petition: names and comments to review and code
    batches to approve (the milestones digest shows this count)."""
    entries = review_queue(petition.campaign).filter(petition=petition).count()
    batches = code_batches_waiting_approval(Petition.objects.filter(pk=petition.pk)).count()
    return entries + batches


def entries_shown(campaign: Campaign) -> QuerySet[Signature]:
    """Names and comments the public pages show now: moderators can still hide them."""
    return (
        _campaign_entries(campaign)
        .filter(_shown_filter(campaign))
        .select_related("petition")
        .only("review_id", "petition__title", "petition__slug", "display_name", "comment", "review")
        .order_by("petition__title", "nullifier")
    )


def public_entries(petition: Petition, limit: int | None = PUBLIC_ENTRIES_SHOWN) -> list[Signature]:
    """What the petition's public page shows: approved (or, without review, not hidden)
    names and comments, in nullifier order. `limit=None`: all (the delivery document)."""
    rows = _with_text(petition.signatures.all()).filter(_shown_filter(petition.campaign))
    rows = rows.only("display_name", "comment").order_by("nullifier")
    return list(rows if limit is None else rows[:limit])


def _decide(
    *, signature: Signature, actor: User, source: list[str], target: str, reason: str = ""
) -> None:
    with transaction.atomic():
        changed = (
            _with_text(Signature.objects.filter(pk=signature.pk, review__in=source))
            .exclude(petition__status=Petition.Status.DRAFT)
            .update(review=target, hidden_reason=reason)
        )
        if not changed:
            raise ReviewError(_("This name or comment was already dealt with."))
        petition = Petition.objects.select_related("campaign").get(signatures=signature.pk)
        # The record names the petition only: not the signature's id nor its nullifier,
        # which would let whoever reads the log link a name or comment to its level, key and
        # batch; not its text nor the reason (which may quote it): the audit log
        # outlives retention.
        action = AuditAction.ENTRY_APPROVE
        if target == EntryReview.HIDDEN:
            action = AuditAction.ENTRY_HIDE
        audit_record(actor=actor, action=action, campaign=petition.campaign, target=petition)


def entry_approve(*, signature: Signature, actor: User) -> None:
    _decide(
        signature=signature,
        actor=actor,
        source=[EntryReview.WAITING],
        target=EntryReview.APPROVED,
    )


def entry_hide(*, signature: Signature, actor: User, reason: str) -> None:
    reason = (reason or "").strip()
    if not reason:
        raise ReviewError(_("Say why, for the rest of the team."))
    if len(reason) > HIDE_REASON_MAX:
        raise ReviewError(_("Keep the reason under %(max)d characters.") % {"max": HIDE_REASON_MAX})
    # A NUL cannot be stored in PostgreSQL text (it was a 500); other invisible controls
    # could hide part of the reason from the rest of the team. Line breaks are fine.
    if hidden_controls(reason, newlines=True):
        raise ReviewError(_("The reason contains invisible control characters. Remove them."))
    _decide(
        signature=signature,
        actor=actor,
        source=[EntryReview.WAITING, EntryReview.APPROVED],
        target=EntryReview.HIDDEN,
        reason=reason,
    )


# --- retention after delivery, or after closing ----------------------------------------


def purge_due_on(petition: Petition):
    """When the petition's names and comments are erased: the campaign's retention period
    counted from delivery, or from closing for a petition closed and never marked delivered
    (otherwise they would be kept for ever). None while it is open."""
    start = petition.delivered_at or petition.closed_at
    if petition.status not in (Petition.Status.CLOSED, Petition.Status.DELIVERED) or not start:
        return None
    return start + timedelta(days=petition.campaign.retention_days)


def petitions_with_entries_ended() -> QuerySet[Petition]:
    """Closed or delivered petitions that still hold names or comments."""
    return (
        Petition.objects.filter(status__in=[Petition.Status.CLOSED, Petition.Status.DELIVERED])
        .filter(signatures__in=Signature.objects.exclude(review=EntryReview.ERASED))
        .select_related("campaign")
        .distinct()
    )


def petitions_due_for_purge() -> list[Petition]:
    """Closed or delivered petitions whose campaign's retention period is over and that
    still hold names or comments (few rows: compared in Python, the same on every
    database)."""
    now = timezone.now()
    return [p for p in petitions_with_entries_ended() if purge_due_on(p) <= now]


def entries_purge(*, petition: Petition) -> int:
    """Erase the names, comments and hiding reasons of a closed or delivered petition. The
    signatures, counts and public log stay. Idempotent: a second run finds nothing."""
    with transaction.atomic():
        erased = (
            Signature.objects.filter(petition=petition)
            .exclude(review=EntryReview.ERASED)
            .exclude(display_name="", comment="", hidden_reason="")
            .update(display_name="", comment="", hidden_reason="", review=EntryReview.ERASED)
        )
        if erased:
            audit_record(
                actor=None,
                action=AuditAction.RETENTION_PURGE,
                campaign=petition.campaign,
                target=petition,
                details={"entries": erased},
            )
    return erased
