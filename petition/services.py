"""Writes for petitions. Status changes are conditional updates: two organizers pressing
"publish" at once change the status once."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from organizing.models import Campaign

from .keys import new_key_fields
from .models import EmailCode, EmailLedger, IssuanceCount, Petition, PetitionKey

Status = Petition.Status

# Once people can sign, the text they sign must not change under them.
FIELDS_LOCKED_AFTER_PUBLISH = frozenset(
    {
        "title",
        "demands",
        "addressed_to",
        "accepts_work_email",
        "accepts_in_person",
        "accepts_flyer",
        "slug",
    }
)


class TransitionError(Exception):
    """The petition is not in a state that allows this change."""


@transaction.atomic
def petition_create(*, campaign: Campaign, **fields) -> Petition:
    petition = Petition(campaign=campaign, status=Status.DRAFT, **fields)
    petition.full_clean()
    petition.save()
    return petition


@transaction.atomic
def petition_update(*, petition: Petition, **fields) -> Petition:
    if petition.status != Status.DRAFT:
        changed = {
            name
            for name in FIELDS_LOCKED_AFTER_PUBLISH & fields.keys()
            if getattr(petition, name) != fields[name]
        }
        if changed:
            raise TransitionError(f"cannot change {', '.join(sorted(changed))} after publishing")
    for name, value in fields.items():
        setattr(petition, name, value)
    petition.full_clean()
    petition.save()
    return petition


def _transition(petition: Petition, *, source: str, target: str, **extra) -> Petition:
    with transaction.atomic():
        changed = Petition.objects.filter(pk=petition.pk, status=source).update(
            status=target, updated_at=timezone.now(), **extra
        )
        if not changed:
            raise TransitionError(f"petition is not {source}")
    petition.refresh_from_db()
    return petition


def petition_publish(*, petition: Petition) -> Petition:
    """Open the petition for signing with one fresh key per accepted level.

    Keys are generated before the transaction (seconds of CPU at 3072 bits) so no lock is
    held meanwhile; if another request published first, the transition fails and the
    unused keys are simply dropped.
    """
    if petition.status != Status.DRAFT:
        raise TransitionError("petition is not draft")
    key_fields = [new_key_fields(level) for level in petition.levels]
    with transaction.atomic():
        _transition(
            petition, source=Status.DRAFT, target=Status.PUBLISHED, published_at=timezone.now()
        )
        PetitionKey.objects.bulk_create(
            PetitionKey(petition=petition, **fields) for fields in key_fields
        )
        IssuanceCount.objects.bulk_create(
            IssuanceCount(petition=petition, level=fields["level"]) for fields in key_fields
        )
    return petition


def petition_close(*, petition: Petition) -> Petition:
    """Stop signing and erase the private halves of the petition's keys (same transaction)."""
    now = timezone.now()
    with transaction.atomic():
        _transition(petition, source=Status.PUBLISHED, target=Status.CLOSED, closed_at=now)
        petition.keys.update(private_key_encrypted=None, destroyed_at=now)
        # The keyed hashes of work addresses exist only to stop a second credential; with
        # signing over they have no purpose left (P1).
        EmailLedger.objects.filter(petition=petition).delete()
        EmailCode.objects.filter(petition=petition).delete()
    return petition


def petition_mark_delivered(*, petition: Petition) -> Petition:
    return _transition(petition, source=Status.CLOSED, target=Status.DELIVERED)
