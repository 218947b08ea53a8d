"""Petitions. Signatures, keys and credentials arrive with the signing protocol."""

from __future__ import annotations

import uuid

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from organizing.models import SLUG_MESSAGE, SLUG_REGEX, Campaign

MAX_GOAL = 10_000_000


class Level(models.TextChoices):
    """How a signer proved they belong: the level of the key that signed (protocol v1)."""

    WORK_EMAIL = "work_email", _("Work email code")
    IN_PERSON = "in_person", _("Code from a moderator")
    FLYER = "flyer", _("Code from a flyer tab")


class Petition(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        PUBLISHED = "published", _("Open for signatures")
        CLOSED = "closed", _("Closed")
        DELIVERED = "delivered", _("Delivered")

    # The UUID is part of every signed message (protocol v1), so it is the primary key and
    # never changes; the slug is what people type and scan.
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    campaign = models.ForeignKey(Campaign, on_delete=models.PROTECT, related_name="petitions")
    slug = models.SlugField(_("short name"), max_length=60, unique=True)
    title = models.CharField(_("title"), max_length=160)
    summary = models.CharField(_("summary"), max_length=300, blank=True)
    demands = models.TextField(
        _("demands"), max_length=20_000, help_text=_("Markdown. Raw HTML is removed.")
    )
    addressed_to = models.CharField(_("addressed to"), max_length=200)
    goal = models.PositiveIntegerField(
        _("signature goal"), validators=[MinValueValidator(1), MaxValueValidator(MAX_GOAL)]
    )
    deadline = models.DateField(_("deadline"), null=True, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.DRAFT)
    accepts_work_email = models.BooleanField(_("accept work email codes"), default=False)
    accepts_in_person = models.BooleanField(_("accept codes from moderators"), default=True)
    accepts_flyer = models.BooleanField(_("accept codes from flyer tabs"), default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    published_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(slug__regex=SLUG_REGEX),
                name="petition_petition_slug_format",
                violation_error_message=SLUG_MESSAGE,
            ),
            models.CheckConstraint(
                condition=Q(status__in=["draft", "published", "closed", "delivered"]),
                name="petition_petition_status_valid",
            ),
            models.CheckConstraint(
                condition=Q(goal__gte=1, goal__lte=MAX_GOAL),
                name="petition_petition_goal_range",
                violation_error_message=_("The goal must be between 1 and 10,000,000."),
            ),
            models.CheckConstraint(
                condition=Q(accepts_work_email=True)
                | Q(accepts_in_person=True)
                | Q(accepts_flyer=True),
                name="petition_petition_accepts_a_level",
                violation_error_message=_("Accept at least one way for signers to verify."),
            ),
            models.CheckConstraint(
                condition=~Q(title=""),
                name="petition_petition_title_not_empty",
                violation_error_message=_("Give the petition a title."),
            ),
            # A petition that was ever published has its publication time; a draft has none.
            models.CheckConstraint(
                condition=Q(status="draft", published_at__isnull=True)
                | (~Q(status="draft") & Q(published_at__isnull=False)),
                name="petition_petition_published_at_matches_status",
            ),
            models.CheckConstraint(
                condition=Q(status__in=["draft", "published"], closed_at__isnull=True)
                | (Q(status__in=["closed", "delivered"]) & Q(closed_at__isnull=False)),
                name="petition_petition_closed_at_matches_status",
            ),
        ]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("petition:detail", kwargs={"slug": self.slug})

    @property
    def levels(self) -> list[str]:
        return [
            level
            for level, accepted in (
                (Level.WORK_EMAIL, self.accepts_work_email),
                (Level.IN_PERSON, self.accepts_in_person),
                (Level.FLYER, self.accepts_flyer),
            )
            if accepted
        ]

    @property
    def is_public(self) -> bool:
        return self.status != self.Status.DRAFT


class PetitionKey(models.Model):
    """One RSA key per petition and accepted level (protocol v1).

    The public half is published and kept for audits; the private half is stored encrypted
    with COUNTERSIGN_KEY_ENCRYPTION_KEY and erased when the petition closes, so nobody can
    mint signatures for a closed petition, not even with a later database dump.
    """

    petition = models.ForeignKey(Petition, on_delete=models.CASCADE, related_name="keys")
    level = models.CharField(max_length=16, choices=Level.choices)
    key_id = models.BinaryField(max_length=32, unique=True)
    spki = models.BinaryField()
    modulus_bits = models.PositiveIntegerField()
    private_key_encrypted = models.BinaryField(null=True)
    # Staff-side record of when the key was made and destroyed; never about a signer.
    created_at = models.DateTimeField(auto_now_add=True)
    destroyed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["level"]
        constraints = [
            models.UniqueConstraint(
                fields=["petition", "level"], name="petition_petitionkey_one_per_level"
            ),
            models.CheckConstraint(
                condition=Q(level__in=Level.values), name="petition_petitionkey_level_valid"
            ),
            models.CheckConstraint(
                condition=Q(modulus_bits__gte=2048), name="petition_petitionkey_min_bits"
            ),
            models.CheckConstraint(
                condition=Q(private_key_encrypted__isnull=True, destroyed_at__isnull=False)
                | Q(private_key_encrypted__isnull=False, destroyed_at__isnull=True),
                name="petition_petitionkey_private_half_or_destroyed",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.petition.slug}/{self.level}"

    @property
    def fingerprint(self) -> str:
        """The key id as people compare it: hex, in groups of four."""
        hex_id = bytes(self.key_id).hex()
        return " ".join(hex_id[i : i + 4] for i in range(0, len(hex_id), 4))


class Signature(models.Model):
    """An accepted signature: the redeemed credential and nothing about the person.

    No address, no user agent, no exact time (only the date), and a random primary key so
    that not even the row id reveals the order of arrival (threat model P1, timing).
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    petition = models.ForeignKey(Petition, on_delete=models.CASCADE, related_name="signatures")
    key = models.ForeignKey(PetitionKey, on_delete=models.PROTECT, related_name="signatures")
    level = models.CharField(max_length=16, choices=Level.choices)
    nullifier = models.BinaryField(max_length=32)
    msg = models.BinaryField(max_length=127)
    sig = models.BinaryField(max_length=1024)
    display_name = models.CharField(max_length=80, blank=True)
    comment = models.TextField(max_length=1000, blank=True)
    signed_on = models.DateField()
    withdrawn = models.BooleanField(default=False)

    class Meta:
        ordering = ["nullifier"]
        constraints = [
            # P2: the database, not Python, refuses the second use of a credential.
            models.UniqueConstraint(
                fields=["petition", "nullifier"], name="petition_signature_one_per_nullifier"
            ),
            models.CheckConstraint(
                condition=Q(level__in=Level.values), name="petition_signature_level_valid"
            ),
        ]

    def __str__(self) -> str:
        return bytes(self.nullifier).hex()[:16]


class CodeBatch(models.Model):
    """Single-use codes a moderator printed for one petition and level."""

    petition = models.ForeignKey(Petition, on_delete=models.CASCADE, related_name="code_batches")
    level = models.CharField(max_length=16, choices=Level.choices)
    size = models.PositiveIntegerField()
    label = models.CharField(max_length=120, blank=True)
    created_by = models.ForeignKey(
        "organizing.User", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(level__in=[Level.IN_PERSON, Level.FLYER]),
                name="petition_codebatch_code_level",
            ),
            models.CheckConstraint(
                condition=Q(size__gte=1, size__lte=5000), name="petition_codebatch_size_range"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.petition.slug}/{self.level}/{self.size}"


class SigningCode(models.Model):
    """One single-use code, stored only as a keyed hash (HMAC with a server-held pepper)."""

    batch = models.ForeignKey(CodeBatch, on_delete=models.CASCADE, related_name="codes")
    code_hash = models.BinaryField(max_length=32, unique=True)
    used = models.BooleanField(default=False)

    def __str__(self) -> str:
        return bytes(self.code_hash).hex()[:12]


class EmailCode(models.Model):
    """A pending work-email code. The address is only a keyed hash; the code is hashed."""

    petition = models.ForeignKey(Petition, on_delete=models.CASCADE, related_name="+")
    email_hash = models.BinaryField(max_length=32)
    code_hash = models.BinaryField(max_length=32)
    expires_at = models.DateTimeField()
    attempts = models.PositiveSmallIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["petition", "email_hash"], name="petition_emailcode_one_per_address"
            ),
        ]

    def __str__(self) -> str:
        return bytes(self.email_hash).hex()[:12]


class EmailLedger(models.Model):
    """The "already issued" ledger for work addresses (P1, P2).

    Keyed HMAC of petition id and normalized address; deleted when the petition closes.
    """

    petition = models.ForeignKey(Petition, on_delete=models.CASCADE, related_name="+")
    email_hash = models.BinaryField(max_length=32)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["petition", "email_hash"], name="petition_emailledger_one_per_address"
            ),
        ]

    def __str__(self) -> str:
        return bytes(self.email_hash).hex()[:12]


class IssuanceCount(models.Model):
    """How many credentials each method issued: it must cover the signatures (P4)."""

    petition = models.ForeignKey(Petition, on_delete=models.CASCADE, related_name="issuance")
    level = models.CharField(max_length=16, choices=Level.choices)
    issued = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["petition", "level"], name="petition_issuancecount_one_per_level"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.level}: {self.issued}"
