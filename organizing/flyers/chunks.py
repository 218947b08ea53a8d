"""Print runs made by the workers, in chunks that any number of workers render at once.

    print_run_render(run)  ->  chunks_prepare: claim the run, make its whole code batch,
                                 record its chunks, send one task per chunk
    print_run_chunk(run, i) -> chunk_render: claim chunk i, render its sheets to a PDF file
                                 of its own; the chunk that makes the done counter reach
                                 the total sends the join
    print_run_join(run)     -> run_join: join the chunk files in order into the run's
                                 file (pdfjoin.StreamingPdfJoiner), mark the run done

The database keeps the invariants: one row per (run, index); a chunk is claimed by a
conditional update (pending, or claimed longer ago than chunk_stale_after(): its worker died), and
only the holder of the current claim (its `attempt` token) can mark it done; the done
counter is raised in the same transaction, and the one transaction that raises it to the
total sends the join. A chunk rendered twice (its first worker was killed, or only
seemed dead) is counted once: the loser's file is deleted.

Codes: the batch is made once, up front, with every code of the run (so a batch is what the
organizer sees, approves and revokes). The codes are derived from 32 random bytes, the run's
seed, which the database holds only as a Fernet token under the key-encryption key and which
is erased when the run ends; each chunk derives the codes of its own sheets. Tasks carry ids
only, so no code ever goes through the broker, and a chunk rendered again prints the same
codes, never new ones. Whoever holds both the database and the key-encryption key during a
run could derive its codes; they could sign with the petition's private keys anyway.

Lost work is found again by the sweep on beat (runs.print_runs_sweep): stale claims and
pending chunks are sent again, a run whose chunks are all done but which was not joined is
joined, and a run with no sign of life for STALE_RUN is given up (its codes revoked).
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
import tempfile
import uuid
from collections.abc import Sequence
from datetime import timedelta
from uuid import UUID

from django.conf import settings
from django.core.files import File
from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from config.background import enqueue_on_commit
from petition.codes import CODE_ALPHABET, CODE_LENGTH, code_batch_create, format_code
from petition.keys import fernet, key_id_prefix

from ..models import PrintRun, PrintRunChunk
from .designs import DESIGNS, codes_needed
from .pdfjoin import StreamingPdfJoiner
from .rendering import CHUNK_SHEETS, FlyerText, flyer_pdf, petition_target_url
from .rules import print_run_check
from .runs import STALE_RUN, chunks_discard, print_run_fail, print_runs_give_up

logger = logging.getLogger(__name__)

# Sheets per chunk task: one WeasyPrint document (rendering.CHUNK_SHEETS), a few seconds
# of work, so that 1,000 pages make 40 tasks to share between workers.
SHEETS_PER_CHUNK = CHUNK_SHEETS
SEED_PURPOSE = b"print-run-seed"


def chunk_stale_after() -> timedelta:
    """A claim older than this lost its worker: longer than the chunk task's hard time
    limit (tasks.print_run_chunk), so no worker is still rendering it."""
    return timedelta(seconds=settings.COUNTERSIGN_PRINT_CHUNK_STALE_SECONDS)


class DerivedCodes(Sequence):
    """The `size` codes of a run, derived on demand from its seed: code i is the first 50
    bits of HMAC-SHA256(seed, i), in the printed alphabet. Sliced by build_sheets, so a
    chunk derives only the codes of its own sheets."""

    def __init__(self, seed: bytes, size: int):
        self._seed, self._size = seed, size

    def __len__(self) -> int:
        return self._size

    def raw(self, index: int) -> str:
        digest = hmac.new(self._seed, index.to_bytes(8, "big"), hashlib.sha256).digest()
        value = int.from_bytes(digest[:8], "big") >> (64 - 5 * CODE_LENGTH)
        return "".join(
            CODE_ALPHABET[(value >> (5 * (CODE_LENGTH - 1 - n))) & 31] for n in range(CODE_LENGTH)
        )

    def __getitem__(self, item):
        if isinstance(item, slice):
            return [format_code(self.raw(i)) for i in range(*item.indices(self._size))]
        if not -self._size <= item < self._size:
            raise IndexError(item)
        return format_code(self.raw(item % self._size))


def _seed_of(run: PrintRun) -> bytes:
    return fernet(SEED_PURPOSE).decrypt(bytes(run.code_seed))


def chunks_prepare(*, run_id: UUID | str, send_chunk) -> bool:
    """Claim a waiting run (or one abandoned before it was split), make its codes, record
    its chunks and send them (after commit). `send_chunk(run_id, index)` sends one chunk
    task. Idempotent: only the claimer works."""
    now = timezone.now()
    claimed = PrintRun.objects.filter(
        Q(status=PrintRun.Status.PENDING)
        | Q(status=PrintRun.Status.RUNNING, chunks_total=0, started_at__lt=now - STALE_RUN),
        pk=run_id,
    ).update(
        status=PrintRun.Status.RUNNING,
        started_at=now,
        pages_done=0,
        chunks_done=0,
        chunks_total=0,
        code_seed=None,
    )
    if not claimed:
        return False
    run = PrintRun.objects.select_related("petition", "code_batch").get(pk=run_id)
    chunks_discard(run)  # what an earlier attempt left, if any
    try:
        with transaction.atomic():
            seed = b""
            design = DESIGNS[run.design]
            needed = codes_needed(design, run.copies)
            fields: dict = {}
            if needed:
                print_run_check(petition=run.petition, design=run.design, code_level=run.code_level)
                seed = secrets.token_bytes(32)
                derived = DerivedCodes(seed, needed)
                batch, _codes = code_batch_create(
                    petition=run.petition,
                    level=run.code_level,
                    size=needed,
                    actor=run.created_by,
                    label=run.code_label or str(design.label),
                    expires_at=run.code_expires_at,
                    codes=[derived.raw(i) for i in range(needed)],
                )
                fields = {"code_batch": batch, "code_seed": fernet(SEED_PURPOSE).encrypt(seed)}
            starts = range(0, run.pages_total, SHEETS_PER_CHUNK)
            PrintRunChunk.objects.bulk_create(
                PrintRunChunk(
                    run=run,
                    index=index,
                    first_sheet=first,
                    sheet_count=min(SHEETS_PER_CHUNK, run.pages_total - first),
                )
                for index, first in enumerate(starts)
            )
            PrintRun.objects.filter(pk=run.pk).update(chunks_total=len(starts), **fields)
            for index in range(len(starts)):
                send_chunk(str(run.pk), index)
    except Exception as exc:
        print_run_fail(run, exc)
        return False
    return True


def chunk_render(*, run_id: UUID | str, index: int, send_join) -> bool:
    """Claim chunk `index` of a running run and render its sheets to a file of its own.
    Returns True if this call rendered and counted it."""
    now = timezone.now()
    attempt = uuid.uuid4()
    claimed = PrintRunChunk.objects.filter(
        Q(status=PrintRunChunk.Status.PENDING)
        | Q(status=PrintRunChunk.Status.RUNNING, claimed_at__lt=now - chunk_stale_after()),
        run_id=run_id,
        index=index,
        run__status=PrintRun.Status.RUNNING,
    ).update(status=PrintRunChunk.Status.RUNNING, attempt=attempt, claimed_at=now)
    if not claimed:
        return False
    run = PrintRun.objects.select_related("petition", "flyer_batch").get(pk=run_id)
    chunk = PrintRunChunk.objects.get(run_id=run_id, index=index)
    try:
        name = _render_chunk(run, chunk)
    except Exception as exc:
        print_run_fail(run, exc)
        return False
    if not _count(run, chunk, attempt, name, send_join):
        # Claimed again by another worker meanwhile (this one looked dead), or the run was
        # given up: that file is not this chunk's any more.
        default_storage.delete(name)
        return False
    return True


def _count(run: PrintRun, chunk: PrintRunChunk, attempt: uuid.UUID, name: str, send_join) -> bool:
    """Mark the chunk done and raise the run's counters, in one transaction, if this
    attempt still holds the claim and the run is still the attempt that split it."""
    with transaction.atomic():
        counted = PrintRunChunk.objects.filter(
            pk=chunk.pk, status=PrintRunChunk.Status.RUNNING, attempt=attempt
        ).update(status=PrintRunChunk.Status.DONE, file=name, finished_at=timezone.now())
        if counted:
            counted = PrintRun.objects.filter(
                pk=run.pk, status=PrintRun.Status.RUNNING, started_at=run.started_at
            ).update(
                chunks_done=F("chunks_done") + 1, pages_done=F("pages_done") + chunk.sheet_count
            )
        if not counted:
            transaction.set_rollback(True)
            return False
        # Our UPDATE holds the run's row lock until commit, so this reads the counter as
        # this transaction left it: exactly one chunk sees it reach the total.
        done, total = PrintRun.objects.filter(pk=run.pk).values_list("chunks_done", "chunks_total")[
            0
        ]
        if done == total:
            send_join(str(run.pk))
    return True


def _render_chunk(run: PrintRun, chunk: PrintRunChunk) -> str:
    petition = run.petition
    design = DESIGNS[run.design]
    needed = codes_needed(design, run.copies)
    codes: Sequence[str] = ()
    key_prefix = ""
    if needed:
        codes = DerivedCodes(_seed_of(run), needed)
        key_prefix = key_id_prefix(bytes(petition.keys.get(level=run.code_level).key_id))
    with tempfile.TemporaryFile() as out:
        flyer_pdf(
            petition=petition,
            design=run.design,
            paper=run.paper,
            copies=run.copies,
            text=FlyerText.from_dict(run.text),
            out=out,
            target_url=petition_target_url(petition, run.flyer_batch),
            codes=codes,
            key_prefix=key_prefix,
            code_level=run.code_level,
            first_sheet=chunk.first_sheet,
            sheet_count=chunk.sheet_count,
        )
        out.seek(0)
        # A name of its own per attempt: two workers rendering the same chunk (one thought
        # dead) never write into the same file.
        name = f"prints/chunks/{run.pk.hex}-{chunk.index:04d}-{uuid.uuid4().hex[:8]}.pdf"
        return default_storage.save(name, File(out))


def run_join(*, run_id: UUID | str) -> bool:
    """Join the chunk files of a run whose chunks are all done, in order, into its file,
    and mark it done. Sent again by the sweep if it was lost; a second join that finds the
    run done (or loses the race) leaves no file behind."""
    run = PrintRun.objects.select_related("petition", "flyer_batch").get(pk=run_id)
    if run.status != PrintRun.Status.RUNNING or run.chunks_done < run.chunks_total:
        return False
    chunks = list(run.chunks.order_by("index"))
    if len(chunks) != run.chunks_total or any(
        c.status != PrintRunChunk.Status.DONE for c in chunks
    ):
        return False
    try:
        with tempfile.TemporaryFile() as out:
            joiner = StreamingPdfJoiner(out)
            for chunk in chunks:
                with default_storage.open(chunk.file.name, "rb") as part:
                    joiner.append(part)
            joiner.close()
            if joiner.page_count != run.pages_total:
                raise RuntimeError(f"joined {joiner.page_count} pages, expected {run.pages_total}")
            out.seek(0)
            run.file.save(f"{run.design}-{run.paper}-{run.pk.hex[:8]}.pdf", File(out), save=False)
    except Exception as exc:
        if run.file:
            run.file.delete(save=False)
        print_run_fail(run, exc)
        return False
    finished = PrintRun.objects.filter(
        pk=run.pk,
        status=PrintRun.Status.RUNNING,
        started_at=run.started_at,
        chunks_done=F("chunks_total"),
    ).update(
        file=run.file.name,
        status=PrintRun.Status.DONE,
        pages_done=run.pages_total,
        code_seed=None,
    )
    if not finished:
        run.file.delete(save=False)
        return False
    chunks_discard(run)
    return True


def chunks_resend(*, send_chunk, send_join) -> int:
    """Send again what a killed worker or a lost message left undone (the sweep): chunks
    claimed longer ago than the stale window, chunks still waiting that long after their
    run was split, and joins of runs whose chunks are all done that long ago. Duplicates
    are harmless: a chunk is claimed once, a join finishes a run once. Returns how many."""
    cutoff = timezone.now() - chunk_stale_after()
    running = PrintRun.objects.filter(status=PrintRun.Status.RUNNING, chunks_total__gt=0)
    lost = PrintRunChunk.objects.filter(run__in=running).filter(
        Q(status=PrintRunChunk.Status.RUNNING, claimed_at__lt=cutoff)
        | Q(status=PrintRunChunk.Status.PENDING, run__started_at__lt=cutoff)
    )
    sent = 0
    for run_id, index in lost.values_list("run_id", "index"):
        send_chunk(str(run_id), index)
        sent += 1
    unjoined = running.filter(chunks_done=F("chunks_total")).exclude(
        chunks__finished_at__gte=cutoff
    )
    for run_id in unjoined.values_list("pk", flat=True).distinct():
        send_join(str(run_id))
        sent += 1
    return sent


def print_runs_sweep(*, send_chunk, send_join) -> int:
    """The beat task: send again what was lost (chunks_resend), then give up the runs with
    no sign of life for STALE_RUN. Returns how many runs were given up."""
    resent = chunks_resend(send_chunk=send_chunk, send_join=send_join)
    if resent:
        logger.warning("print runs: sent %d lost chunk or join tasks again", resent)
    return print_runs_give_up()


def enqueue(task, *args) -> None:
    """Send after commit; if the broker is down, log and carry on: the sweep finds the
    chunk still waiting, or the run unjoined, and sends it again (chunks_resend)."""
    enqueue_on_commit(task, *args)
