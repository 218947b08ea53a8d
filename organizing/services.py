"""Writes for staff, campaigns and invitations. Views, commands and tasks call these."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from config.background import enqueue_on_commit_or_raise
from petition.models import Petition

from .audit import audit_record, update_with_audit
from .invitations import InvitationError, invitation_from_token, invitation_token
from .models import (
    AuditAction,
    Campaign,
    Invitation,
    Membership,
    Role,
    User,
    confirmed_member,
    unconfirmed_message,
)
from .tasks import invitation_send

__all__ = [
    "InvitationError",
    "TeamError",
    "campaign_create",
    "campaign_update",
    "invitation_accept",
    "invitation_create",
    "invitation_from_token",
    "invitation_revoke",
    "invitation_token",
    "invitations_accept_for_email",
    "membership_change_role",
    "membership_confirm",
    "membership_remove",
]

# What decides who may sign with a work address; fixed while such a petition is open.
WORK_EMAIL_FIELDS = ("email_domains", "email_subaddress_separator")


class TeamError(Exception):
    """A team change that would break a rule (say, leave a campaign without an organizer)."""


@transaction.atomic
def campaign_create(*, creator: User, **fields) -> Campaign:
    """Create a campaign; its creator becomes its first organizer. Only site organizers
    may (`manage.py invite --site-organizer`): anyone else on staff could otherwise set up
    campaigns and invite people in the installation's name."""
    if not creator.is_site_organizer:
        raise PermissionDenied("only site organizers create campaigns")
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
    # Compared with the stored row, locked: a ModelForm has already copied its values onto
    # `campaign`, and a petition may open meanwhile.
    stored = Campaign.objects.select_for_update().filter(pk=campaign.pk).values(*fields).get()
    changed = sorted(name for name, value in fields.items() if stored[name] != value)
    locked = [name for name in changed if name in WORK_EMAIL_FIELDS]
    if locked and campaign_work_email_locked(campaign):
        # Otherwise an organizer could add gmail.com during the petition and mint
        # "verified" work-email signatures.
        raise ValidationError({name: work_email_locked_message() for name in locked})
    update_with_audit(
        campaign,
        fields,
        changed=changed,
        actor=actor,
        action=AuditAction.CAMPAIGN_UPDATE,
        campaign=campaign,
        target=campaign,
    )
    return campaign


def campaign_work_email_locked(campaign: Campaign) -> bool:
    """True while a petition of the campaign that accepts work email is open."""
    return Petition.objects.filter(
        campaign=campaign, status=Petition.Status.PUBLISHED, accepts_work_email=True
    ).exists()


def work_email_locked_message() -> str:
    return _(
        "Work email domains cannot change while a petition that accepts work email is "
        "open: signers already proved they belong with the current ones. Close that "
        "petition first."
    )


def invitation_create(
    *,
    email: str,
    role: str,
    campaign: Campaign | None,
    invited_by: User | None,
    site_organizer: bool = False,
) -> Invitation:
    """Invite an address; the mail goes out from a task once the row is committed.

    Inviting an address that already has a pending invitation renews that invitation, so an
    organizer can press "invite" again when a mail got lost.
    """
    email = email.strip().lower()
    expires_at = timezone.now() + timedelta(days=settings.COUNTERSIGN_INVITATION_DAYS)
    if campaign is not None and not confirmed_member(invited_by, campaign.pk):
        # Else an unconfirmed second account could add a third one, which the first
        # account (not its adder) could then confirm: one person meeting a two-person rule.
        raise TeamError(unconfirmed_message())
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
        invitation.site_organizer = invitation.site_organizer or site_organizer
        invitation.save(update_fields=["role", "invited_by", "expires_at", "site_organizer"])
        audit_record(
            actor=invited_by,
            action=AuditAction.INVITATION_CREATE,
            campaign=campaign,
            target=invitation,
            details={"role": role},
        )
        # Raise if the broker is down: no sweep sends invitations, and the organizer must
        # learn now that none went out (inviting the address again resends it).
        enqueue_on_commit_or_raise(invitation_send, invitation.pk)
    return invitation


def invitation_accept(*, invitation: Invitation, user: User) -> Membership | None:
    """Mark the invitation used by `user` and grant its role, exactly once, and only to the
    account with the address the invitation was sent to."""
    if user.email.strip().lower() != invitation.email.strip().lower():
        raise InvitationError("addressed to another account")
    with transaction.atomic():
        claimed = Invitation.objects.filter(pk=invitation.pk, accepted_at__isnull=True).update(
            accepted_at=timezone.now(), accepted_by=user
        )
        if not claimed:
            raise InvitationError("already accepted")
        if invitation.site_organizer:
            User.objects.filter(pk=user.pk).update(is_site_organizer=True)
        if invitation.campaign_id is None:
            return None
        _lock_team(invitation.campaign_id)
        # Someone an organizer added counts for two-person rules only once a second
        # organizer confirms them, or one person with two accounts could meet those rules
        # alone; an operator's invitation needs nobody else.
        needs_confirmation = invitation.invited_by_id is not None
        membership, created = Membership.objects.get_or_create(
            user=user,
            campaign_id=invitation.campaign_id,
            defaults={
                "role": invitation.role,
                "added_by_id": invitation.invited_by_id,
                "confirmed_at": None if needs_confirmation else timezone.now(),
            },
        )
        # An invitation can raise a member to organizer but never demotes one: that would
        # be a way around the last-organizer rule.
        if not created and invitation.role == Role.ORGANIZER != membership.role:
            membership.role = Role.ORGANIZER
            _needs_confirmation(membership, added_by=invitation.invited_by)
            membership.save(update_fields=["role", "added_by", "confirmed_at", "confirmed_by"])
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


# --- team -----------------------------------------------------------------------------------


def _lock_team(campaign_id: int) -> None:
    """Serialise every change to one campaign's team on its campaign row.

    Two organizers removing each other at the same moment would each see the other still
    there; with the lock the second one waits, then counts again (READ COMMITTED gives each
    statement a fresh snapshot) and is refused.
    """
    Campaign.objects.select_for_update().filter(pk=campaign_id).values_list("pk").get()


def _organizers_left_without(membership: Membership) -> int:
    return (
        Membership.objects.filter(campaign_id=membership.campaign_id, role=Role.ORGANIZER)
        .exclude(pk=membership.pk)
        .count()
    )


def _needs_confirmation(membership: Membership, *, added_by: User | None) -> None:
    """Raised to organizer by `added_by`: a second organizer confirms them again, so a
    promotion cannot give one person a second vote in two-person rules."""
    membership.added_by = added_by
    if added_by is not None:
        membership.confirmed_at = None
        membership.confirmed_by = None


def membership_change_role(*, membership: Membership, role: str, actor: User | None) -> Membership:
    if role not in Role.values:
        raise TeamError(_("Unknown role."))
    with transaction.atomic():
        _lock_team(membership.campaign_id)
        current = Membership.objects.select_related("user", "campaign").get(pk=membership.pk)
        if current.role == role:
            return current
        if current.role == Role.ORGANIZER and not _organizers_left_without(current):
            raise TeamError(
                _("A campaign needs at least one organizer. Make someone else organizer first.")
            )
        if role == Role.ORGANIZER and not confirmed_member(actor, current.campaign_id):
            raise TeamError(unconfirmed_message())
        previous = current.role
        current.role = role
        fields = ["role"]
        if role == Role.ORGANIZER:
            _needs_confirmation(current, added_by=actor)
            fields += ["added_by", "confirmed_at", "confirmed_by"]
        current.save(update_fields=fields)
        audit_record(
            actor=actor,
            action=AuditAction.MEMBER_ROLE_CHANGE,
            campaign=current.campaign,
            target=current,
            details={"from": previous, "to": role},
        )
    return current


def membership_confirm(*, membership: Membership, actor: User | None) -> Membership:
    """A second organizer vouches that a new member (or new organizer) is a different
    person from the one who added them; from then on they count in two-person rules.
    `actor=None` is the operator (`manage.py confirm_member`), for a campaign with a
    single organizer."""
    with transaction.atomic():
        _lock_team(membership.campaign_id)
        current = (
            Membership.objects.select_related("user", "campaign").filter(pk=membership.pk).first()
        )
        if current is None:
            raise TeamError(_("This person is no longer on the team."))
        if current.is_confirmed:
            raise TeamError(_("This member is already confirmed."))
        if actor is not None:
            if actor.pk == current.user_id:
                raise TeamError(_("Another organizer must confirm you."))
            if actor.pk == current.added_by_id:
                raise TeamError(
                    _("You added this member: an organizer other than you must confirm them.")
                )
            if not Membership.objects.filter(
                user=actor,
                campaign_id=current.campaign_id,
                role=Role.ORGANIZER,
                confirmed_at__isnull=False,
            ).exists():
                raise TeamError(_("Only a confirmed organizer can confirm a member."))
        current.confirmed_at = timezone.now()
        current.confirmed_by = actor
        current.save(update_fields=["confirmed_at", "confirmed_by"])
        audit_record(
            actor=actor,
            action=AuditAction.MEMBER_CONFIRM,
            campaign=current.campaign,
            target=current,
            details={"role": current.role},
        )
    return current


def membership_remove(*, membership: Membership, actor: User | None) -> None:
    with transaction.atomic():
        _lock_team(membership.campaign_id)
        current = (
            Membership.objects.select_related("user", "campaign").filter(pk=membership.pk).first()
        )
        if current is None:
            raise TeamError(_("This person is no longer on the team."))
        if current.role == Role.ORGANIZER and not _organizers_left_without(current):
            raise TeamError(
                _("A campaign needs at least one organizer. Make someone else organizer first.")
            )
        audit_record(
            actor=actor,
            action=AuditAction.MEMBER_REMOVE,
            campaign=current.campaign,
            target=current,
            details={"role": current.role},
        )
        current.delete()


def invitation_revoke(*, invitation: Invitation, actor: User | None) -> None:
    """Withdraw a pending invitation: its link stops working at once."""
    with transaction.atomic():
        current = (
            Invitation.objects.select_for_update(of=("self",))
            .select_related("campaign")
            .filter(pk=invitation.pk, accepted_at__isnull=True)
            .first()
        )
        if current is None:
            raise TeamError(_("This invitation was already accepted or withdrawn."))
        audit_record(
            actor=actor,
            action=AuditAction.INVITATION_REVOKE,
            campaign=current.campaign,
            target=current,
            details={"role": current.role},
        )
        current.delete()


def delivery_record(*, petition: Petition, actor: User) -> None:
    """An organizer downloaded the delivery document: that leaves a row in the audit log."""
    audit_record(
        actor=actor,
        action=AuditAction.DELIVERY_DOWNLOAD,
        campaign=petition.campaign,
        target=petition,
    )
