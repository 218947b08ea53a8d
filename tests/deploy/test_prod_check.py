"""`make prod-check` inside `make test`: scripts/prod_check.py starts the production stack
on loopback (Caddy with its internal CA, gunicorn, a Celery worker and beat, PostgreSQL, a
private Redis, an SMTP sink), signs through the proxy in Chromium, waits for the batch, the
milestone mail and a print run, and stops it all. One process, as an operator runs it, so
that what `make test` checks is the command the docs name, not a copy of it."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest

ROOT = Path(__file__).resolve().parents[2]

pytestmark = [pytest.mark.worker, pytest.mark.browser]


def prod_check(*args: str, timeout: float) -> tuple[int, str, str]:
    result = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "prod_check.py"), *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    return result.returncode, result.stdout, result.stderr


def scratch_database_exists() -> bool:
    with psycopg.connect("postgres://postgres@127.0.0.1:5432/postgres") as conn:
        row = conn.execute(
            "SELECT 1 FROM pg_database WHERE datname = 'countersign_prodcheck'"
        ).fetchone()
    return row is not None


def test_the_production_stack_signs_publishes_mails_and_prints_then_stops():
    status, out, err = prod_check("--timeout", "600", timeout=660)
    assert status == 0, out + err
    assert "PROD-CHECK OK" in out, out + err
    for step in (
        "signed in Chromium through Caddy",
        "published by beat",
        "milestone mail arrived",
        "print run made on the worker",
        "/healthz through Caddy",
    ):
        assert step in out, out + err
    # Everything stopped and removed: the scratch folder (named only on failure or --keep)
    # and the scratch database.
    assert "logs: " not in err
    assert not scratch_database_exists()


def test_a_run_cut_short_fails_and_still_cleans_up(tmp_path):
    """The control: a check that cannot finish says so, exits 1 and leaves nothing."""
    status, out, err = prod_check("--timeout", "8", timeout=120)
    assert status == 1, out + err
    assert "PROD-CHECK FAILED: the check ran past --timeout 8 s" in err
    assert "PROD-CHECK OK" not in out
    assert not scratch_database_exists()
    # A failed run keeps its logs for whoever reads the failure; this one is expected.
    logs = err.rsplit("logs: ", 1)[1].strip()
    assert Path(logs).name.startswith("countersign-prodcheck-")
    shutil.rmtree(logs)
