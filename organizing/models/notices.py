"""The tables of the notices (organizing/notices/ holds their code): the milestone plan, the
notices, their outbox rows, staff preferences, webhooks and the moderation alerts. Part of
the `organizing.models` package; nothing here is about a signer: counts, thresholds and
staff only."""

from __future__ import annotations

import secrets

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class MilestonePlan(models.Model):
    """Per petition: which thresholds notify, and the highest published total seen.

    `high_water` only ever grows, so a count that drops (withdrawals) and rises again never
    crosses a threshold twice, and a threshold added below the current count does not fire
    for the past. The unique constraint on Notice is what guarantees it, this keeps it quiet.
    """

    petition = models.OneToOneField(
        "petition.Petition", on_delete=models.CASCADE, related_name="milestone_plan"
    )
    use_default_ladder = models.BooleanField(
        _("notify at 10, 25, 50, 100, 250, 500, 1,000, then every 1,000"), default=True
    )
    use_goal_percentages = models.BooleanField(
        _("notify at 25, 50, 75 and 100 percent of the goal"), default=True
    )
    extra_thresholds = models.JSONField(_("other thresholds"), default=list, blank=True)
    raise_goal_when_reached = models.BooleanField(
        _("raise the goal automatically when it is reached"), default=False
    )
    high_water = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(high_water__gte=0), name="organizing_milestoneplan_high_water_min"
            ),
        ]

    def __str__(self) -> str:
        return f"plan for {self.petition_id}"


class NoticeKind(models.TextChoices):
    MILESTONE = "milestone", _("Milestone")
    DIGEST = "digest", _("Daily digest")
    DEADLINE_REMINDER = "deadline_reminder", _("Deadline reminder")
    # Names and comments of a closed or delivered petition are about to be erased:
    # organizers hear it a week before, once per erasure day, so they can still download
    # the delivery document.
    RETENTION_REMINDER = "retention_reminder", _("Erasure reminder")
    # An organizer's "send a test notice" to one webhook: about no petition, sent through the
    # same outbox and task as a real notice, marked `"test": true` in its body.
    TEST = "test", _("Test notice")


class Notice(models.Model):
    """Something to tell the team once: a threshold crossed, a day's digest, a deadline
    coming. Its unique key is what makes every producer (task, sweep, beat run twice at
    once) idempotent: the second insert does nothing."""

    petition = models.ForeignKey(
        "petition.Petition", on_delete=models.CASCADE, related_name="notices", null=True
    )
    kind = models.CharField(max_length=20, choices=NoticeKind.choices)
    # Milestones: the threshold. Digests and reminders: the day they are about.
    threshold = models.PositiveIntegerField(null=True, blank=True)
    day = models.DateField(null=True, blank=True)
    # Counts and numbers only (published total, per level, goal): what the messages say,
    # frozen so that a retry says the same thing.
    data = models.JSONField(default=dict)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["petition", "threshold"],
                condition=Q(kind="milestone"),
                name="organizing_notice_one_per_threshold",
            ),
            models.UniqueConstraint(
                fields=["petition", "kind", "day"],
                condition=~Q(kind="milestone"),
                name="organizing_notice_one_per_day",
            ),
            models.CheckConstraint(
                condition=Q(kind="milestone", threshold__gte=1, day__isnull=True)
                | Q(
                    kind__in=["digest", "deadline_reminder", "retention_reminder"],
                    threshold__isnull=True,
                )
                & Q(day__isnull=False)
                | Q(kind="test", threshold__isnull=True, day__isnull=True),
                name="organizing_notice_key_matches_kind",
            ),
            # Only a test notice is about no petition.
            models.CheckConstraint(
                condition=Q(kind="test", petition__isnull=True)
                | ~Q(kind="test") & Q(petition__isnull=False),
                name="organizing_notice_petition_unless_test",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.threshold or self.day} for {self.petition_id}"


class Channel(models.TextChoices):
    EMAIL = "email", _("Email")
    WEBHOOK = "webhook", _("Webhook")


class DeliveryState(models.TextChoices):
    PENDING = "pending", _("Waiting")
    SENT = "sent", _("Delivered")
    FAILED = "failed", _("Gave up")


class Delivery(models.Model):
    """One sending of one notice to one channel: a staff member by email, or a webhook. The
    outbox row. (The class and its table keep the name `Delivery` from before the word
    "delivery" was kept for handing a petition over; in code that sends, the word is "send".)

    A sender claims it with a conditional UPDATE (state pending, lease free) that sets a
    lease; only the claimant sends, then marks it sent. A sender that dies mid-send leaves
    the lease to expire and the sweep hands the row to another.
    """

    notice = models.ForeignKey(Notice, on_delete=models.CASCADE, related_name="deliveries")
    channel = models.CharField(max_length=10, choices=Channel.choices)
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
    )
    webhook = models.ForeignKey(
        "organizing.Webhook",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="deliveries",
    )
    state = models.CharField(
        max_length=10, choices=DeliveryState.choices, default=DeliveryState.PENDING
    )
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField()
    lease_until = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    # A short technical reason ("SMTP connection refused", "HTTP 500"), never a body.
    last_error = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["pk"]
        verbose_name_plural = "deliveries"
        constraints = [
            models.UniqueConstraint(
                fields=["notice", "recipient"],
                condition=Q(channel="email"),
                name="organizing_delivery_one_per_recipient",
            ),
            models.UniqueConstraint(
                fields=["notice", "webhook"],
                condition=Q(channel="webhook"),
                name="organizing_delivery_one_per_webhook",
            ),
            models.CheckConstraint(
                condition=Q(channel="email", recipient__isnull=False, webhook__isnull=True)
                | Q(channel="webhook", webhook__isnull=False, recipient__isnull=True),
                name="organizing_delivery_target_matches_channel",
            ),
            models.CheckConstraint(
                condition=Q(state__in=["pending", "sent", "failed"]),
                name="organizing_delivery_state_valid",
            ),
            models.CheckConstraint(
                condition=Q(state="sent", sent_at__isnull=False)
                | (~Q(state="sent") & Q(sent_at__isnull=True)),
                name="organizing_delivery_sent_at_matches_state",
            ),
        ]
        indexes = [
            models.Index(
                fields=["next_attempt_at"],
                condition=Q(state="pending"),
                name="organizing_delivery_due",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.channel} delivery {self.pk} ({self.state})"


class NoticeMode(models.TextChoices):
    INSTANT = "instant", _("Each milestone as it happens, and the daily digest")
    DIGEST = "digest", _("The daily digest only")
    NONE = "none", _("Nothing")


class NotificationPreference(models.Model):
    """What one staff member wants to hear about one campaign. Without a row, organizers
    get instant email and moderators nothing (they opt in)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notice_preferences"
    )
    campaign = models.ForeignKey(
        "organizing.Campaign", on_delete=models.CASCADE, related_name="notice_preferences"
    )
    mode = models.CharField(_("notices"), max_length=10, choices=NoticeMode.choices)
    email = models.BooleanField(_("by email"), default=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["user", "campaign"], name="organizing_notificationpreference_one_per_member"
            ),
            models.CheckConstraint(
                condition=Q(mode__in=["instant", "digest", "none"]),
                name="organizing_notificationpreference_mode_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user_id}/{self.campaign_id}: {self.mode}"


def new_webhook_salt() -> str:
    return secrets.token_hex(16)


class Webhook(models.Model):
    """A URL an organizer registered for milestone notices of a campaign's petitions.

    The signing secret is not stored: it is derived from COUNTERSIGN_KEY_ENCRYPTION_KEY and
    `salt` (organizing.notices.channels.webhook_secret), so a database dump alone cannot
    forge a notice. Rotating the secret means a new salt.
    """

    campaign = models.ForeignKey(
        "organizing.Campaign", on_delete=models.CASCADE, related_name="webhooks"
    )
    url = models.URLField(_("address"), max_length=500)
    label = models.CharField(_("label"), max_length=80, blank=True)
    salt = models.CharField(max_length=32, default=new_webhook_salt)
    active = models.BooleanField(default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["campaign", "url"], name="organizing_webhook_one_per_url"
            ),
            models.CheckConstraint(
                condition=Q(url__startswith="https://") | Q(url__startswith="http://"),
                name="organizing_webhook_url_scheme",
            ),
        ]

    def __str__(self) -> str:
        return self.label or self.url


class ModerationAlert(models.Model):
    """At most one "items wait" mail a day per campaign: the unique row is the claim, so two
    sweeps at once send it once. Holds counts only, never a signer's text."""

    campaign = models.ForeignKey("organizing.Campaign", on_delete=models.CASCADE, related_name="+")
    sent_on = models.DateField()
    entries = models.PositiveIntegerField(default=0)
    batches = models.PositiveIntegerField(default=0)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["campaign", "sent_on"], name="organizing_moderationalert_one_per_day"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.campaign_id} {self.sent_on}"
