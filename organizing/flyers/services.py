"""Writes for flyers: batches, scan counts, print runs (which make the codes they print)."""

from __future__ import annotations

import logging
import secrets
import tempfile
from datetime import timedelta
from uuid import UUID

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files import File
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from organizing.audit import audit_record
from organizing.models import AuditAction
from petition.codes import code_batch_check, code_batch_create, code_batch_revoke
from petition.keys import key_id_prefix
from petition.models import CodeBatch, Petition

from .designs import DESIGNS, codes_needed
from .models import FlyerBatch, FlyerScanDay, PrintRun
from .pdf import PDFLibrariesMissing
from .rendering import FlyerText, flyer_pdf, petition_target_url

logger = logging.getLogger(__name__)

# Crockford's base32 in lower case (no i, l, o, u): short, unambiguous, easy to type.
BATCH_CODE_ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz"
BATCH_CODE_LENGTH = 6
# Runs up to this many sheets are made in the request that asks for them; longer ones go to
# the worker with a progress bar.
INLINE_SHEETS = 10
# A run still "running" after this long lost its worker (acks_late redelivers it).
STALE_RUN = timedelta(minutes=35)


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


def print_run_check(*, petition: Petition, design: str, code_level: str | None = None) -> None:
    """Raise ValidationError if this petition cannot have this print run now."""
    if petition.status != Petition.Status.PUBLISHED:
        raise ValidationError(_("Flyers and codes can be made only while the petition is open."))
    level = code_level or DESIGNS[design].code_level
    if level and level not in petition.levels:
        raise ValidationError(
            _("This petition does not take the codes this design prints."), code="level"
        )


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
) -> PrintRun:
    """Record a print run and start it: in this process if it is short, else in the
    worker (after commit). The codes are made by whoever renders, never sent anywhere."""
    print_run_check(petition=petition, design=design, code_level=code_level)
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
    _start(run)
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


def _start(run: PrintRun) -> None:
    from .tasks import print_run_render

    if run.pages_total <= INLINE_SHEETS:
        # Short runs: made right here, so the page that follows can offer the download.
        print_run_execute(run_id=run.pk)
    else:
        print_run_render.delay_on_commit(str(run.pk))


def print_run_retry(*, run: PrintRun) -> bool:
    """Start a failed run again, with fresh codes (the failed run's were revoked)."""
    with transaction.atomic():
        retried = PrintRun.objects.filter(pk=run.pk, status=PrintRun.Status.FAILED).update(
            status=PrintRun.Status.PENDING,
            error="",
            pages_done=0,
            expires_at=timezone.now() + timedelta(hours=settings.COUNTERSIGN_PRINT_FILE_HOURS),
        )
        if retried:
            _start(run)
    return bool(retried)


def _failure_message(exc: BaseException) -> str:
    if isinstance(exc, ValidationError):
        return " ".join(exc.messages)[:300]
    if isinstance(exc, PDFLibrariesMissing):
        return _("The server cannot make PDFs: its PDF libraries are missing. Tell the admin.")
    if type(exc).__name__ == "SoftTimeLimitExceeded":
        return _("Making the PDF took too long. Try fewer copies, or try again.")
    return _("Something went wrong while making the PDF. Try again.")


def print_run_execute(*, run_id: UUID | str) -> bool:
    """Make the codes (if the design carries any) and the PDF of one run. Idempotent: only
    the caller that claims the run (pending, or running but abandoned) does the work."""
    now = timezone.now()
    claimed = PrintRun.objects.filter(
        Q(status=PrintRun.Status.PENDING)
        | Q(status=PrintRun.Status.RUNNING, started_at__lt=now - STALE_RUN),
        pk=run_id,
    ).update(status=PrintRun.Status.RUNNING, started_at=now, pages_done=0)
    if not claimed:
        return False
    run = PrintRun.objects.select_related("petition", "flyer_batch", "code_batch").get(pk=run_id)
    _revoke_codes_of(run)  # an abandoned attempt's codes were never printed
    try:
        _render(run)
    except Exception as exc:
        _revoke_codes_of(run)
        PrintRun.objects.filter(pk=run.pk).update(
            status=PrintRun.Status.FAILED, error=_failure_message(exc)
        )
        if not isinstance(exc, ValidationError):
            logger.exception("print run %s failed", run.pk)
        # Not re-raised: the run now says why it failed, and its page offers a retry.
        return False
    return True


def _revoke_codes_of(run: PrintRun) -> None:
    if run.code_batch_id is not None:
        code_batch_revoke(batch=CodeBatch.objects.get(pk=run.code_batch_id))


def _render(run: PrintRun) -> None:
    petition = run.petition
    design = DESIGNS[run.design]
    codes: list[str] = []
    key_prefix = ""
    needed = codes_needed(design, run.copies)
    if needed:
        print_run_check(petition=petition, design=run.design, code_level=run.code_level)
        batch, codes = code_batch_create(
            petition=petition,
            level=run.code_level,
            size=needed,
            actor=run.created_by,
            label=run.code_label or str(design.label),
            expires_at=run.code_expires_at,
        )
        run.code_batch = batch
        PrintRun.objects.filter(pk=run.pk).update(code_batch=batch)
        key_prefix = key_id_prefix(bytes(petition.keys.get(level=run.code_level).key_id))

    def progress(done: int, total: int) -> None:
        PrintRun.objects.filter(pk=run.pk).update(pages_done=min(done, run.pages_total))

    with tempfile.TemporaryFile() as out:
        flyer_pdf(
            petition=petition,
            design=run.design,
            paper=run.paper,
            copies=run.copies,
            text=FlyerText(**run.text),
            out=out,
            target_url=petition_target_url(petition, run.flyer_batch),
            codes=codes,
            key_prefix=key_prefix,
            code_level=run.code_level,
            on_progress=progress,
        )
        out.seek(0)
        run.file.save(f"{run.design}-{run.paper}-{run.pk.hex[:8]}.pdf", File(out), save=False)
    PrintRun.objects.filter(pk=run.pk).update(
        file=run.file.name, status=PrintRun.Status.DONE, pages_done=run.pages_total
    )


def print_runs_expire() -> int:
    """Delete the expired PDFs and their runs. Returns how many."""
    expired = list(PrintRun.objects.filter(expires_at__lt=timezone.now()))
    for run in expired:
        if run.file:
            run.file.delete(save=False)
        run.delete()
    return len(expired)
