"""Flyer batches, their per-day scan counters, and print runs (generated PDFs that expire).

Part of the `organizing.models` package, so Django registers them in the `organizing` app.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

# The names of organizing/flyers/designs.py (not imported: that module imports petition,
# which imports this app's models).
DESIGN_CHOICES = [
    ("poster", _("Poster")),
    ("halves", _("Half-page flyers")),
    ("tearoff", _("Poster with tear-off tabs")),
    ("stickers", _("Sticker sheet")),
    ("cards", _("Code cards")),
]
PAPER_CHOICES = [("letter", _("US Letter")), ("a4", _("A4"))]
BATCH_CODE_REGEX = r"^[0-9a-z]{6,12}$"
# The most copies of one run or batch; every print-run rule is in organizing/flyers/rules.py.
MAX_COPIES = 5000


class FlyerBatch(models.Model):
    """Flyers printed for one place ("Building 20, 2nd floor"). Their QR codes lead through
    /f/<code>, which counts scans per day and nothing else."""

    petition = models.ForeignKey(
        "petition.Petition", on_delete=models.CASCADE, related_name="flyer_batches"
    )
    code = models.CharField(max_length=12, unique=True)
    label = models.CharField(_("where the flyers go"), max_length=120)
    design = models.CharField(max_length=16, choices=DESIGN_CHOICES)
    paper = models.CharField(max_length=8, choices=PAPER_CHOICES)
    copies = models.PositiveIntegerField()
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    retired_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(code__regex=BATCH_CODE_REGEX), name="organizing_flyerbatch_code_format"
            ),
            models.CheckConstraint(
                condition=~Q(label=""), name="organizing_flyerbatch_label_not_empty"
            ),
            models.CheckConstraint(
                condition=Q(copies__gte=1, copies__lte=MAX_COPIES),
                name="organizing_flyerbatch_copies_range",
            ),
        ]

    def __str__(self) -> str:
        return self.label

    def get_absolute_url(self) -> str:
        return reverse("organizing:flyer_redirect", kwargs={"code": self.code})


class FlyerScanDay(models.Model):
    """How many times a batch's QR code was opened on one day: the only record of a scan.
    No row per scan, no address, no time finer than the day (threat model, scan counts)."""

    batch = models.ForeignKey(FlyerBatch, on_delete=models.CASCADE, related_name="scan_days")
    day = models.DateField()
    scans = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["batch", "day"], name="organizing_flyerscanday_one_per_day"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.batch_id} {self.day}"


class FlyerSettings(models.Model):
    """The designer's last choices for a petition (text, colour, language, design, paper),
    so the next PDF starts from the last one instead of the defaults (review O8). Staff text
    only: what goes on the poster, nothing about any signer."""

    petition = models.OneToOneField(
        "petition.Petition", on_delete=models.CASCADE, related_name="flyer_settings"
    )
    design = models.CharField(max_length=16, choices=DESIGN_CHOICES)
    paper = models.CharField(max_length=8, choices=PAPER_CHOICES)
    # organizing.flyers.rendering.FlyerText as a dict; read back through that class, whose
    # defaults fill in fields added since.
    text = models.JSONField(default=dict)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "flyer settings"
        constraints = [
            models.CheckConstraint(
                condition=Q(design__in=[name for name, _label in DESIGN_CHOICES]),
                name="organizing_flyersettings_design_valid",
            ),
            models.CheckConstraint(
                condition=Q(paper__in=[name for name, _label in PAPER_CHOICES]),
                name="organizing_flyersettings_paper_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"flyer settings of {self.petition_id}"


class PrintRun(models.Model):
    """One PDF being made, or made. The codes it prints exist in clear only inside the
    processes that render it: a run the worker makes is split into chunks
    (`PrintRunChunk`) that any worker renders, each deriving its own codes from `code_seed`,
    which is encrypted under the key-encryption key and erased when the run ends. The file
    is deleted when it expires."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting")
        RUNNING = "running", _("Being made")
        DONE = "done", _("Ready")
        FAILED = "failed", _("Failed")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    petition = models.ForeignKey(
        "petition.Petition", on_delete=models.CASCADE, related_name="print_runs"
    )
    flyer_batch = models.ForeignKey(
        FlyerBatch, on_delete=models.SET_NULL, null=True, blank=True, related_name="print_runs"
    )
    code_batch = models.ForeignKey(
        "petition.CodeBatch",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="print_runs",
    )
    design = models.CharField(max_length=16, choices=DESIGN_CHOICES)
    paper = models.CharField(max_length=8, choices=PAPER_CHOICES)
    copies = models.PositiveIntegerField()
    code_level = models.CharField(max_length=16, blank=True)
    code_label = models.CharField(max_length=120, blank=True)
    code_expires_at = models.DateTimeField(null=True, blank=True)
    text = models.JSONField(default=dict)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.PENDING)
    pages_done = models.PositiveIntegerField(default=0)
    pages_total = models.PositiveIntegerField(default=0)
    error = models.CharField(max_length=300, blank=True)
    file = models.FileField(upload_to="prints/", blank=True)
    # Chunked runs (organizing/flyers/chunks.py): how many chunks, how many are rendered.
    # The chunk whose increment reaches chunks_total sends the join.
    chunks_total = models.PositiveIntegerField(default=0)
    chunks_done = models.PositiveIntegerField(default=0)
    # Fernet token of the 32 random bytes the run's codes are derived from, so that each
    # chunk's worker can print its share of the batch made up front. Never in clear in the
    # database; emptied when the run is done, fails or is given up.
    code_seed = models.BinaryField(null=True, blank=True, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField()

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=["pending", "running", "done", "failed"]),
                name="organizing_printrun_status_valid",
            ),
            models.CheckConstraint(
                condition=Q(copies__gte=1, copies__lte=MAX_COPIES),
                name="organizing_printrun_copies_range",
            ),
            models.CheckConstraint(
                condition=Q(pages_done__lte=models.F("pages_total")),
                name="organizing_printrun_progress_bounded",
            ),
            models.CheckConstraint(
                condition=Q(chunks_done__lte=models.F("chunks_total")),
                name="organizing_printrun_chunks_bounded",
            ),
            # A finished run has its file; an unfinished one has none yet.
            models.CheckConstraint(
                condition=Q(status="done") & ~Q(file="") | ~Q(status="done") & Q(file=""),
                name="organizing_printrun_file_when_done",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.design} x{self.copies}"

    @property
    def carries_codes(self) -> bool:
        """True when the PDF prints single-use codes (code cards, tear-off tabs): such a
        file is its maker's alone, since whoever holds it could redeem or probe the cards."""
        return bool(self.code_level)

    @property
    def name(self) -> str:
        """What the run is called in lists and its file name: its batch ("Break room,
        Building 2") if it has one, else its design."""
        if self.flyer_batch_id is not None and self.flyer_batch is not None:
            return self.flyer_batch.label
        return self.code_label or str(self.get_design_display())

    @property
    def is_expired(self) -> bool:
        return self.expires_at <= timezone.now()


class PrintRunChunk(models.Model):
    """A run of consecutive sheets of one print run, rendered by whichever worker claims it
    (a conditional update: pending, or running under a claim older than the stale window)
    into its own PDF file, joined in order when the last one is done."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting")
        RUNNING = "running", _("Being made")
        DONE = "done", _("Ready")

    run = models.ForeignKey(PrintRun, on_delete=models.CASCADE, related_name="chunks")
    index = models.PositiveIntegerField()
    first_sheet = models.PositiveIntegerField()
    sheet_count = models.PositiveIntegerField()
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.PENDING)
    # Who holds the claim: a fresh token per claim, so a worker that lost its claim (it
    # was found stale and claimed again) cannot mark the chunk done.
    attempt = models.UUIDField(null=True, blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    file = models.FileField(upload_to="prints/chunks/", blank=True)

    class Meta:
        ordering = ["run", "index"]
        constraints = [
            models.UniqueConstraint(fields=["run", "index"], name="organizing_printrunchunk_once"),
            models.CheckConstraint(
                condition=Q(status__in=["pending", "running", "done"]),
                name="organizing_printrunchunk_status_valid",
            ),
            models.CheckConstraint(
                condition=Q(sheet_count__gte=1), name="organizing_printrunchunk_not_empty"
            ),
            models.CheckConstraint(
                condition=Q(status="done") & ~Q(file="") | ~Q(status="done") & Q(file=""),
                name="organizing_printrunchunk_file_when_done",
            ),
            models.CheckConstraint(
                condition=Q(status="pending") | Q(attempt__isnull=False, claimed_at__isnull=False),
                name="organizing_printrunchunk_claimed",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.run_id} chunk {self.index}"
