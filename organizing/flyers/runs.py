"""Making a print run's codes and PDF, and deleting expired ones: what the worker runs
(organizing/flyers/tasks.py) and what short runs do in the request (services)."""

from __future__ import annotations

import logging
import tempfile
from datetime import timedelta
from uuid import UUID

from django.core.exceptions import ValidationError
from django.core.files import File
from django.core.files.storage import default_storage
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from petition.codes import code_batch_create, code_batch_revoke
from petition.keys import key_id_prefix
from petition.models import CodeBatch

from ..models import PrintRun, PrintRunChunk
from .designs import DESIGNS, codes_needed
from .pdf import PDFLibrariesMissing
from .rendering import FlyerText, flyer_pdf, petition_target_url
from .rules import print_run_check

logger = logging.getLogger(__name__)

# A run still "running" after this long lost its worker: the task's hard time limit
# (tasks.print_run_render, 1,900 s) has passed, so no worker is still making it. A chunked
# run (chunks.py) counts from its last sign of life: the latest claim or end of a chunk.
STALE_RUN = timedelta(minutes=35)


class RunAbandoned(Exception):
    """The process making a run stopped (killed, out of memory, restarted) before it ended."""


def _failure_message(exc: BaseException) -> str:
    if isinstance(exc, ValidationError):
        return " ".join(exc.messages)[:300]
    if isinstance(exc, PDFLibrariesMissing):
        return _("The server cannot make PDFs: its PDF libraries are missing. Tell the admin.")
    if isinstance(exc, RunAbandoned):
        return _("The worker making this PDF stopped before it was done. Try again.")
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

    text = FlyerText.from_dict(run.text)
    with tempfile.TemporaryFile() as out:
        flyer_pdf(
            petition=petition,
            design=run.design,
            paper=run.paper,
            copies=run.copies,
            text=text,
            out=out,
            target_url=petition_target_url(petition, run.flyer_batch, text.language),
            codes=codes,
            key_prefix=key_prefix,
            code_level=run.code_level,
            on_progress=progress,
        )
        out.seek(0)
        run.file.save(f"{run.design}-{run.paper}-{run.pk.hex[:8]}.pdf", File(out), save=False)
    finished = PrintRun.objects.filter(
        pk=run.pk, status=PrintRun.Status.RUNNING, started_at=run.started_at
    ).update(file=run.file.name, status=PrintRun.Status.DONE, pages_done=run.pages_total)
    if not finished:
        # The sweep gave this attempt up (print_runs_sweep) while it was still going: its
        # codes are revoked, so its file must not be offered either.
        run.file.delete(save=False)


def print_run_fail(run: PrintRun, exc: BaseException) -> bool:
    """End the attempt the caller saw as failed, saying why: its codes are revoked (never
    printed), its seed and chunks deleted. Conditional on that attempt still running, so a
    chunk or join that fails after the run ended (a duplicate) changes nothing."""
    failed = PrintRun.objects.filter(
        pk=run.pk, status=PrintRun.Status.RUNNING, started_at=run.started_at
    ).update(status=PrintRun.Status.FAILED, error=_failure_message(exc), code_seed=None)
    if failed:
        run.refresh_from_db(fields=["code_batch"])
        _revoke_codes_of(run)
        chunks_discard(run)
        if not isinstance(exc, ValidationError):
            logger.error("print run %s failed", run.pk, exc_info=exc)
    return bool(failed)


def print_run_give_up(run: PrintRun) -> bool:
    """Mark a run whose worker died as failed (its page then offers "Try again") and revoke
    the codes that attempt made, which were never printed. Conditional on the attempt the
    caller saw, so a run claimed again meanwhile is left alone. True if it was given up."""
    given_up = PrintRun.objects.filter(
        pk=run.pk, status=PrintRun.Status.RUNNING, started_at=run.started_at
    ).update(status=PrintRun.Status.FAILED, error=_failure_message(RunAbandoned()), code_seed=None)
    if given_up:
        run.refresh_from_db(fields=["code_batch"])
        _revoke_codes_of(run)
        chunks_discard(run)
        logger.warning("print run %s gave up: its worker stopped", run.pk)
    return bool(given_up)


def _shows_life(run: PrintRun, since) -> bool:
    """True if a chunk of the run was claimed or finished after `since`: a long chunked run
    that is still moving is not abandoned, however long ago it started."""
    return PrintRunChunk.objects.filter(
        Q(claimed_at__gte=since) | Q(finished_at__gte=since), run_id=run.pk
    ).exists()


def print_run_is_stale(run: PrintRun) -> bool:
    since = timezone.now() - STALE_RUN
    return (
        run.status == PrintRun.Status.RUNNING
        and run.started_at is not None
        and run.started_at < since
        and not _shows_life(run, since)
    )


def print_runs_give_up() -> int:
    """Give up the runs left "running" by a worker that was killed: without this they
    would say "Being made" until they expire. Returns how many."""
    stale = PrintRun.objects.filter(
        status=PrintRun.Status.RUNNING, started_at__lt=timezone.now() - STALE_RUN
    )
    return sum(print_run_give_up(run) for run in stale if print_run_is_stale(run))


def chunks_discard(run: PrintRun) -> None:
    """Delete a run's chunk files and rows (joined, failed, given up or expired): the files
    hold codes in clear."""
    for name in (
        PrintRunChunk.objects.filter(run_id=run.pk).exclude(file="").values_list("file", flat=True)
    ):
        default_storage.delete(name)
    PrintRunChunk.objects.filter(run_id=run.pk).delete()


def print_run_delete(run: PrintRun) -> None:
    """Delete one run, its PDF and its chunks' files (expired, or found expired by a
    request)."""
    if run.file:
        run.file.delete(save=False)
    chunks_discard(run)
    PrintRun.objects.filter(pk=run.pk).delete()


def print_runs_expire() -> int:
    """Delete the expired PDFs and their runs. Returns how many."""
    expired = list(PrintRun.objects.filter(expires_at__lte=timezone.now()))
    for run in expired:
        print_run_delete(run)
    return len(expired)
