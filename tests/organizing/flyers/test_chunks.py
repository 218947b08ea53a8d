"""The invariants of chunked print runs, in-process (the real worker's kill test is in
tests/integration/test_print_runs.py): codes derived once from the run's seed, a chunk
claimed once, a stale claim taken over and the loser's file dropped, the join sent once."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.files.storage import default_storage
from django.utils import timezone

from organizing.flyers import chunks
from organizing.flyers.rendering import default_text
from organizing.flyers.services import _run_create
from organizing.models import PrintRun, PrintRunChunk
from petition.codes import CODE_ALPHABET, code_hash, normalize_code
from petition.models import CodeBatch, SigningCode

pytestmark = pytest.mark.django_db


def test_derived_codes_are_stable_distinct_and_in_the_printed_alphabet():
    codes = chunks.DerivedCodes(b"s" * 32, 500)
    again = chunks.DerivedCodes(b"s" * 32, 500)
    other = chunks.DerivedCodes(b"t" * 32, 500)
    assert codes[10:20] == again[10:20] and codes[10:20] != other[10:20]
    assert codes[495:600] == [codes[i] for i in range(495, 500)]  # clamped like a list
    raw = [normalize_code(c) for c in codes[0:500]]
    assert len(set(raw)) == 500
    assert all(len(c) == 10 and set(c) <= set(CODE_ALPHABET) for c in raw)
    with pytest.raises(IndexError):
        codes[500]


def run_of(petition, organizer, copies: int) -> PrintRun:
    return _run_create(
        petition=petition,
        batch=None,
        design="tearoff",
        paper="a4",
        copies=copies,
        code_level="flyer",
        code_label="",
        text=default_text(petition),
        created_by=organizer,
    )


def test_a_run_is_split_once_with_one_batch_and_a_chunk_counted_once(organizer, open_petition):
    run = run_of(open_petition, organizer, copies=30)
    sent: list = []
    assert chunks.chunks_prepare(run_id=run.pk, send_chunk=lambda *a: sent.append(a))
    assert chunks.chunks_prepare(run_id=run.pk, send_chunk=lambda *a: sent.append(a)) is False
    run.refresh_from_db()
    assert run.chunks_total == 2 and len(sent) == 2 and run.code_seed
    assert [(c.first_sheet, c.sheet_count) for c in run.chunks.all()] == [(0, 25), (25, 5)]
    batch = CodeBatch.objects.get()
    assert batch.size == 300 and SigningCode.objects.count() == 300
    # The batch holds exactly the codes the chunks will derive from the seed.
    derived = chunks.DerivedCodes(chunks._seed_of(run), 300)
    stored = {bytes(h) for h in SigningCode.objects.values_list("code_hash", flat=True)}
    assert {code_hash(c) for c in derived[0:300]} == stored

    joins: list = []
    assert chunks.chunk_render(run_id=run.pk, index=1, send_join=joins.append)
    assert chunks.chunk_render(run_id=run.pk, index=1, send_join=joins.append) is False
    run.refresh_from_db()
    assert (run.chunks_done, run.pages_done, joins) == (1, 5, [])
    assert chunks.chunk_render(run_id=run.pk, index=0, send_join=joins.append)
    assert joins == [str(run.pk)]  # the last chunk, and only it, sends the join
    files = list(PrintRunChunk.objects.values_list("file", flat=True))
    assert chunks.run_join(run_id=run.pk) and chunks.run_join(run_id=run.pk) is False
    run.refresh_from_db()
    assert (run.status, run.pages_done, run.code_seed) == ("done", 30, None)
    assert not PrintRunChunk.objects.exists()
    assert not any(default_storage.exists(name) for name in files)


def test_a_stale_claim_is_taken_over_and_the_first_worker_cannot_count_it(
    organizer, open_petition, monkeypatch
):
    run = run_of(open_petition, organizer, copies=11)
    chunks.chunks_prepare(run_id=run.pk, send_chunk=lambda *a: None)
    real = chunks._render_chunk
    taken_over = []

    def slow_first_worker(run, chunk):
        name = real(run, chunk)
        if not taken_over:
            # While this worker renders, its claim goes stale and another worker takes it.
            PrintRunChunk.objects.filter(pk=chunk.pk).update(
                claimed_at=timezone.now() - timedelta(hours=1)
            )
            taken_over.append(name)
            assert chunks.chunk_render(run_id=run.pk, index=0, send_join=lambda _id: None)
        return name

    monkeypatch.setattr(chunks, "_render_chunk", slow_first_worker)
    assert chunks.chunk_render(run_id=run.pk, index=0, send_join=lambda _id: None) is False
    run.refresh_from_db()
    assert (run.chunks_done, run.pages_done) == (1, 11)  # counted once
    chunk = PrintRunChunk.objects.get()
    assert chunk.file.name != taken_over[0] and not default_storage.exists(taken_over[0])
    assert default_storage.exists(chunk.file.name)


def test_the_sweep_sends_stale_and_lost_chunks_and_unjoined_runs_again(organizer, open_petition):
    run = run_of(open_petition, organizer, copies=60)
    chunks.chunks_prepare(run_id=run.pk, send_chunk=lambda *a: None)
    long_ago = timezone.now() - timedelta(hours=1)
    PrintRun.objects.filter(pk=run.pk).update(started_at=long_ago)
    fresh = timezone.now()
    PrintRunChunk.objects.filter(index=0).update(
        status="running", attempt="00000000-0000-0000-0000-000000000001", claimed_at=long_ago
    )
    PrintRunChunk.objects.filter(index=1).update(
        status="running", attempt="00000000-0000-0000-0000-000000000002", claimed_at=fresh
    )
    sent_chunks, sent_joins = [], []
    resent = chunks.chunks_resend(
        send_chunk=lambda *a: sent_chunks.append(a), send_join=sent_joins.append
    )
    # The stale claim and the chunk still waiting an hour after the split; not the live one.
    assert sorted(sent_chunks) == [(str(run.pk), 0), (str(run.pk), 2)] and resent == 2
    assert sent_joins == []
    # Still moving (a chunk claimed just now): not given up although it started long ago.
    assert chunks.print_runs_sweep(send_chunk=lambda *a: None, send_join=lambda _id: None) == 0
    run.refresh_from_db()
    assert run.status == "running"
