"""Celery tasks for print runs. They take a run id; the codes are made inside the task (the
process that renders them), so they never travel through the broker."""

from __future__ import annotations

from celery import shared_task
from django.db import OperationalError

from . import runs


@shared_task(
    autoretry_for=(OperationalError,),
    retry_backoff=True,
    retry_backoff_max=300,
    max_retries=5,
    # 500 tear-off posters (5,000 codes) take minutes, not the default two.
    soft_time_limit=1800,
    time_limit=1900,
)
def print_run_render(run_id: str) -> bool:
    return runs.print_run_execute(run_id=run_id)


@shared_task(autoretry_for=(OperationalError,), retry_backoff=True, max_retries=5)
def print_runs_expire() -> int:
    return runs.print_runs_expire()


@shared_task(autoretry_for=(OperationalError,), retry_backoff=True, max_retries=5)
def print_runs_sweep() -> int:
    return runs.print_runs_sweep()
