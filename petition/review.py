"""Review of what signers chose to show: their public name and comment.

Only published signatures are reviewed, in nullifier order, so a moderator never sees when
one arrived; they see the name and the comment, nothing else about the signer. Approving
or hiding changes what the public page shows, never the count, and nobody can delete a
counted signature here. A campaign either holds names and comments until a moderator
approves them, or shows them at once and lets moderators hide them afterwards
(`Campaign.entries_need_review`).

A moderator decides the name and the comment separately (review M5): hiding one part
shows the other; hiding needs a preset reason (or "other" in words); a hidden entry can be
shown again. Every decision is audited in its transaction.
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
from .models import EntryReview, HiddenPart, HideReason, Petition, Signature
from .pagecache import pages_changed
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


# Hidden in part: the other part shows, as if approved.
_PARTLY_HIDDEN = Q(review=EntryReview.HIDDEN, hidden_part__in=[HiddenPart.NAME, HiddenPart.COMMENT])


def _shown_filter(campaign: Campaign) -> Q:
    if campaign.entries_need_review:
        return Q(review=EntryReview.APPROVED) | _PARTLY_HIDDEN
    return Q(review__in=[EntryReview.APPROVED, EntryReview.WAITING]) | _PARTLY_HIDDEN


def _without_hidden_part(entries) -> list[Signature]:
    """Blank the hidden part of each entry in memory (never saved), so every page and the
    delivery document show only what may be shown."""
    entries = list(entries)
    for entry in entries:
        if entry.review == EntryReview.HIDDEN and entry.hidden_part == HiddenPart.NAME:
            entry.display_name = ""
        if entry.review == EntryReview.HIDDEN and entry.hidden_part == HiddenPart.COMMENT:
            entry.comment = ""
    return entries


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


def campaign_items_waiting(campaign: Campaign) -> dict[str, int]:
    """What waits for moderators in a campaign (the dashboard, review M2)."""
    return {
        "entries": review_queue(campaign).count(),
        "batches": code_batches_waiting_approval(campaign.petitions.all()).count(),
    }


def entries_hidden(campaign: Campaign) -> QuerySet[Signature]:
    """Hidden names and comments, with what is hidden and why, so a wrong click can be
    undone ("show again"). Same order as the queue: never by arrival."""
    return (
        _campaign_entries(campaign)
        .filter(review=EntryReview.HIDDEN)
        .select_related("petition")
        .only(
            "review_id",
            "petition__title",
            "petition__slug",
            "display_name",
            "comment",
            "review",
            "hidden_part",
            "hide_reason",
            "hidden_reason",
        )
        .order_by("petition__title", "nullifier")
    )


def entries_shown(campaign: Campaign) -> QuerySet[Signature]:
    """Names and comments the public pages show now: moderators can still hide them."""
    return (
        _campaign_entries(campaign)
        .filter(_shown_filter(campaign))
        .select_related("petition")
        .only(
            "review_id",
            "petition__title",
            "petition__slug",
            "display_name",
            "comment",
            "review",
            "hidden_part",
        )
        .order_by("petition__title", "nullifier")
    )


def public_entries(petition: Petition, limit: int | None = PUBLIC_ENTRIES_SHOWN) -> list[Signature]:
    """What the petition's public page shows: approved (or, without review, not hidden)
    names and comments, in nullifier order. `limit=None`: all (the delivery document)."""
    rows = _with_text(petition.signatures.all()).filter(_shown_filter(petition.campaign))
    rows = rows.only("display_name", "comment", "review", "hidden_part").order_by("nullifier")
    return _without_hidden_part(rows if limit is None else rows[:limit])


def _decide(*, signature: Signature, actor: User, source: list[str], action: str, **fields) -> None:
    with transaction.atomic():
        changed = (
            _with_text(Signature.objects.filter(pk=signature.pk, review__in=source))
            .exclude(petition__status=Petition.Status.DRAFT)
            .update(**fields)
        )
        if not changed:
            raise ReviewError(_("This name or comment was already dealt with."))
        petition = Petition.objects.select_related("campaign").get(signatures=signature.pk)
        pages_changed(slugs=[petition.slug])  # the names and comments the page shows
        # The record names the petition only: not the signature's id nor its nullifier,
        # which would let whoever reads the log link a name or comment to its level, key and
        # batch; not its text nor the reason in words (which may quote it): the audit log
        # outlives retention. The preset reason and the part hidden quote nothing.
        details = None
        if action == AuditAction.ENTRY_HIDE:
            details = {"hidden_part": fields["hidden_part"], "hide_reason": fields["hide_reason"]}
        audit_record(
            actor=actor, action=action, campaign=petition.campaign, target=petition, details=details
        )


def entry_approve(*, signature: Signature, actor: User) -> None:
    _decide(
        signature=signature,
        actor=actor,
        source=[EntryReview.WAITING],
        action=AuditAction.ENTRY_APPROVE,
        review=EntryReview.APPROVED,
    )


def entry_hide(
    *,
    signature: Signature,
    actor: User,
    reason: str,
    part: str = HiddenPart.BOTH,
    other_reason: str = "",
) -> None:
    """Hide the name, the comment or both, for a preset `reason`; "other" needs
    `other_reason` in words. Hiding one part shows the other (it counts as approved)."""
    if reason not in HideReason.values:
        raise ReviewError(_("Choose why it is hidden."))
    if part not in HiddenPart.values:
        raise ReviewError(_("Choose what to hide: the name, the comment or both."))
    other_reason = (other_reason or "").strip()
    if reason == HideReason.OTHER and not other_reason:
        raise ReviewError(_("Say why, for the rest of the team."))
    if len(other_reason) > HIDE_REASON_MAX:
        raise ReviewError(_("Keep the reason under %(max)d characters.") % {"max": HIDE_REASON_MAX})
    # A NUL cannot be stored in PostgreSQL text (it was a 500); other invisible controls
    # could hide part of the reason from the rest of the team. Line breaks are fine.
    if hidden_controls(other_reason, newlines=True):
        raise ReviewError(_("The reason contains invisible control characters. Remove them."))
    if reason != HideReason.OTHER:
        other_reason = ""
    stored = Signature.objects.filter(pk=signature.pk).values("display_name", "comment").first()
    if stored is None:
        raise ReviewError(_("This name or comment was already dealt with."))
    if not (stored["display_name"] and stored["comment"]):
        # Only one part to decide on: hiding it hides the entry.
        part = HiddenPart.BOTH
    _decide(
        signature=signature,
        actor=actor,
        source=[EntryReview.WAITING, EntryReview.APPROVED],
        action=AuditAction.ENTRY_HIDE,
        review=EntryReview.HIDDEN,
        hidden_part=part,
        hide_reason=reason,
        hidden_reason=other_reason,
    )


def entry_show(*, signature: Signature, actor: User) -> None:
    """Undo a hide: the whole entry shows again (as approved), its reason is dropped."""
    _decide(
        signature=signature,
        actor=actor,
        source=[EntryReview.HIDDEN],
        action=AuditAction.ENTRY_SHOW,
        review=EntryReview.APPROVED,
        hidden_part="",
        hide_reason="",
        hidden_reason="",
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


def entries_kept(petition: Petition) -> int:
    """How many names and comments the petition still holds (what erasure will remove)."""
    return (
        Signature.objects.filter(petition=petition)
        .exclude(review=EntryReview.ERASED)
        .exclude(display_name="", comment="")
        .count()
    )


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
            .exclude(display_name="", comment="", hidden_reason="", hide_reason="")
            .update(
                display_name="",
                comment="",
                hidden_reason="",
                hide_reason="",
                hidden_part="",
                review=EntryReview.ERASED,
            )
        )
        if erased:
            pages_changed(slugs=[petition.slug])
            audit_record(
                actor=None,
                action=AuditAction.RETENTION_PURGE,
                campaign=petition.campaign,
                target=petition,
                details={"entries": erased},
            )
    return erased
