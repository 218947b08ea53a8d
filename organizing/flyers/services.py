"""Writes for flyers: batches, scan counts, print runs (which make the codes they print)."""

from __future__ import annotations

import logging
import secrets
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from config.background import enqueue_on_commit_or_raise
from organizing.audit import audit_record
from organizing.models import AuditAction
from petition.codes import code_batch_check
from petition.models import Petition

from ..models import FlyerBatch, FlyerScanDay, FlyerSettings, PrintRun
from .designs import DESIGNS, codes_needed
from .rendering import FlyerText
from .rules import print_run_check
from .runs import (  # noqa: F401
    print_run_delete,
    print_run_execute,
    print_run_give_up,
    print_run_is_stale,
    print_runs_expire,
)
from .tasks import print_run_render

logger = logging.getLogger(__name__)

# Crockford's base32 in lower case (no i, l, o, u): short, unambiguous, easy to type.
BATCH_CODE_ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz"
BATCH_CODE_LENGTH = 6
# Runs up to this many sheets are made in the request that asks for them; longer ones go to
# the worker with a progress bar.
INLINE_SHEETS = 10


def _new_batch_code() -> str:
    return "".join(secrets.choice(BATCH_CODE_ALPHABET) for _ in range(BATCH_CODE_LENGTH))


def flyer_batch_create(
    *, petition: Petition, label: str, design: str, paper: str, copies: int, created_by=None
) -> FlyerBatch:
    for _attempt in range(5):
        try:
            with transaction.atomic():
                batch = FlyerBatch.objects.create(
                    petition=petition,
                    code=_new_batch_code(),
                    label=label,
                    design=design,
                    paper=paper,
                    copies=copies,
                    created_by=created_by,
                )
                audit_record(
                    actor=created_by,
                    action=AuditAction.FLYER_BATCH_CREATE,
                    campaign=petition.campaign,
                    target=batch,
                    details={"design": design, "paper": paper, "copies": copies},
                )
                return batch
        except IntegrityError:
            continue  # a code collision: 32^6 codes, so a retry is enough
    raise RuntimeError("could not find a free flyer batch code")


def flyer_batch_retire(*, batch: FlyerBatch, actor=None) -> bool:
    """Stop counting a batch's scans; its QR codes still lead to the petition."""
    with transaction.atomic():
        retired = FlyerBatch.objects.filter(pk=batch.pk, retired_at__isnull=True).update(
            retired_at=timezone.now()
        )
        if retired:
            audit_record(
                actor=actor,
                action=AuditAction.FLYER_BATCH_REVOKE,
                campaign=batch.petition.campaign,
                target=batch,
            )
    return bool(retired)


def flyer_scan_record(*, batch_id: int) -> None:
    """Add one scan to today's counter of a batch. Atomic under concurrency: an UPDATE with
    F() first; the first scan of the day inserts, and a racing insert falls back to UPDATE."""
    today = timezone.now().date()
    counter = FlyerScanDay.objects.filter(batch_id=batch_id, day=today)
    if counter.update(scans=F("scans") + 1):
        return
    try:
        with transaction.atomic():
            FlyerScanDay.objects.create(batch_id=batch_id, day=today, scans=1)
    except IntegrityError:
        counter.update(scans=F("scans") + 1)


def print_run_create(
    *,
    petition: Petition,
    design: str,
    paper: str,
    copies: int,
    text: FlyerText,
    created_by=None,
    batch_label: str = "",
    code_level: str | None = None,
    code_label: str = "",
    code_expires_at=None,
    in_process: bool = False,
) -> PrintRun:
    """Record a print run and start it: in this process if it is short (or `in_process`,
    for a caller with no request to answer and perhaps no worker: `manage.py flyers`),
    else in the worker (after commit). The codes are made by whoever renders, never sent
    anywhere."""
    print_run_check(
        petition=petition, design=design, copies=copies, text=text, code_level=code_level
    )
    chosen = DESIGNS[design]
    needed = codes_needed(chosen, copies)
    if needed:
        # The code-batch rules (size, level, expiry), checked before anything is made so
        # that the form shows them next to their fields.
        code_batch_check(
            petition=petition,
            level=code_level or chosen.code_level,
            size=needed,
            expires_at=code_expires_at,
        )
    with transaction.atomic():
        batch = None
        if batch_label:
            batch = flyer_batch_create(
                petition=petition,
                label=batch_label,
                design=design,
                paper=paper,
                copies=copies,
                created_by=created_by,
            )
        run = _run_create(
            petition=petition,
            batch=batch,
            design=design,
            paper=paper,
            copies=copies,
            code_level=code_level or chosen.code_level or "",
            code_label=code_label or batch_label,
            text=text,
            created_by=created_by,
        )
        if code_expires_at is not None:
            run.code_expires_at = code_expires_at
            run.save(update_fields=["code_expires_at"])
    _start(run, in_process=in_process)
    return run


def _run_create(
    *, petition, batch, design, paper, copies, code_level, code_label, text, created_by
):
    return PrintRun.objects.create(
        petition=petition,
        flyer_batch=batch,
        design=design,
        paper=paper,
        copies=copies,
        code_level=code_level,
        code_label=code_label,
        text=text.as_dict(),
        pages_total=DESIGNS[design].sheets_for(copies),
        created_by=created_by,
        expires_at=timezone.now() + timedelta(hours=settings.COUNTERSIGN_PRINT_FILE_HOURS),
    )


def _start(run: PrintRun, *, in_process: bool = False) -> None:
    if in_process or run.pages_total <= INLINE_SHEETS:
        # Short runs: made right here, so the page that follows can offer the download.
        print_run_execute(run_id=run.pk)
    else:
        # Raise if the broker is down: no sweep starts a waiting run, so it would stay
        # "waiting" on the organizer's page until it expires.
        enqueue_on_commit_or_raise(print_run_render, str(run.pk))


def flyer_settings_remember(*, petition: Petition, design: str, paper: str, text: FlyerText):
    """Keep the designer's choices for the petition's next PDF (one row per petition, the
    last one wins). Called when a PDF is asked for, with text the form has checked."""
    FlyerSettings.objects.update_or_create(
        petition=petition, defaults={"design": design, "paper": paper, "text": text.as_dict()}
    )


def print_run_retry(*, run: PrintRun, actor) -> bool:
    """Start a failed run again, with fresh codes (the failed run's were revoked).

    The run becomes the retrying person's: the new codes, their batch and its audit entry
    name whoever asked for them, so the log never blames the original maker. The views let
    only the maker retry a run that carries codes, so for those the maker stays the same.
    """
    with transaction.atomic():
        retried = PrintRun.objects.filter(pk=run.pk, status=PrintRun.Status.FAILED).update(
            status=PrintRun.Status.PENDING,
            error="",
            pages_done=0,
            created_by=actor,
            expires_at=timezone.now() + timedelta(hours=settings.COUNTERSIGN_PRINT_FILE_HOURS),
        )
        if retried:
            run.created_by = actor
            _start(run)
    return bool(retried)


def print_run_download_record(*, run: PrintRun, actor) -> None:
    """Audit one download of a run's PDF: who, which run, its size; never a code."""
    audit_record(
        actor=actor,
        action=AuditAction.PRINT_RUN_DOWNLOAD,
        campaign=run.petition.campaign,
        target=run,
        details={
            "design": run.design,
            "paper": run.paper,
            "copies": run.copies,
            "level": run.code_level or None,
        },
    )
