"""Tables of the transparency log (petition/tlog). Imported by petition/models.py, so they
belong to the petition app. Entries, tiles, checkpoints and cosignatures are append-only:
PostgreSQL triggers (migration 0022) refuse UPDATE and DELETE, keep positions contiguous
and checkpoint sizes increasing. Nothing here holds a time (threat model, timing): the
checkpoints appear per publication batch, whose day is public already."""

from __future__ import annotations

from django.db import models
from django.db.models import Q


class LogHead(models.Model):
    """The single row every appender locks (SELECT … FOR UPDATE), so that batches of
    different petitions append one after the other to the one log."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    size = models.BigIntegerField(default=0)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(id=1), name="petition_loghead_single_row"),
            models.CheckConstraint(condition=Q(size__gte=0), name="petition_loghead_size"),
        ]

    def __str__(self) -> str:
        return f"log of {self.size}"


class LogKey(models.Model):
    """The log's Ed25519 key (signed-note type 0x01). Its name is the origin; the private
    half is encrypted with COUNTERSIGN_KEY_ENCRYPTION_KEY like the petition keys."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    name = models.CharField(max_length=200)
    public_key = models.BinaryField(max_length=32)
    private_key_encrypted = models.BinaryField()

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(id=1), name="petition_logkey_single_row"),
        ]

    def __str__(self) -> str:
        return self.name


class LogEntry(models.Model):
    """One entry (docs/protocol.md, entry encoding v1), at its position in the log."""

    position = models.BigIntegerField(primary_key=True)
    petition_id = models.UUIDField(db_index=True)  # no foreign key: the log outlives rows
    kind = models.PositiveSmallIntegerField()
    data = models.BinaryField(max_length=0xFFFF)

    class Meta:
        ordering = ["position"]

    def __str__(self) -> str:
        return f"#{self.position}"


class LogTile(models.Model):
    """A hash tile or entry bundle (tlog-tiles v0.1.0) as served, full (width 256) or
    partial at a width some signed checkpoint implies."""

    bundle = models.BooleanField()  # True: entry bundle (level 0 only)
    level = models.PositiveSmallIntegerField()
    index = models.BigIntegerField()
    width = models.PositiveSmallIntegerField()
    data = models.BinaryField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["bundle", "level", "index", "width"], name="petition_logtile_unique"
            ),
            models.CheckConstraint(
                condition=Q(level__lte=63, width__gte=1, width__lte=256, index__gte=0)
                & (Q(bundle=False) | Q(level=0)),
                name="petition_logtile_coordinates",
            ),
        ]

    def __str__(self) -> str:
        return f"{'entries' if self.bundle else self.level}/{self.index}.{self.width}"


class LogCheckpoint(models.Model):
    """A signed checkpoint: `note` is the body and the log's signature line."""

    size = models.BigIntegerField(primary_key=True)
    root = models.BinaryField(max_length=32)
    note = models.TextField()

    class Meta:
        ordering = ["size"]

    def __str__(self) -> str:
        return f"checkpoint {self.size}"


class WitnessCosignature(models.Model):
    """A verified cosignature line (tlog-cosignature v1.0.1) of a configured witness."""

    checkpoint = models.ForeignKey(
        LogCheckpoint, on_delete=models.PROTECT, related_name="cosignatures"
    )
    witness = models.CharField(max_length=200)
    line = models.TextField()
    # The witness's own claim, signed by it: not a time about any signer.
    timestamp = models.BigIntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["checkpoint", "witness"], name="petition_witnesscosignature_one"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.witness}@{self.checkpoint_id}"


class WitnessState(models.Model):
    """The size a configured witness last cosigned (or told us with a 409)."""

    name = models.CharField(max_length=200, unique=True)
    size = models.BigIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.name}: {self.size}"
