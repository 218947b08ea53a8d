"""Reads for flyers. Scan counts leave here only per batch, as of the end of the previous
day (UTC) and rounded down to steps of 5 (docs/threat-model.md, "Scan counts")."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Q, QuerySet, Sum
from django.db.models.functions import Coalesce
from django.utils import timezone

from ..models import FlyerBatch, FlyerSettings, PrintRun
from .designs import DESIGNS, PAPERS
from .rendering import FlyerText, default_text

# Counts are shown in steps of this size, and below it as "fewer than 5": an organizer who
# scans his own batch, or a batch posted in a small room, must not see one scan appear.
SCAN_COUNT_FLOOR = 5
SCAN_COUNT_STEP = SCAN_COUNT_FLOOR


@dataclass(frozen=True)
class BatchRow:
    batch: FlyerBatch
    scans: int | None  # None: fewer than SCAN_COUNT_FLOOR


def shown_scans(total: int) -> int | None:
    """`total` rounded down to a step of 5; None below the first step."""
    rounded = total - total % SCAN_COUNT_STEP
    return rounded if rounded >= SCAN_COUNT_FLOOR else None


def _counted_until_yesterday() -> Q:
    # Today's counter is still moving: a figure that includes it would change the moment
    # someone scans. FlyerScanDay.day is the UTC date (services.flyer_scan_record).
    return Q(scan_days__day__lt=timezone.now().date())


def flyer_batches(petition) -> list[BatchRow]:
    batches = FlyerBatch.objects.filter(petition=petition).annotate(
        scans_total=Coalesce(Sum("scan_days__scans", filter=_counted_until_yesterday()), 0)
    )
    return [BatchRow(batch=b, scans=shown_scans(b.scans_total)) for b in batches]


def petition_scans(petition) -> int | None:
    """All scans of the petition's flyer batches, for the dashboard and the digest: the sum
    of the batches' shown (rounded, as of yesterday) figures, so that the total minus the
    batches shown reveals no batch shown as "fewer than 5". None while that sum is 0."""
    total = sum(row.scans or 0 for row in flyer_batches(petition))
    return total or None


def designer_initial(petition) -> dict:
    """What the designer's form starts from: the last PDF's text, colour, language, design
    and paper for this petition, or the petition's own words the first time."""
    saved = FlyerSettings.objects.filter(petition=petition).first()
    if saved is None:
        return {**default_text(petition).as_dict(), "design": "poster", "paper": "letter"}
    text = FlyerText.from_dict({**default_text(petition).as_dict(), **saved.text})
    return {
        **text.as_dict(),
        "design": saved.design if saved.design in DESIGNS else "poster",
        "paper": saved.paper if saved.paper in PAPERS else "letter",
    }


def designer_remembers(petition) -> bool:
    return FlyerSettings.objects.filter(petition=petition).exists()


def print_runs(petition) -> QuerySet[PrintRun]:
    """The petition's unexpired runs. A run that carries codes may be listed to others
    (that it exists, its size and state) but opened only by its maker: see
    `print_run_visible_to`."""
    return (
        PrintRun.objects.filter(petition=petition, expires_at__gt=timezone.now())
        .select_related("flyer_batch")
        .order_by("-created_at")
    )


def print_run_visible_to(run: PrintRun, user) -> bool:
    """Whether `user`, a member of the run's campaign, may open the run's page and file.

    A PDF of single-use codes is its maker's alone: anyone else holding it could redeem or
    probe the cards another member will hand out, around the two-person approval. Other PDFs
    (posters, flyers) hold nothing secret and stay open to the team.
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
