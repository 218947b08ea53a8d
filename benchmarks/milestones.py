"""Milestone latency: from the commit of the publication batch that crosses a threshold to
the email arriving at an SMTP server, through a real Celery worker process and Redis.

    .venv/bin/python benchmarks/milestones.py [--milestones 100] [--timeout 20]

Baseline, same run, same worker and SMTP server: a plain mail task (the staff invitation),
from the commit that enqueues it to its arrival. The ratio says what the outbox (check task,
notice and delivery rows, claim, send, mark sent) costs over the simplest mail task.

Creates and drops a scratch database `countersign_bench_milestones`; the worker listens on a
private queue of the local Redis (db 12). Bounded: --timeout seconds per mail.
"""

from __future__ import annotations

import argparse
import logging
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from _stack import ROOT, bench_petition, free_port, scratch_database

DB = "countersign_bench_milestones"
BROKER = "redis://127.0.0.1:6379/12"


class Arrivals:
    """aiosmtpd handler: records when each message arrives (this process's clock)."""

    def __init__(self):
        self.times: list[float] = []
        self.event = threading.Event()

    async def handle_DATA(self, server, session, envelope):
        self.times.append(time.perf_counter())
        self.event.set()
        return "250 OK"

    def wait_next(self, count: int, timeout: float) -> float:
        deadline = time.monotonic() + timeout
        while len(self.times) < count:
            if time.monotonic() > deadline:
                raise TimeoutError(f"mail {count} did not arrive within {timeout}s")
            self.event.wait(0.01)
            self.event.clear()
        return self.times[count - 1]


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))
    return ordered[index]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--milestones", type=int, default=100)
    parser.add_argument("--timeout", type=float, default=20)
    args = parser.parse_args()

    from aiosmtpd.controller import Controller

    arrivals = Arrivals()
    smtp_port = free_port()
    logging.getLogger("mail.log").setLevel(logging.WARNING)
    smtp = Controller(arrivals, hostname="127.0.0.1", port=smtp_port)
    smtp.start()
    queue = f"countersign-bench-{uuid.uuid4().hex[:8]}"
    settings = {
        "REDIS_URL": BROKER,
        "CELERY_TASK_ALWAYS_EAGER": "0",
        "CELERY_TASK_DEFAULT_QUEUE": queue,
        "EMAIL_URL": f"smtp://127.0.0.1:{smtp_port}",
        "COUNTERSIGN_KEY_BITS": "2048",
        # A batch per signature (one milestone each) is below the safe floor on purpose.
        "COUNTERSIGN_ALLOW_UNSAFE_PUBLICATION": "1",
    }
    try:
        with scratch_database(DB, settings) as env, celery_worker(env, queue):
            _run(args, arrivals)
    finally:
        smtp.stop()


@contextmanager
def celery_worker(env: dict[str, str], queue: str) -> Iterator[None]:
    """One real worker process (solo pool) on a private queue; its log in a temp file."""
    log = Path(tempfile.gettempdir()) / f"{queue}.log"
    with log.open("w") as out:
        worker = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "config",
                "worker",
                "--pool=solo",
                "-Q",
                queue,
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
                "-l",
                "WARNING",
            ],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        yield
    finally:
        worker.terminate()
        worker.wait(timeout=20)


def _run(args, arrivals: Arrivals) -> None:
    from django.db import transaction
    from django.utils import timezone

    from organizing.models import Membership, MilestonePlan, Role, User
    from organizing.services import invitation_create
    from petition import sealing
    from petition.publication import petition_publish_pending

    # Each signature its own batch: one milestone per batch to measure.
    petition = bench_petition(goal=10_000_000, publish_interval=0, publish_min_batch=1)
    user = User.objects.create_user(email="organizer@bench.example")
    Membership.objects.create(user=user, campaign=petition.campaign, role=Role.ORGANIZER)
    MilestonePlan.objects.create(
        petition=petition,
        use_default_ladder=False,
        use_goal_percentages=False,
        extra_thresholds=list(range(1, args.milestones + 1)),
    )
    key = petition.keys.get()

    def batch_commit() -> float:
        """One signature waits, then a publication batch moves it into the published
        counts (petition.publication); returns the time that batch committed."""
        entry = {
            "level": key.level,
            "key_id": key.pk,
            "nullifier": os.urandom(32),
            "msg": b"m",
            "sig": b"s",
            "display_name": "",
            "comment": "",
        }
        sealing.window_key_current(petition, key.level)
        with transaction.atomic():
            assert sealing.pending_signature_seal(
                petition=petition, entry=entry, received_on=timezone.localdate()
            )
        stamp = []
        with transaction.atomic():
            # Registered before the batch's own on_commit (which sends counts_published),
            # so it stamps the commit itself.
            transaction.on_commit(lambda: stamp.append(time.perf_counter()))
            batches = petition_publish_pending(petition_id=petition.pk)
        assert len(batches) == 1
        return stamp[0]

    def invitation_commit(i: int) -> float:
        stamp = []
        with transaction.atomic():
            # Registered first, so it runs right after the commit, before the enqueue.
            transaction.on_commit(lambda: stamp.append(time.perf_counter()))
            invitation_create(
                email=f"n{i}@bench.example",
                role=Role.MODERATOR,
                campaign=petition.campaign,
                invited_by=None,
            )
        return stamp[0]

    # Warm-up: the worker's first task pays for imports and connections.
    received = 0
    invitation_commit(-1)
    received += 1
    arrivals.wait_next(received, 60)

    baseline, milestone = [], []
    for i in range(args.milestones):
        started = invitation_commit(i)
        received += 1
        baseline.append(arrivals.wait_next(received, args.timeout) - started)
        started = batch_commit()
        received += 1
        milestone.append(arrivals.wait_next(received, args.timeout) - started)
    time.sleep(2)
    assert len(arrivals.times) == received, "a mail arrived twice"

    def line(name: str, values: list[float]) -> str:
        return (
            f"{name:<34} median {statistics.median(values) * 1000:7.1f} ms   "
            f"p95 {percentile(values, 0.95) * 1000:7.1f} ms   "
            f"max {max(values) * 1000:7.1f} ms"
        )

    print(f"{args.milestones} milestones, one worker (solo pool), Redis broker, SMTP on loopback")
    print(line("plain mail task (baseline)", baseline))
    print(line("milestone (commit -> mail)", milestone))
    print(
        "ratio milestone/baseline: median "
        f"{statistics.median(milestone) / statistics.median(baseline):.2f}, p95 "
        f"{percentile(milestone, 0.95) / percentile(baseline, 0.95):.2f}"
    )


if __name__ == "__main__":
    main()
