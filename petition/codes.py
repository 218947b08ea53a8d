"""Single-use code batches: the rules, in one place, for every door.

The moderators' page, `manage.py issue_codes`, the flyer cards and the demo all make batches
through `code_batch_create`, so a batch is checked the same way whoever asks: at least
CODE_BATCH_MIN_SIZE codes (a batch of one lets its maker watch one person's code), at most
CODE_BATCH_MAX_SIZE (also a database constraint), a level the petition accepts, a petition
open for signing, an expiry in the future. Redemption (credentials.py) refuses codes of a
batch that is revoked, expired or still waiting for a second moderator's approval.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _

from organizing.audit import audit_record
from organizing.models import AuditAction, Membership, User, confirmed_member, unconfirmed_message

from .keys import server_secret
from .models import (
    CODE_BATCH_MAX_SIZE,
    CODE_BATCH_MIN_SIZE,
    CODE_LEVELS,
    CodeBatch,
    CodeUsageDay,
    Petition,
    SigningCode,
)

# Crockford's base32 without I, L, O, U: nothing to misread on a printed tab.
CODE_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
CODE_LENGTH = 10  # 50 bits
# Below this many used codes a batch's usage reads "fewer than 5", and above it only in steps
# of 5: nobody can hand out one card and watch it being used.
USAGE_STEP = 5


class CodeBatchError(Exception):
    """The batch cannot be approved or changed that way."""


def normalize_code(code: str) -> str:
    code = re.sub(r"[^0-9A-Za-z]", "", code or "").upper()
    return code.translate(str.maketrans("OIL", "011"))


def format_code(code: str) -> str:
    return f"{code[:5]}-{code[5:]}"


def code_hash(code: str) -> bytes:
    return hmac.new(server_secret(b"code"), normalize_code(code).encode(), hashlib.sha256).digest()


def code_batch_expiry(last_day: date) -> datetime:
    """The stored `expires_at` for codes that work through `last_day`: the first instant of
    the next day in the site's time zone (settings.TIME_ZONE decides, for staff and signers
    alike). `CodeBatch.last_day` reads it back; the two must stay inverse (review O19)."""
    return timezone.make_aware(datetime.combine(last_day + timedelta(days=1), time.min))


def code_batch_check(
    *, petition: Petition, level: str, size: int, expires_at: datetime | None
) -> None:
    """Raise a ValidationError keyed by field when a batch may not be made."""
    errors: dict[str, str] = {}
    if petition.status != Petition.Status.PUBLISHED:
        errors["__all__"] = _("Codes can be made only while the petition is open.")
    if level not in CODE_LEVELS or level not in petition.levels:
        errors["level"] = _("This petition does not take this kind of code.")
    if not isinstance(size, int) or not CODE_BATCH_MIN_SIZE <= size <= CODE_BATCH_MAX_SIZE:
        errors["size"] = _("Make between %(min)d and %(max)d codes at a time.") % {
            "min": CODE_BATCH_MIN_SIZE,
            "max": CODE_BATCH_MAX_SIZE,
        }
    if expires_at is not None and expires_at <= timezone.now():
        errors["expires_at"] = _("Choose a date in the future.")
    if errors:
        raise ValidationError(errors)


def code_batch_create(
    *,
    petition: Petition,
    level: str,
    size: int,
    actor: User | None = None,
    label: str = "",
    expires_at: datetime | None = None,
    codes: Sequence[str] | None = None,
) -> tuple[CodeBatch, list[str]]:
    """Make `size` fresh codes. They are returned once, for printing, and never again.

    `codes` (CODE_LENGTH characters of CODE_ALPHABET each) replaces the random draw for a
    caller that derives them from a secret of its own: a chunked print run, whose workers
    each derive the codes of their pages from the run's encrypted seed.

    `actor=None` is the command line. When the campaign wants two people on every batch,
    the codes work only after someone else approves it (`code_batch_approve`).
    """
    with transaction.atomic():
        # Row lock: a batch cannot slip in while another request closes the petition.
        current = (
            Petition.objects.select_for_update(of=("self",))
            .select_related("campaign")
            .get(pk=petition.pk)
        )
        code_batch_check(petition=current, level=level, size=size, expires_at=expires_at)
        now = timezone.now()
        needs_approval = current.campaign.code_batches_need_approval
        batch = CodeBatch.objects.create(
            petition=current,
            level=level,
            size=size,
            created_by=actor,
            label=label,
            expires_at=expires_at,
            approved_at=None if needs_approval else now,
        )
        if codes is None:
            codes = [
                "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
                for _ in range(size)
            ]
        elif len(codes) != size:
            raise ValueError("the codes given must be as many as the batch's size")
        SigningCode.objects.bulk_create(
            SigningCode(batch=batch, code_hash=code_hash(c)) for c in codes
        )
        audit_record(
            actor=actor,
            action=AuditAction.CODE_BATCH_CREATE,
            campaign=current.campaign,
            target=batch,
            details={
                "level": level,
                "size": size,
                "label": label or None,
                "expires_at": expires_at.isoformat() if expires_at else None,
                "needs_approval": needs_approval,
            },
        )
    return batch, [format_code(c) for c in codes]


def code_batch_approve(*, batch: CodeBatch, actor: User) -> CodeBatch:
    """A second staff member vouches for a batch; its codes work from now on."""
    if batch.created_by_id is not None and batch.created_by_id == actor.pk:
        raise CodeBatchError(_("Someone other than the batch's maker must approve it."))
    # Two people, not two accounts of one: both must be confirmed members.
    campaign_id = batch.petition.campaign_id
    if not confirmed_member(actor, campaign_id):
        raise CodeBatchError(unconfirmed_message())
    if Membership.objects.filter(
        user_id=batch.created_by_id, campaign_id=campaign_id, confirmed_at__isnull=True
    ).exists():
        raise CodeBatchError(
            _(
                "This batch's maker is not confirmed on the team yet: a second organizer must "
                "confirm them before anyone approves their batches."
            )
        )
    with transaction.atomic():
        approved = (
            CodeBatch.objects.filter(pk=batch.pk, approved_at__isnull=True, revoked_at__isnull=True)
            .exclude(created_by=actor)
            .update(approved_at=timezone.now(), approved_by=actor)
        )
        if not approved:
            raise CodeBatchError(_("This batch is not waiting for approval."))
        audit_record(
            actor=actor,
            action=AuditAction.CODE_BATCH_APPROVE,
            campaign=batch.petition.campaign,
            target=batch,
        )
    batch.refresh_from_db()
    return batch


def code_batch_revoke(*, batch: CodeBatch, actor: User | None = None) -> bool:
    """Revoke the unused codes of a batch (a leaked stack of cards). True if this call
    revoked it. No count of unused codes: that would be a live usage figure."""
    with transaction.atomic():
        revoked = CodeBatch.objects.filter(pk=batch.pk, revoked_at__isnull=True).update(
            revoked_at=timezone.now()
        )
        if revoked:
            audit_record(
                actor=actor,
                action=AuditAction.CODE_BATCH_REVOKE,
                campaign=batch.petition.campaign,
                target=batch,
            )
        return bool(revoked)


# --- usage figures: never live, never to a batch's maker ----------------------------------
#
# Staff never see a live count of used codes: a batch's maker could spend four of their own
# cards, hand the fifth to one person and watch the figure move. Pages show what was
# recorded at the last turn of the day (UTC), rounded down to steps of USAGE_STEP: per batch
# for organizers who did not make it, campaign-wide for moderators, never to the maker.

# How long after midnight (UTC) a live count still reads as "the end of the day that just
# ended". Later, a missed turn (beat down) carries the last figure forward instead.
USAGE_RECORD_WINDOW = timedelta(hours=1)


def _day_start(now: datetime) -> datetime:
    return now.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)


def _fill_usage_day(*, day_end: datetime, live: bool) -> int:
    """One row per batch of an open petition, made before `day_end`, for the day that
    ends there: the live count (at the turn), or the batch's last figure carried forward."""
    day = (day_end - timedelta(days=1)).date()
    batches = CodeBatch.objects.filter(
        petition__status=Petition.Status.PUBLISHED, created_at__lt=day_end
    ).exclude(usage_days__day=day)
    if live:
        batches = batches.annotate(figure=Count("codes", filter=Q(codes__used=True)))
    else:
        previous = CodeUsageDay.objects.filter(batch=OuterRef("pk"), day__lt=day).order_by("-day")
        batches = batches.annotate(figure=Coalesce(Subquery(previous.values("used")[:1]), 0))
    rows = [CodeUsageDay(batch_id=b.pk, day=day, used=b.figure) for b in batches]
    # A second run (or a racing read) finds the rows there: the first figure stays.
    CodeUsageDay.objects.bulk_create(rows, ignore_conflicts=True)
    return len(rows)


def code_usage_record(*, now: datetime | None = None) -> int:
    """Beat, at the day's turn: record each batch's used codes as of the end of the day
    that just ended. Idempotent. Run late (beat was down), it records no live count but
    carries the last figures forward, as a read does. Returns the rows written."""
    now = now or timezone.now()
    day_end = _day_start(now)
    return _fill_usage_day(day_end=day_end, live=now - day_end <= USAGE_RECORD_WINDOW)


def _usage_as_of(now: datetime | None = None) -> date:
    """The day whose end the figures describe: yesterday (UTC). A read after the turn's
    window fills a day the beat missed, from the last figures, never from a live count."""
    now = now or timezone.now()
    day_end = _day_start(now)
    if now - day_end > USAGE_RECORD_WINDOW:
        _fill_usage_day(day_end=day_end, live=False)
    return (day_end - timedelta(days=1)).date()


def usage_floor(used: int) -> int:
    """How many used codes a page may show: 0 below USAGE_STEP, else rounded down to it."""
    return used - used % USAGE_STEP if used >= USAGE_STEP else 0


def _recorded_usage(batches: QuerySet[CodeBatch], as_of: date) -> QuerySet[CodeBatch]:
    latest = CodeUsageDay.objects.filter(batch=OuterRef("pk"), day__lte=as_of).order_by("-day")
    return batches.annotate(_recorded=Coalesce(Subquery(latest.values("used")[:1]), 0))


def code_batches_for_petition(
    petition: Petition,
    viewer: User | None = None,
    *,
    per_batch: bool = True,
    now: datetime | None = None,
) -> list[CodeBatch]:
    """The petition's batches, each with `usage_at_least`: its used codes as recorded at
    the end of the previous day (UTC), rounded down to steps of USAGE_STEP; None where this
    viewer may not see it: their own batch, or every batch when `per_batch` is False
    (moderators see the campaign-wide figure only). `usage_as_of` is that day.

    No live count, and no exact one, leaves this function: a page cannot show it by mistake.
    """
    as_of = _usage_as_of(now)
    batches = list(
        _recorded_usage(CodeBatch.objects.filter(petition=petition), as_of)
        .select_related("created_by", "approved_by")
        .order_by("-created_at")
    )
    for batch in batches:
        own = viewer is not None and batch.created_by_id == viewer.pk
        batch.usage_at_least = usage_floor(batch._recorded) if per_batch and not own else None
        batch.usage_as_of = as_of
        del batch._recorded
    return batches


def code_usage_for_campaign(campaign_id: int) -> tuple[int, date]:
    """All codes of the campaign's batches used by the end of the previous day (UTC),
    summed from the recorded figures and rounded down to steps of USAGE_STEP, with that
    day: the one usage figure moderators see."""
    as_of = _usage_as_of()
    recorded = _recorded_usage(CodeBatch.objects.filter(petition__campaign_id=campaign_id), as_of)
    total = sum(recorded.values_list("_recorded", flat=True))
    return usage_floor(total), as_of


def code_batches_waiting_approval(petitions: QuerySet[Petition]) -> QuerySet[CodeBatch]:
    return CodeBatch.objects.filter(
        Q(expires_at__isnull=True) | Q(expires_at__gt=timezone.now()),
        petition__in=petitions,
        approved_at__isnull=True,
        revoked_at__isnull=True,
    ).select_related("petition", "created_by")
