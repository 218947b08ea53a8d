"""Writes for petitions. Status changes are conditional updates: two organizers pressing
"publish" at once change the status once."""

from __future__ import annotations

from datetime import date

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import formats, timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from organizing.audit import audit_record, update_with_audit
from organizing.models import AuditAction, Campaign, User

from .keys import new_key_fields
from .models import (
    DELIVERY_NOTE_MAX,
    EmailCode,
    EmailLedger,
    IssuanceCount,
    Petition,
    PetitionKey,
    PetitionTranslation,
)
from .pagecache import pages_changed
from .publication import petition_publish_pending
from .publication_policy import looser_fields
from .text import hidden_controls

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
        "language",
    }
)

# A translation is text in the same sense: what people read before they sign. Its title,
# demands and addressee are fixed once the petition is open, like the original's; a new
# language may still be added (nobody has read it yet), and its summary edited.
TRANSLATION_FIELDS = ("title", "summary", "demands", "addressed_to")
TRANSLATION_FIELDS_LOCKED_AFTER_PUBLISH = frozenset({"title", "demands", "addressed_to"})


class TransitionError(Exception):
    """The petition is not in a state that allows this change."""


@transaction.atomic
def petition_create(*, campaign: Campaign, actor: User | None = None, **fields) -> Petition:
    petition = Petition(campaign=campaign, status=Status.DRAFT, **fields)
    petition.full_clean()
    petition.save()
    audit_record(
        actor=actor, action=AuditAction.PETITION_CREATE, campaign=campaign, target=petition
    )
    return petition


@transaction.atomic
def petition_update(*, petition: Petition, actor: User | None = None, **fields) -> Petition:
    # Compared with the stored row: a ModelForm has already copied its values onto `petition`.
    stored = Petition.objects.filter(pk=petition.pk).values(*fields).get()
    edited = sorted(name for name, value in fields.items() if stored[name] != value)
    if "language" in edited:
        Petition.objects.select_for_update().filter(pk=petition.pk).first()
        if petition.translations.filter(language=fields["language"]).exists():
            raise ValidationError(
                {
                    "language": gettext(
                        "There is a translation in this language: delete it first, or choose "
                        "another language."
                    )
                }
            )
    if petition.status != Status.DRAFT:
        changed = FIELDS_LOCKED_AFTER_PUBLISH & set(edited)
        if changed:
            raise TransitionError(f"cannot change {', '.join(sorted(changed))} after publishing")
        looser = looser_fields(stored=stored, edited=fields)
        if looser:
            raise ValidationError(looser)
    update_with_audit(
        petition,
        fields,
        changed=edited,
        actor=actor,
        action=AuditAction.PETITION_UPDATE,
        campaign=petition.campaign,
        target=petition,
    )
    return petition


def _transition(
    petition: Petition, *, source: str, target: str, actor: User | None, action: str, **extra
) -> Petition:
    with transaction.atomic():
        changed = Petition.objects.filter(pk=petition.pk, status=source).update(
            status=target, updated_at=timezone.now(), **extra
        )
        if not changed:
            raise TransitionError(f"petition is not {source}")
        audit_record(actor=actor, action=action, campaign=petition.campaign, target=petition)
        pages_changed(slugs=[petition.slug])
    petition.refresh_from_db()
    return petition


def _audit_keys(petition: Petition, keys, actor: User | None, action: str) -> None:
    for key in keys:
        audit_record(
            actor=actor,
            action=action,
            campaign=petition.campaign,
            target=key,
            details={"level": key.level, "fingerprint": key.fingerprint},
        )


def petition_publish(*, petition: Petition, actor: User | None = None) -> Petition:
    """Open the petition for signing with one fresh key per accepted level.

    Keys are generated before the transaction (seconds of CPU at 3072 bits) so no lock is
    held meanwhile; if another request published first, the transition fails and the
    unused keys are simply dropped.
    """
    if petition.status != Status.DRAFT:
        raise TransitionError("petition is not draft")
    # A draft saved while the floor did not apply (before it existed, or with DEBUG on)
    # must not open below it: a batch of one would publish a signer alone.
    petition.clean_publication_policy()
    key_fields = [new_key_fields(level) for level in petition.levels]
    with transaction.atomic():
        _transition(
            petition,
            source=Status.DRAFT,
            target=Status.PUBLISHED,
            actor=actor,
            action=AuditAction.PETITION_PUBLISH,
            published_at=timezone.now(),
        )
        keys = PetitionKey.objects.bulk_create(
            PetitionKey(petition=petition, **fields) for fields in key_fields
        )
        _audit_keys(petition, keys, actor, AuditAction.KEY_CREATE)
        IssuanceCount.objects.bulk_create(
            IssuanceCount(petition=petition, level=fields["level"]) for fields in key_fields
        )
    return petition


def petition_close(*, petition: Petition, actor: User | None = None) -> Petition:
    """Stop signing and erase the private halves of the petition's keys (same transaction),
    then publish everything still waiting (one transaction per batch; if that fails, the
    beat's next sweep publishes it, since a closed petition's batches are always due)."""
    now = timezone.now()
    with transaction.atomic():
        _transition(
            petition,
            source=Status.PUBLISHED,
            target=Status.CLOSED,
            actor=actor,
            action=AuditAction.PETITION_CLOSE,
            closed_at=now,
        )
        keys = list(petition.keys.filter(destroyed_at__isnull=True))
        petition.keys.update(private_key_encrypted=None, destroyed_at=now)
        _audit_keys(petition, keys, actor, AuditAction.KEY_DESTROY)
        # The keyed hashes of work addresses exist only to stop a second credential; with
        # signing over they have no purpose left (P1).
        EmailLedger.objects.filter(petition=petition).delete()
        EmailCode.objects.filter(petition=petition).delete()
    petition_publish_pending(petition_id=petition.id, now=now)
    return petition


def delivery_date_errors(petition: Petition, delivered_on: date | None) -> list[str]:
    """Why `delivered_on` cannot be the day of delivery: none given, in the future, or
    before the petition opened (days in the site's time zone)."""
    if delivered_on is None:
        return [gettext("Give the day the petition was handed over.")]
    if delivered_on > timezone.localdate():
        return [gettext("The day of delivery cannot be in the future.")]
    if petition.published_at and delivered_on < timezone.localdate(petition.published_at):
        opened = formats.date_format(timezone.localdate(petition.published_at), "DATE_FORMAT")
        return [
            gettext("The petition opened on %(day)s: it cannot be delivered before that.")
            % {"day": opened}
        ]
    return []


def petition_mark_delivered(
    *,
    petition: Petition,
    actor: User | None = None,
    delivered_on: date | None = None,
    note: str = "",
) -> Petition:
    """Record the hand-over: its day (today unless given; never in the future nor before
    opening) and an optional note, both in the audit row. The retention period of names
    and comments starts now (`delivered_at`), whatever day is given."""
    if delivered_on is None:
        delivered_on = timezone.localdate()
    note = (note or "").strip()
    errors: dict[str, list[str]] = {}
    if day_errors := delivery_date_errors(petition, delivered_on):
        errors["delivered_on"] = day_errors
    if len(note) > DELIVERY_NOTE_MAX:
        errors["delivery_note"] = [
            gettext("Keep the note under %(max)d characters.") % {"max": DELIVERY_NOTE_MAX}
        ]
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        changed = Petition.objects.filter(pk=petition.pk, status=Status.CLOSED).update(
            status=Status.DELIVERED,
            updated_at=timezone.now(),
            delivered_at=timezone.now(),
            delivered_on=delivered_on,
            delivery_note=note,
        )
        if not changed:
            raise TransitionError("petition is not closed")
        pages_changed(slugs=[petition.slug])
        audit_record(
            actor=actor,
            action=AuditAction.PETITION_DELIVER,
            campaign=petition.campaign,
            target=petition,
            details={"delivered_on": delivered_on.isoformat(), "delivery_note": note or None},
        )
    petition.refresh_from_db()
    return petition


# --- translations ------------------------------------------------------------------------

CONTROL_MESSAGE = _("Remove the invisible control characters from this text.")


def _translation_errors(petition: Petition, language: str, fields: dict) -> dict:
    """What is wrong with a translation's text, field by field (the database's constraints
    refuse the rest: an unknown language, a second row of one language, an empty title)."""
    errors: dict[str, list] = {}
    if language == petition.language:
        errors["language"] = [
            gettext("The petition itself is written in this language: choose another one.")
        ]
    for name in TRANSLATION_FIELDS:
        # Bidi overrides and the like would make the text read differently from what the
        # team checked (petition/text.py); newlines only where Markdown needs them.
        if hidden_controls(fields.get(name) or "", newlines=name == "demands"):
            errors[name] = [CONTROL_MESSAGE]
    return errors


@transaction.atomic
def petition_translation_create(
    *, petition: Petition, language: str, actor: User | None = None, **fields
) -> PetitionTranslation:
    """Add the petition's text in another shipped language, as one unit."""
    # The petition's row is locked so that its language cannot change to this one meanwhile
    # (petition_update checks the other way round under the same lock).
    petition = Petition.objects.select_for_update().get(pk=petition.pk)
    translation = PetitionTranslation(petition=petition, language=language, **fields)
    errors = _translation_errors(petition, language, fields)
    if errors:
        raise ValidationError(errors)
    translation.full_clean()
    translation.save()
    audit_record(
        actor=actor,
        action=AuditAction.PETITION_TRANSLATION_ADD,
        campaign=petition.campaign,
        target=petition,
        details={"language": language},
    )
    return translation


@transaction.atomic
def petition_translation_update(
    *, translation: PetitionTranslation, actor: User | None = None, **fields
) -> PetitionTranslation:
    petition = Petition.objects.select_for_update().get(pk=translation.petition_id)
    stored = PetitionTranslation.objects.filter(pk=translation.pk).values(*fields).get()
    edited = sorted(name for name, value in fields.items() if stored[name] != value)
    if petition.status != Status.DRAFT:
        changed = TRANSLATION_FIELDS_LOCKED_AFTER_PUBLISH & set(edited)
        if changed:
            raise TransitionError(f"cannot change {', '.join(sorted(changed))} after publishing")
    errors = _translation_errors(petition, translation.language, fields)
    if errors:
        raise ValidationError(errors)
    update_with_audit(
        translation,
        fields,
        changed=edited,
        actor=actor,
        action=AuditAction.PETITION_TRANSLATION_UPDATE,
        campaign=petition.campaign,
        target=petition,
        details={"language": translation.language},
    )
    return translation


@transaction.atomic
def petition_translation_delete(
    *, translation: PetitionTranslation, actor: User | None = None
) -> None:
    """Remove a translation while the petition is a draft; once it is open, readers of that
    language may have signed under it, so it stays."""
    petition = Petition.objects.select_for_update().get(pk=translation.petition_id)
    if petition.status != Status.DRAFT:
        raise TransitionError("cannot delete a translation after publishing")
    deleted, _rows = PetitionTranslation.objects.filter(pk=translation.pk).delete()
    if deleted:
        audit_record(
            actor=actor,
            action=AuditAction.PETITION_TRANSLATION_DELETE,
            campaign=petition.campaign,
            target=petition,
            details={"language": translation.language},
        )
