"""Reads for flyers. Scan counts leave here only per batch and only from 5 up."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import QuerySet, Sum
from django.db.models.functions import Coalesce
from django.utils import timezone

from .models import FlyerBatch, PrintRun

# Below this, a count could single out the one or two people who scanned a batch posted in
# a small room; it is shown as "fewer than 5".
SCAN_COUNT_FLOOR = 5


@dataclass(frozen=True)
class BatchRow:
    batch: FlyerBatch
    scans: int | None  # None: fewer than SCAN_COUNT_FLOOR


def shown_scans(total: int) -> int | None:
    return total if total >= SCAN_COUNT_FLOOR else None


def flyer_batches(petition) -> list[BatchRow]:
    batches = FlyerBatch.objects.filter(petition=petition).annotate(
        scans_total=Coalesce(Sum("scan_days__scans"), 0)
    )
    return [BatchRow(batch=b, scans=shown_scans(b.scans_total)) for b in batches]


def petition_scans(petition) -> int | None:
    """All scans of the petition's flyer batches, for the dashboard and the digest; None
    while there are fewer than SCAN_COUNT_FLOOR (or no batches), like a batch's own count."""
    total = FlyerBatch.objects.filter(petition=petition).aggregate(
        total=Coalesce(Sum("scan_days__scans"), 0)
    )["total"]
    return shown_scans(total)


def print_runs(petition) -> QuerySet[PrintRun]:
    """The petition's unexpired runs. A run that carries codes may be listed to others
    (that it exists, its size and state) but opened only by its maker: see
    `print_run_visible_to`."""
    return PrintRun.objects.filter(petition=petition, expires_at__gt=timezone.now()).order_by(
        "-created_at"
    )


def print_run_visible_to(run: PrintRun, user) -> bool:
    """Whether `user`, a member of the run's campaign, may open the run's page and file.

    A PDF of single-use codes is its maker's alone: anyone else holding it could redeem or
    probe the cards another member will hand out, around the two-person approval (review
    M1). Other PDFs (posters, flyers) hold nothing secret and stay open to the team.
    """
    if run.carries_codes:
        return run.created_by_id is not None and run.created_by_id == user.pk
    return True


def print_run_status(run: PrintRun) -> dict:
    """What the progress bar polls: no codes, no names."""
    return {
        "status": run.status,
        "pages_done": run.pages_done,
        "pages_total": run.pages_total,
        "error": run.error,
    }
