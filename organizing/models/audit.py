"""The audit ledger: what staff (or the system) did, one append-only, hash-chained row per
action, written in the transaction that performed it (organizing/audit.py records and reads
it)."""

from __future__ import annotations

import json

from django.db import models, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .. import auditchain
from .campaigns import Campaign, User


class AuditAction(models.TextChoices):
    """What a staff member (or the system) did. Stored as text without `choices=` on the
    column, so adding an action needs no migration (several apps add their own)."""

    CAMPAIGN_CREATE = "campaign_create", _("Campaign created")
    CAMPAIGN_UPDATE = "campaign_update", _("Campaign settings changed")
    INVITATION_CREATE = "invitation_create", _("Invitation sent")
    INVITATION_REVOKE = "invitation_revoke", _("Invitation revoked")
    MEMBER_JOIN = "member_join", _("Invitation accepted")
    MEMBER_ROLE_CHANGE = "member_role_change", _("Role changed")
    MEMBER_REMOVE = "member_remove", _("Member removed")
    MEMBER_CONFIRM = "member_confirm", _("Member confirmed by a second organizer")
    PETITION_CREATE = "petition_create", _("Petition created")
    PETITION_UPDATE = "petition_update", _("Petition edited")
    PETITION_PUBLISH = "petition_publish", _("Petition published")
    PETITION_CLOSE = "petition_close", _("Petition closed")
    PETITION_DELIVER = "petition_deliver", _("Petition marked as delivered")
    PETITION_TRANSLATION_ADD = "petition_translation_add", _("Translation added")
    PETITION_TRANSLATION_UPDATE = "petition_translation_update", _("Translation edited")
    PETITION_TRANSLATION_DELETE = "petition_translation_delete", _("Translation deleted")
    KEY_CREATE = "key_create", _("Signing key created")
    KEY_DESTROY = "key_destroy", _("Signing key's private half erased")
    KEY_INVALIDATE_REQUEST = "key_invalidate_request", _("Key invalidation requested")
    KEY_INVALIDATE = "key_invalidate", _("Key invalidated")
    CODE_BATCH_CREATE = "code_batch_create", _("Code batch made")
    CODE_BATCH_APPROVE = "code_batch_approve", _("Code batch approved")
    CODE_BATCH_REVOKE = "code_batch_revoke", _("Code batch revoked")
    FLYER_BATCH_CREATE = "flyer_batch_create", _("Flyer batch made")
    FLYER_BATCH_REVOKE = "flyer_batch_revoke", _("Flyer batch revoked")
    PRINT_RUN_DOWNLOAD = "print_run_download", _("PDF downloaded")
    MILESTONE_UPDATE = "milestone_update", _("Milestone settings changed")
    WEBHOOK_UPDATE = "webhook_update", _("Webhook changed")
    ENTRY_APPROVE = "entry_approve", _("Name or comment approved")
    ENTRY_HIDE = "entry_hide", _("Name or comment hidden")
    ENTRY_SHOW = "entry_show", _("Hidden name or comment shown again")
    DELIVERY_DOWNLOAD = "delivery_download", _("Delivery document downloaded")
    RETENTION_PURGE = "retention_purge", _("Names and comments erased after the retention period")
    AUDIT_EXPORT = "audit_export", _("Audit log exported")


class AuditEntryQuerySet(models.QuerySet):
    """Append-only: the ORM refuses bulk changes too. The database trigger (migration
    organizing 0002) refuses them for raw SQL."""

    def update(self, **kwargs):
        raise AuditLogIsAppendOnly("audit entries cannot be changed")

    def delete(self):
        raise AuditLogIsAppendOnly("audit entries cannot be deleted")

    def bulk_update(self, objs, fields, batch_size=None):
        raise AuditLogIsAppendOnly("audit entries cannot be changed")


class AuditLogIsAppendOnly(Exception):
    """Something tried to change or delete an audit entry."""


class AuditEntry(models.Model):
    """One staff action, recorded in the transaction that performed it.

    Never about a signer: `details` holds staff-side facts (a batch size, a role, a key
    fingerprint), never a name, comment, address or time of a signature.
    """

    campaign = models.ForeignKey(
        Campaign, on_delete=models.PROTECT, null=True, blank=True, related_name="audit_entries"
    )
    # None is the system: a management command, a scheduled task. No database-level foreign
    # key: the record outlives a deleted account (it keeps the id and the address), and
    # ON DELETE SET NULL would be an UPDATE, which the log refuses.
    actor = models.ForeignKey(
        User,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        null=True,
        blank=True,
        related_name="+",
    )
    # The address at the time, so the record reads the same after an address change.
    actor_email = models.CharField(max_length=254, blank=True)
    action = models.CharField(max_length=40)
    object_type = models.CharField(max_length=60, blank=True)
    object_id = models.CharField(max_length=64, blank=True)
    object_label = models.CharField(max_length=200, blank=True)
    details = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    # The hash chain (organizing/auditchain.py): the row's place in its campaign's chain (or
    # the chain of rows without a campaign), the previous row's hash and its own. Set by
    # save(), never by callers.
    seq = models.PositiveBigIntegerField(editable=False)
    prev_hash = models.CharField(max_length=64, editable=False)
    hash = models.CharField(max_length=64, editable=False)

    objects = AuditEntryQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name_plural = "audit entries"
        constraints = [
            models.CheckConstraint(
                condition=~Q(action=""), name="organizing_auditentry_action_not_empty"
            ),
            models.CheckConstraint(
                condition=Q(actor__isnull=True, actor_email="")
                | Q(actor__isnull=False) & ~Q(actor_email=""),
                name="organizing_auditentry_actor_email_with_actor",
            ),
            # One row per place in each chain: a second writer that missed the lock fails
            # instead of forking the chain.
            models.UniqueConstraint(
                fields=["campaign", "seq"],
                condition=Q(campaign__isnull=False),
                name="organizing_auditentry_one_per_place",
            ),
            models.UniqueConstraint(
                fields=["seq"],
                condition=Q(campaign__isnull=True),
                name="organizing_auditentry_one_per_place_without_campaign",
            ),
            models.CheckConstraint(
                condition=Q(seq__gte=1)
                & Q(hash__regex=r"^[0-9a-f]{64}$")
                & Q(prev_hash__regex=r"^[0-9a-f]{64}$"),
                name="organizing_auditentry_chained",
            ),
        ]
        indexes = [
            models.Index(fields=["campaign", "-created_at"], name="organizing_audit_campaign")
        ]

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M} {self.action}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise AuditLogIsAppendOnly("audit entries cannot be changed")
        # Appending takes the chain's lock, reads its head and links to it, in one
        # transaction (the caller's, when there is one), so two writers cannot fork it.
        with transaction.atomic():
            auditchain.lock_chain(self.campaign_id)
            head = (
                AuditEntry.objects.filter(campaign_id=self.campaign_id)
                .order_by("-seq")
                .values_list("seq", "hash")
                .first()
            )
            self.seq, self.prev_hash = (head[0] + 1, head[1]) if head else (1, auditchain.GENESIS)
            # Stored as JSON read back: the hash covers what the database will return.
            self.details = json.loads(json.dumps(self.details or {}, default=str))
            self.hash = auditchain.entry_hash(self)
            super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AuditLogIsAppendOnly("audit entries cannot be deleted")

    @property
    def action_label(self) -> str:
        try:
            return AuditAction(self.action).label
        except ValueError:
            return self.action

    @property
    def actor_display(self) -> str:
        return self.actor_email or _("System")
