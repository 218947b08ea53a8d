"""The petition app's tables: Petition (with its publication policy), its keys and their
invalidation, signatures (published, waiting and sealed, withdrawn) with publication batches,
slots and window keys, code batches with their single-use codes and daily usage, and the
work-email codes, ledger and issuance counts. The transparency log's tables live in
petition/tlog/models.py and are imported here."""

from __future__ import annotations

import uuid
from datetime import date, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from organizing.models import SLUG_MESSAGE, SLUG_REGEX, Campaign

from . import publication_policy
from .blindrsa import MIN_BITS
from .publication_policy import (
    MAX_PUBLISH_INTERVAL,
    MAX_PUBLISH_MAX_WAIT,
    MAX_PUBLISH_MIN_BATCH,
    MIN_PUBLISH_MAX_WAIT,
)
from .text import COMMENT_MAX, DISPLAY_NAME_MAX
from .tlog.models import (  # noqa: F401  (the transparency log's tables, in this app)
    LogCheckpoint,
    LogEntry,
    LogHead,
    LogKey,
    LogTile,
    WitnessCosignature,
    WitnessState,
)

MAX_GOAL = 10_000_000
DELIVERY_NOTE_MAX = 300
# The languages a petition's text may be written in: the ones the site ships. A check
# constraint names them, so adding a language to settings.LANGUAGES needs a migration.
TEXT_LANGUAGES = [code for code, _name in settings.LANGUAGES]


# Migrations name these three by their path here; the values come from the policy module.
def default_publish_interval() -> int:
    return publication_policy.default_interval()


def default_publish_min_batch() -> int:
    return publication_policy.default_min_batch()


def default_publish_max_wait() -> int:
    return publication_policy.default_max_wait()


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
    # The language the organizers wrote the text above in; translations (PetitionTranslation)
    # are in the other shipped languages.
    language = models.CharField(
        _("language of the text"),
        max_length=8,
        choices=settings.LANGUAGES,
        default=settings.LANGUAGE_CODE,
        db_default=settings.LANGUAGE_CODE,
    )
    goal = models.PositiveIntegerField(
        _("signature goal"), validators=[MinValueValidator(1), MaxValueValidator(MAX_GOAL)]
    )
    deadline = models.DateField(_("deadline"), null=True, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.DRAFT)
    accepts_work_email = models.BooleanField(_("accept work email codes"), default=False)
    accepts_in_person = models.BooleanField(_("accept codes from moderators"), default=True)
    accepts_flyer = models.BooleanField(_("accept codes from flyer tabs"), default=False)
    # Publication in batches (threat model, timing): a signature enters the public log and
    # counts only with at least `publish_min_batch` others of its level, at most once per
    # `publish_interval`, and at the latest `publish_max_wait` after the end of its day.
    publish_interval = models.PositiveIntegerField(
        _("publication interval (seconds)"),
        default=default_publish_interval,
        validators=[MaxValueValidator(MAX_PUBLISH_INTERVAL)],
    )
    publish_min_batch = models.PositiveIntegerField(
        _("smallest batch"),
        default=default_publish_min_batch,
        validators=[MinValueValidator(1), MaxValueValidator(MAX_PUBLISH_MIN_BATCH)],
    )
    publish_max_wait = models.PositiveIntegerField(
        _("longest wait (seconds)"),
        default=default_publish_max_wait,
        validators=[
            MinValueValidator(MIN_PUBLISH_MAX_WAIT),
            MaxValueValidator(MAX_PUBLISH_MAX_WAIT),
        ],
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    published_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    # Starts the campaign's retention period for names and comments (petition/review.py):
    # the moment it was recorded, so the period is never shortened by a date in the past.
    delivered_at = models.DateTimeField(null=True, blank=True)
    # The day the organizers say they handed it over (review O22), and what they add about
    # it ("to HR, at the staff meeting"). Shown on the staff page and the delivery document.
    delivered_on = models.DateField(_("delivered on"), null=True, blank=True)
    delivery_note = models.CharField(
        _("note about the delivery"),
        max_length=DELIVERY_NOTE_MAX,
        blank=True,
        default="",
        db_default="",
    )

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
                condition=Q(language__in=TEXT_LANGUAGES),
                name="petition_petition_language_valid",
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
            models.CheckConstraint(
                condition=Q(publish_interval__lte=MAX_PUBLISH_INTERVAL),
                name="petition_petition_publish_interval_range",
            ),
            models.CheckConstraint(
                condition=Q(publish_min_batch__gte=1, publish_min_batch__lte=MAX_PUBLISH_MIN_BATCH),
                name="petition_petition_publish_min_batch_range",
            ),
            models.CheckConstraint(
                condition=Q(
                    publish_max_wait__gte=MIN_PUBLISH_MAX_WAIT,
                    publish_max_wait__lte=MAX_PUBLISH_MAX_WAIT,
                ),
                name="petition_petition_publish_max_wait_range",
            ),
            models.CheckConstraint(
                condition=Q(status="delivered", delivered_at__isnull=False)
                | (~Q(status="delivered") & Q(delivered_at__isnull=True)),
                name="petition_petition_delivered_at_matches_status",
            ),
            models.CheckConstraint(
                condition=Q(status="delivered", delivered_on__isnull=False)
                | (~Q(status="delivered") & Q(delivered_on__isnull=True)),
                name="petition_petition_delivered_on_matches_status",
            ),
            models.CheckConstraint(
                condition=Q(status="delivered") | Q(delivery_note=""),
                name="petition_petition_delivery_note_only_delivered",
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

    @property
    def publishes_immediately(self) -> bool:
        """Each signature public on its own, at once: fine for a demo, unsafe for signers."""
        return publication_policy.publishes_immediately(
            interval=self.publish_interval, min_batch=self.publish_min_batch
        )

    @property
    def publication_is_unsafe(self) -> bool:
        """Below the safe floor: the pages say so and never promise that nobody can tell
        when one person signed."""
        return publication_policy.below_safe_floor(
            min_batch=self.publish_min_batch, max_wait=self.publish_max_wait
        )

    def clean(self) -> None:
        super().clean()
        self.clean_publication_policy()

    def clean_publication_policy(self) -> None:
        """Refuse a policy below the safe floor outside DEBUG, unless overridden."""
        errors = publication_policy.safe_floor_errors(
            min_batch=self.publish_min_batch, max_wait=self.publish_max_wait
        )
        if errors:
            raise ValidationError(errors)

    @property
    def is_open(self) -> bool:
        """Open for signatures: credentials are issued and signatures accepted."""
        return self.status == self.Status.PUBLISHED


class PetitionTranslation(models.Model):
    """A petition's title, summary, demands and addressee in one other language, written by
    its organizers.

    A translation is one row, read and shown as a whole (petition.selectors.petition_text):
    a page never takes the title from one language and the demands from another. It is not
    part of anything signed (docs/protocol.md §3: the message holds the petition's id, a
    key id and a nullifier), so counts, keys and the log are the same in every language.
    That it differs from the petition's own language is checked by the services
    (petition/services.py) with the petition's row locked: a check constraint cannot
    look at another table.
    """

    petition = models.ForeignKey(Petition, on_delete=models.CASCADE, related_name="translations")
    language = models.CharField(_("language"), max_length=8, choices=settings.LANGUAGES)
    # The same limits as the original's fields.
    title = models.CharField(_("title"), max_length=160)
    summary = models.CharField(_("summary"), max_length=300, blank=True)
    demands = models.TextField(
        _("demands"), max_length=20_000, help_text=_("Markdown. Raw HTML is removed.")
    )
    addressed_to = models.CharField(_("addressed to"), max_length=200)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["petition", "language"]
        constraints = [
            models.UniqueConstraint(
                fields=["petition", "language"],
                name="petition_petitiontranslation_one_per_language",
                violation_error_message=_(
                    "This petition already has a translation in that language."
                ),
            ),
            models.CheckConstraint(
                condition=Q(language__in=TEXT_LANGUAGES),
                name="petition_petitiontranslation_language_valid",
            ),
            models.CheckConstraint(
                condition=~Q(title=""),
                name="petition_petitiontranslation_title_not_empty",
                violation_error_message=_("Give the translation a title."),
            ),
            models.CheckConstraint(
                condition=~Q(demands=""),
                name="petition_petitiontranslation_demands_not_empty",
                violation_error_message=_("Write the demands in this language too."),
            ),
            models.CheckConstraint(
                condition=~Q(addressed_to=""),
                name="petition_petitiontranslation_addressed_to_not_empty",
                violation_error_message=_("Say in this language who the petition is addressed to."),
            ),
        ]

    def __str__(self) -> str:
        return self.title


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
    # Set when two organizers agree the key was compromised (petition/invalidation.py): the
    # signatures made with it stop counting, and the public keys say so.
    invalidated_at = models.DateTimeField(null=True, blank=True)
    invalidation_reason = models.CharField(max_length=300, blank=True, default="")

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
                condition=Q(modulus_bits__gte=MIN_BITS), name="petition_petitionkey_min_bits"
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


class PublicationBatch(models.Model):
    """One publication of a petition's waiting entries of one level (threat model, timing).

    The public counts are the running totals of each level's newest batch: no page or API
    call ever counts signature rows. Only the day is kept; `next_after` is the end of the
    interval slot the batch went out in (a multiple of the interval since the epoch), so it
    says no more than "some batch in this hour".
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    petition = models.ForeignKey(
        Petition, on_delete=models.CASCADE, related_name="publication_batches"
    )
    level = models.CharField(max_length=16, choices=Level.choices)
    number = models.PositiveIntegerField()
    published_on = models.DateField()
    next_after = models.DateTimeField(null=True, blank=True)
    added = models.PositiveIntegerField()
    withdrawn = models.PositiveIntegerField()
    total_added = models.PositiveIntegerField()
    total_withdrawn = models.PositiveIntegerField()

    class Meta:
        ordering = ["petition", "level", "number"]
        constraints = [
            # Two publication runs at once cannot both publish batch n (the row lock in
            # petition.publication makes the second one wait and find nothing instead).
            models.UniqueConstraint(
                fields=["petition", "level", "number"],
                name="petition_publicationbatch_one_per_number",
            ),
            models.CheckConstraint(
                condition=Q(level__in=Level.values), name="petition_publicationbatch_level_valid"
            ),
            models.CheckConstraint(
                condition=Q(number__gte=1), name="petition_publicationbatch_number_positive"
            ),
            models.CheckConstraint(
                condition=Q(added__gt=0) | Q(withdrawn__gt=0),
                name="petition_publicationbatch_not_empty",
            ),
            models.CheckConstraint(
                condition=Q(total_added__gte=models.F("added"))
                & Q(total_withdrawn__gte=models.F("withdrawn"))
                & Q(total_added__gte=models.F("total_withdrawn")),
                name="petition_publicationbatch_totals_cover_batch",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.petition_id}/{self.level}/{self.number}"

    @property
    def total(self) -> int:
        return self.total_added - self.total_withdrawn


class EntryReview(models.TextChoices):
    """Where a signature's public name and comment stand (moderation).

    The count never depends on it: a hidden comment is still a counted signature.
    """

    WAITING = "waiting", _("Waiting for review")
    APPROVED = "approved", _("Approved")
    HIDDEN = "hidden", _("Hidden")
    ERASED = "erased", _("Erased after delivery")


class HideReason(models.TextChoices):
    """Why moderators hid a name or comment (review M5): preset, so the team reads the same
    words, and so the audit log can say why without quoting anything a signer wrote."""

    IDENTIFIES = "identifies", _("Could identify the signer or someone else")
    OFFENSIVE = "offensive", _("Offensive or insulting")
    OFF_TOPIC = "off_topic", _("Does not belong to this petition")
    SPAM = "spam", _("Spam or advertising")
    OTHER = "other", _("Other (say why)")


class HiddenPart(models.TextChoices):
    """What of an entry is hidden: the name and the comment are decided separately."""

    NAME = "name", _("The name only")
    COMMENT = "comment", _("The comment only")
    BOTH = "both", _("The name and the comment")


class KeyInvalidation(models.Model):
    """One organizer asks to invalidate a compromised key; a second one confirms.

    Until confirmed nothing changes. The database refuses a confirmation by the requester.
    """

    key = models.OneToOneField(PetitionKey, on_delete=models.CASCADE, related_name="invalidation")
    reason = models.CharField(max_length=300)
    requested_by = models.ForeignKey("organizing.User", on_delete=models.PROTECT, related_name="+")
    requested_at = models.DateTimeField(auto_now_add=True)
    confirmed_by = models.ForeignKey(
        "organizing.User", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    confirmed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(confirmed_by__isnull=True) | ~Q(confirmed_by=F("requested_by")),
                name="petition_keyinvalidation_confirmed_by_someone_else",
            ),
            models.CheckConstraint(
                condition=Q(confirmed_by__isnull=True, confirmed_at__isnull=True)
                | Q(confirmed_by__isnull=False, confirmed_at__isnull=False),
                name="petition_keyinvalidation_confirmation_complete",
            ),
            models.CheckConstraint(
                condition=~Q(reason=""), name="petition_keyinvalidation_reason_not_empty"
            ),
        ]

    def __str__(self) -> str:
        return str(self.key)


class Signature(models.Model):
    """A published signature: the redeemed credential and nothing about the person.

    Rows arrive only through publication batches, inserted in nullifier order, so neither the
    table's physical order nor anything in a row tells the order of arrival. No address, no
    user agent, no time: the day it became public is its batch's day (threat model P1,
    timing). A signature waiting for its batch is a PendingSignature.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    petition = models.ForeignKey(Petition, on_delete=models.CASCADE, related_name="signatures")
    batch = models.ForeignKey(PublicationBatch, on_delete=models.PROTECT, related_name="signatures")
    key = models.ForeignKey(PetitionKey, on_delete=models.PROTECT, related_name="signatures")
    level = models.CharField(max_length=16, choices=Level.choices)
    nullifier = models.BinaryField(max_length=32)
    msg = models.BinaryField(max_length=127)
    sig = models.BinaryField(max_length=1024)
    display_name = models.CharField(max_length=DISPLAY_NAME_MAX, blank=True)
    comment = models.TextField(max_length=COMMENT_MAX, blank=True)
    # Set by the publication batch that published the withdrawal, never before.
    withdrawn = models.BooleanField(default=False)
    # Review of the name and comment only (petition/review.py); never who or when.
    review = models.CharField(
        max_length=16,
        choices=EntryReview.choices,
        default=EntryReview.WAITING,
        db_default=EntryReview.WAITING,
    )
    # When hidden: what (`hidden_part`), why (`hide_reason`, a preset), and for "other"
    # the moderator's own words (`hidden_reason`). Erased with the name and comment.
    hidden_part = models.CharField(
        max_length=8, choices=HiddenPart.choices, blank=True, default="", db_default=""
    )
    hide_reason = models.CharField(
        max_length=16, choices=HideReason.choices, blank=True, default="", db_default=""
    )
    hidden_reason = models.CharField(max_length=200, blank=True, default="", db_default="")
    # The moderator console names an entry by this random id, never by `id`: the audit log
    # of earlier versions recorded `id` next to the nullifier's prefix, and that log cannot
    # be rewritten, so a console URL with `id` would link a comment to its nullifier, level
    # and batch. This id is in no other page, export or log.
    review_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)

    class Meta:
        ordering = ["nullifier"]
        constraints = [
            # P2: the database, not Python, refuses the second use of a credential. Across
            # this table and PendingSignature: see petition.signing.signature_redeem.
            models.UniqueConstraint(
                fields=["petition", "nullifier"], name="petition_signature_one_per_nullifier"
            ),
            models.CheckConstraint(
                condition=Q(level__in=Level.values), name="petition_signature_level_valid"
            ),
            models.CheckConstraint(
                condition=Q(review__in=EntryReview.values), name="petition_signature_review_valid"
            ),
            # A hidden entry always says what is hidden and why; nothing else carries either.
            models.CheckConstraint(
                condition=(
                    Q(review=EntryReview.HIDDEN)
                    & Q(hidden_part__in=HiddenPart.values)
                    & Q(hide_reason__in=HideReason.values)
                )
                | (
                    ~Q(review=EntryReview.HIDDEN)
                    & Q(hidden_part="", hide_reason="", hidden_reason="")
                ),
                name="petition_signature_hidden_with_reason",
            ),
            # "Other" says why in the moderator's words; a preset reason needs none.
            models.CheckConstraint(
                condition=(Q(hide_reason=HideReason.OTHER) & ~Q(hidden_reason=""))
                | (~Q(hide_reason=HideReason.OTHER) & Q(hidden_reason="")),
                name="petition_signature_other_reason_in_words",
            ),
            # Hiding one part leaves the other one shown, so both must exist.
            models.CheckConstraint(
                condition=~Q(hidden_part__in=[HiddenPart.NAME, HiddenPart.COMMENT])
                | (~Q(display_name="") & ~Q(comment="")),
                name="petition_signature_hidden_part_leaves_text",
            ),
        ]
        indexes = [
            # The public page lists names and comments in nullifier order (LIMIT 100): this
            # index holds only the rows that have any, so a million silent signatures cost
            # nothing to skip.
            models.Index(
                fields=["petition", "nullifier"],
                condition=Q(withdrawn=False) & (~Q(display_name="") | ~Q(comment="")),
                name="petition_signature_with_text",
            ),
        ]

    def __str__(self) -> str:
        return bytes(self.nullifier).hex()[:16]

    @property
    def published_on(self):
        return self.batch.published_on


class PublicationSlot(models.Model):
    """The last slot boundary at which a level's waiting entries were considered for a batch
    (petition/publication.py). One row per petition and level, updated in place in the
    batch's transaction, so that each boundary is decided once: an entry arriving after the
    decision waits for the next boundary instead of triggering a batch of its own. Holds a
    multiple of the interval, nothing about any signer."""

    petition = models.ForeignKey(Petition, on_delete=models.CASCADE, related_name="+")
    level = models.CharField(max_length=16, choices=Level.choices)
    decided_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["petition", "level"], name="petition_publicationslot_one_per_level"
            ),
            models.CheckConstraint(
                condition=Q(level__in=Level.values), name="petition_publicationslot_level_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.petition_id}/{self.level}@{self.decided_at:%Y-%m-%d %H:%M}"


class WindowKey(models.Model):
    """One publication window's sealing key for a petition and level (petition/sealing.py).

    Only the key's name lives in the database; its 32-byte secret lives in the sealing store
    (the "sealing" cache: Redis, or files under var/ in the embedded default), so a database
    copy cannot open the waiting signatures sealed under it. New entries go under the one
    key that is not retired; each batch retires it, and a retired key whose entries are all
    published is deleted here and in the store (forward secrecy).
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    petition = models.ForeignKey(Petition, on_delete=models.CASCADE, related_name="+")
    level = models.CharField(max_length=16, choices=Level.choices)
    retired = models.BooleanField(default=False)

    class Meta:
        constraints = [
            # Two redemptions of one token compute their uniqueness tag under the same key.
            models.UniqueConstraint(
                fields=["petition", "level"],
                condition=Q(retired=False),
                name="petition_windowkey_one_current_per_level",
            ),
            models.CheckConstraint(
                condition=Q(level__in=Level.values), name="petition_windowkey_level_valid"
            ),
        ]

    def __str__(self) -> str:
        return str(self.id)[:8]


class PendingSignature(models.Model):
    """An accepted signature waiting for its publication batch; deleted when published.

    Kept apart so that the published table never holds rows in arrival order. Everything
    that could be matched to a published signature (nullifier, message, signature, key,
    name, comment) is sealed (AES-GCM, padded to one size) under the window key, whose
    secret is not in the database: a dump taken during the window cannot tell which
    published signature a waiting row, or the ledger row written just before it, became.
    In clear: a random key, the day (for the maximum wait) and `tag`,
    an HMAC of the nullifier under the window secret that keeps the nullifier unique (P2).
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    petition = models.ForeignKey(
        Petition, on_delete=models.CASCADE, related_name="pending_signatures"
    )
    level = models.CharField(max_length=16, choices=Level.choices)
    window_key = models.ForeignKey(WindowKey, on_delete=models.PROTECT, related_name="+")
    tag = models.BinaryField(max_length=32)
    sealed = models.BinaryField()
    received_on = models.DateField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["petition", "tag"], name="petition_pendingsignature_one_per_tag"
            ),
            models.CheckConstraint(
                condition=Q(level__in=Level.values), name="petition_pendingsignature_level_valid"
            ),
        ]

    def __str__(self) -> str:
        return bytes(self.tag).hex()[:16]


class PendingWithdrawal(models.Model):
    """A withdrawal waiting for its publication batch (withdrawals follow the same batches:
    a count that drops by one at once would tell when that one person withdrew)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    petition = models.ForeignKey(
        Petition, on_delete=models.CASCADE, related_name="pending_withdrawals"
    )
    level = models.CharField(max_length=16, choices=Level.choices)
    nullifier = models.BinaryField(max_length=32)
    received_on = models.DateField()

    class Meta:
        ordering = ["nullifier"]
        constraints = [
            models.UniqueConstraint(
                fields=["petition", "nullifier"],
                name="petition_pendingwithdrawal_one_per_nullifier",
            ),
            models.CheckConstraint(
                condition=Q(level__in=Level.values),
                name="petition_pendingwithdrawal_level_valid",
            ),
        ]

    def __str__(self) -> str:
        return bytes(self.nullifier).hex()[:16]


CODE_LEVELS = (Level.IN_PERSON, Level.FLYER)
# One bound for the form, the command and the database.
CODE_BATCH_MIN_SIZE = 10
CODE_BATCH_MAX_SIZE = 5000


class CodeBatch(models.Model):
    """Single-use codes a moderator printed for one petition and level.

    The rules for making one live in petition/codes.py. A code works while its batch is
    approved, not revoked and not expired.
    """

    petition = models.ForeignKey(Petition, on_delete=models.CASCADE, related_name="code_batches")
    level = models.CharField(max_length=16, choices=Level.choices)
    size = models.PositiveIntegerField()
    label = models.CharField(max_length=120, blank=True)
    created_by = models.ForeignKey(
        "organizing.User", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    # Set at creation unless the campaign wants a second person to vouch for every batch.
    approved_at = models.DateTimeField(null=True, blank=True)
    approved_by = models.ForeignKey(
        "organizing.User", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(level__in=CODE_LEVELS), name="petition_codebatch_code_level"
            ),
            # Batches made before the minimum existed were revoked by migration 0005.
            models.CheckConstraint(
                condition=Q(size__lte=CODE_BATCH_MAX_SIZE)
                & (Q(size__gte=CODE_BATCH_MIN_SIZE) | Q(revoked_at__isnull=False)),
                name="petition_codebatch_size_range",
            ),
            models.CheckConstraint(
                condition=Q(approved_by__isnull=True)
                | Q(created_by__isnull=True)
                | ~Q(approved_by=F("created_by")),
                name="petition_codebatch_approved_by_someone_else",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.petition.slug}/{self.level}/{self.size}"

    @property
    def is_expired(self) -> bool:
        return self.expires_at is not None and self.expires_at <= timezone.now()

    @property
    def last_day(self) -> date | None:
        """The last day the codes work, as chosen: `expires_at` is the first instant after
        it in the site's time zone (petition.codes.code_batch_expiry), so showing
        `expires_at`'s own date would say one day too late (review O19)."""
        if self.expires_at is None:
            return None
        return timezone.localdate(self.expires_at - timedelta(microseconds=1))

    @property
    def state(self) -> str:
        if self.revoked_at:
            return "revoked"
        if self.is_expired:
            return "expired"
        if self.approved_at is None:
            return "waiting"
        return "active"


class SigningCode(models.Model):
    """One single-use code, stored only as a keyed hash (HMAC with a server-held pepper)."""

    batch = models.ForeignKey(CodeBatch, on_delete=models.CASCADE, related_name="codes")
    code_hash = models.BinaryField(max_length=32, unique=True)
    used = models.BooleanField(default=False)

    def __str__(self) -> str:
        return bytes(self.code_hash).hex()[:12]


class CodeUsageDay(models.Model):
    """How many codes of a batch were used by the end of one day (UTC): the only figure of
    code usage that staff pages show. Written once per batch and day at the
    day's turn (petition.codes.code_usage_record), never updated, so no page can follow a
    single use as it happens."""

    batch = models.ForeignKey(CodeBatch, on_delete=models.CASCADE, related_name="usage_days")
    day = models.DateField()
    used = models.PositiveIntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["batch", "day"], name="petition_codeusageday_one_per_day"
            ),
            models.CheckConstraint(
                condition=Q(used__lte=CODE_BATCH_MAX_SIZE), name="petition_codeusageday_used_range"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.batch_id} {self.day}"


class EmailCode(models.Model):
    """A pending work-email code. The address is only a keyed hash; the code is hashed.

    A mailbox may hold several (at most `credentials.EMAIL_CODES_PER_HOUR` an hour): asking
    again must not kill the code a signer is about to type from the first mail (review S11).
    """

    # Random, not sequential: a sequential id would record the order of requests.
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    petition = models.ForeignKey(Petition, on_delete=models.CASCADE, related_name="+")
    email_hash = models.BinaryField(max_length=32)
    code_hash = models.BinaryField(max_length=32)
    expires_at = models.DateTimeField()
    attempts = models.PositiveSmallIntegerField(default=0)

    class Meta:
        indexes = [
            models.Index(fields=["petition", "email_hash"], name="petition_emailcode_mailbox"),
        ]

    def __str__(self) -> str:
        return bytes(self.email_hash).hex()[:12]


class EmailLedger(models.Model):
    """The "already issued" ledger for work addresses (P1, P2).

    Keyed HMAC of petition id and normalized address; deleted when the petition closes. The
    key is random: a sequential id would record the order of issuance, which lined up with
    the order of signatures links people who signed together.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
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
