"""Writes for staff, campaigns and invitations. Views, commands and tasks call these."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.core import signing
from django.db import IntegrityError, transaction
from django.utils import timezone

from .audit import audit_record
from .models import AuditAction, Campaign, Invitation, Membership, Role, User

INVITATION_SALT = "countersign.invitation"


class InvitationError(Exception):
    """The invitation cannot be used (unknown, expired, already accepted)."""


@transaction.atomic
def campaign_create(*, creator: User, **fields) -> Campaign:
    """Create a campaign; its creator becomes its first organizer."""
    campaign = Campaign(**fields)
    campaign.full_clean()
    campaign.save()
    Membership.objects.create(user=creator, campaign=campaign, role=Role.ORGANIZER)
    audit_record(
        actor=creator, action=AuditAction.CAMPAIGN_CREATE, campaign=campaign, target=campaign
    )
    return campaign


@transaction.atomic
def campaign_update(*, campaign: Campaign, actor: User | None = None, **fields) -> Campaign:
    # Compared with the stored row: a ModelForm has already copied its values onto `campaign`.
    stored = Campaign.objects.filter(pk=campaign.pk).values(*fields).get()
    changed = sorted(name for name, value in fields.items() if stored[name] != value)
    for name, value in fields.items():
        setattr(campaign, name, value)
    campaign.full_clean()
    campaign.save()
    if changed:
        audit_record(
            actor=actor,
            action=AuditAction.CAMPAIGN_UPDATE,
            campaign=campaign,
            target=campaign,
            details={"fields": changed},
        )
    return campaign


def invitation_token(invitation: Invitation) -> str:
    return signing.dumps(invitation.pk, salt=INVITATION_SALT, compress=True)


def invitation_from_token(token: str) -> Invitation:
    max_age = timedelta(days=settings.COUNTERSIGN_INVITATION_DAYS)
    try:
        pk = signing.loads(token, salt=INVITATION_SALT, max_age=max_age)
    except signing.BadSignature as exc:
        raise InvitationError("invalid") from exc
    invitation = Invitation.objects.filter(pk=pk).select_related("campaign").first()
    if invitation is None or invitation.accepted_at or invitation.expires_at < timezone.now():
        raise InvitationError("used or expired")
    return invitation


def invitation_create(
    *, email: str, role: str, campaign: Campaign | None, invited_by: User | None
) -> Invitation:
    """Invite an address; the mail goes out from a task once the row is committed.

    Inviting an address that already has a pending invitation renews that invitation, so an
    organizer can press "invite" again when a mail got lost.
    """
    from .tasks import invitation_send

    email = email.strip().lower()
    expires_at = timezone.now() + timedelta(days=settings.COUNTERSIGN_INVITATION_DAYS)
    with transaction.atomic():
        pending = Invitation.objects.select_for_update().filter(
            email__iexact=email, campaign=campaign, accepted_at__isnull=True
        )
        invitation = pending.first()
        if invitation is None:
            try:
                with transaction.atomic():
                    invitation = Invitation.objects.create(
                        email=email,
                        role=role,
                        campaign=campaign,
                        invited_by=invited_by,
                        expires_at=expires_at,
                    )
            except IntegrityError:
                # Another request created it between our read and insert.
                invitation = Invitation.objects.get(
                    email__iexact=email, campaign=campaign, accepted_at__isnull=True
                )
        invitation.role = role
        invitation.invited_by = invited_by
        invitation.expires_at = expires_at
        invitation.save(update_fields=["role", "invited_by", "expires_at"])
        audit_record(
            actor=invited_by,
            action=AuditAction.INVITATION_CREATE,
            campaign=campaign,
            target=invitation,
            details={"role": role},
        )
        invitation_send.delay_on_commit(invitation.pk)
    return invitation


def invitation_accept(*, invitation: Invitation, user: User) -> Membership | None:
    """Mark the invitation used by `user` and grant its role, exactly once."""
    with transaction.atomic():
        claimed = Invitation.objects.filter(pk=invitation.pk, accepted_at__isnull=True).update(
            accepted_at=timezone.now(), accepted_by=user
        )
        if not claimed:
            raise InvitationError("already accepted")
        if invitation.campaign_id is None:
            return None
        membership, _ = Membership.objects.update_or_create(
            user=user, campaign_id=invitation.campaign_id, defaults={"role": invitation.role}
        )
        audit_record(
            actor=user,
            action=AuditAction.MEMBER_JOIN,
            campaign=invitation.campaign,
            target=membership,
            details={"role": invitation.role},
        )
        return membership


def invitations_accept_for_email(*, user: User) -> int:
    """Accept every pending invitation addressed to the user's (verified) address.

    Runs when a staff member signs up through any of their invitation links, so an address
    invited to two campaigns ends up in both.
    """
    accepted = 0
    now = timezone.now()
    pending = Invitation.objects.filter(
        email__iexact=user.email, accepted_at__isnull=True, expires_at__gt=now
    )
    for invitation in pending:
        try:
            invitation_accept(invitation=invitation, user=user)
            accepted += 1
        except InvitationError:
            continue
    return accepted
