"""Invalidating a compromised key: an organizer action that needs a second organizer.

If a petition's private key leaked, anyone holding it could mint signatures that verify.
Nobody can tell those from real ones, so the only honest answer is to stop counting
everything signed with that key: one organizer asks (with a reason), another confirms. From
then on the key issues and accepts nothing, its level counts zero, and the public keys and
page say it was invalidated, when and why, so anyone re-counting the public log leaves its
entries out. Nothing is deleted: the entries stay in the log, marked by their key.
"""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from organizing.audit import audit_record
from organizing.models import AuditAction, Role, User, confirmed_member, unconfirmed_message

from .models import KeyInvalidation, Petition, PetitionKey
from .pagecache import pages_changed
from .text import hidden_controls

REASON_MAX = 300


class InvalidationError(Exception):
    """The request or confirmation is not possible."""


def _is_organizer(user: User, petition: Petition) -> bool:
    return petition.campaign.memberships.filter(user=user, role=Role.ORGANIZER).exists()


def key_invalidation_request(*, key: PetitionKey, actor: User, reason: str) -> KeyInvalidation:
    reason = (reason or "").strip()
    if not reason:
        raise InvalidationError(_("Say what happened to the key."))
    if len(reason) > REASON_MAX:
        raise InvalidationError(
            _("Keep the reason under %(max)d characters.") % {"max": REASON_MAX}
        )
    # A NUL cannot be stored in PostgreSQL text (it was a 500); other invisible controls
    # could hide part of a public reason. Line breaks are fine.
    if hidden_controls(reason, newlines=True):
        raise InvalidationError(_("The reason contains invisible control characters. Remove them."))
    if key.petition.status == Petition.Status.DRAFT:
        raise InvalidationError(_("A draft has no keys in use."))
    if not _is_organizer(actor, key.petition):
        raise InvalidationError(_("Only organizers can ask for this."))
    # Else an unconfirmed second account asks and its owner confirms: one person, two votes.
    if not confirmed_member(actor, key.petition.campaign_id):
        raise InvalidationError(unconfirmed_message())
    try:
        with transaction.atomic():
            invalidation = KeyInvalidation.objects.create(
                key=key, reason=reason, requested_by=actor
            )
            audit_record(
                actor=actor,
                action=AuditAction.KEY_INVALIDATE_REQUEST,
                campaign=key.petition.campaign,
                target=key,
                details={"level": key.level, "fingerprint": key.fingerprint},
            )
    except IntegrityError as exc:
        raise InvalidationError(_("Invalidating this key was already asked for.")) from exc
    return invalidation


def key_invalidation_confirm(*, invalidation: KeyInvalidation, actor: User) -> PetitionKey:
    """The second organizer's confirmation; the key is invalidated in the same transaction."""
    if invalidation.requested_by_id == actor.pk:
        raise InvalidationError(_("Another organizer must confirm."))
    key = invalidation.key
    if not _is_organizer(actor, key.petition):
        raise InvalidationError(_("Only organizers can confirm this."))
    if not confirmed_member(actor, key.petition.campaign_id):
        raise InvalidationError(unconfirmed_message())
    now = timezone.now()
    with transaction.atomic():
        confirmed = (
            KeyInvalidation.objects.filter(pk=invalidation.pk, confirmed_at__isnull=True)
            .exclude(requested_by=actor)
            .update(confirmed_by=actor, confirmed_at=now)
        )
        if not confirmed:
            raise InvalidationError(_("This key was already invalidated."))
        PetitionKey.objects.filter(pk=key.pk, invalidated_at__isnull=True).update(
            invalidated_at=now, invalidation_reason=invalidation.reason
        )
        # The page and API stop counting the key's level at once.
        pages_changed(slugs=[key.petition.slug])
        audit_record(
            actor=actor,
            action=AuditAction.KEY_INVALIDATE,
            campaign=key.petition.campaign,
            target=key,
            details={"level": key.level, "fingerprint": key.fingerprint},
        )
    key.refresh_from_db()
    return key


def invalidations_waiting(petitions) -> list[KeyInvalidation]:
    return list(
        KeyInvalidation.objects.filter(key__petition__in=petitions, confirmed_at__isnull=True)
        .select_related("key__petition", "requested_by")
        .order_by("requested_at")
    )
