"""Celery tasks for print runs. They take a run id (and a chunk's index); the codes are
derived inside the process that renders them (chunks.py), so they never travel through the
broker."""

from __future__ import annotations

from celery import shared_task
from django.db import OperationalError

from . import chunks, runs


@shared_task(autoretry_for=(OperationalError,), retry_backoff=True, max_retries=5)
def print_run_render(run_id: str) -> bool:
    """Start a run: make its codes, split it into chunks, send them (the name it had when
    one task made the whole PDF, so that tasks queued before an upgrade still run)."""
    return chunks.chunks_prepare(run_id=run_id, send_chunk=_send_chunk)


@shared_task(
    autoretry_for=(OperationalError,),
    retry_backoff=True,
    max_retries=5,
    # 25 tear-off pages take about 10 s on a quiet core; room for a loaded machine. The hard
    # limit stays below COUNTERSIGN_PRINT_CHUNK_STALE_SECONDS, so a claim found stale is
    # one no worker still holds.
    soft_time_limit=240,
    time_limit=300,
)
def print_run_chunk(run_id: str, index: int) -> bool:
    return chunks.chunk_render(run_id=run_id, index=index, send_join=_send_join)


@shared_task(
    autoretry_for=(OperationalError,),
    retry_backoff=True,
    max_retries=5,
    soft_time_limit=600,
    time_limit=660,
)
def print_run_join(run_id: str) -> bool:
    return chunks.run_join(run_id=run_id)


@shared_task(autoretry_for=(OperationalError,), retry_backoff=True, max_retries=5)
def print_runs_expire() -> int:
    return runs.print_runs_expire()


@shared_task(autoretry_for=(OperationalError,), retry_backoff=True, max_retries=5)
def print_runs_sweep() -> int:
    return chunks.print_runs_sweep(send_chunk=_send_chunk, send_join=_send_join)


def _send_chunk(run_id: str, index: int) -> None:
    chunks.enqueue(print_run_chunk, run_id, index)


def _send_join(run_id: str) -> None:
    chunks.enqueue(print_run_join, run_id)
