"""Print runs rendered by one Celery worker process, then by two: the wall time of the same
tear-off pages, and the ratio two/one (goal <= 0.6 on a 2-core machine).

    .venv/bin/python benchmarks/print_scale.py                # 1,000 pages: 2 runs of 500
    .venv/bin/python benchmarks/print_scale.py --pages 200    # quick

Real parts: a scratch PostgreSQL database `countersign_bench_print` (created, migrated and
dropped), Redis as the broker on a private queue (`--redis`, DB 6 by default), and
`celery worker --pool=prefork --concurrency=1` processes started here, which render the
runs' chunks (organizing/flyers/chunks.py) into a temporary media directory. A code batch
holds at most 5,000 codes, so 1,000 tear-off pages (10,000 codes) are two runs of 500
pages, sent together, as two organizers would. The clock starts when the runs are sent
(the workers are already up) and stops when both are done (joined, file stored).

The machine is shared: the load average before and after each phase is printed, and so is
the machine's own ceiling in the same run: the wall time of two processes each spinning the
same pure-Python loop, against one process spinning it twice as long (1.0 would mean the two
processes had no second core at all, 0.5 two free cores). The print ratio cannot beat it.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

from _stack import ROOT, bench_petition, scratch_database

DB = "countersign_bench_print"
PAGES_PER_RUN = 500  # CODE_BATCH_MAX_SIZE (5,000) / 10 tabs a page


def _spin(count: int) -> None:
    total = 0
    for i in range(count):
        total += i


def ceiling(loops: int = 40_000_000) -> float:
    """Wall time of two processes spinning `loops` each, over one process spinning 2x."""

    def wall(processes: list[multiprocessing.Process]) -> float:
        start = time.monotonic()
        for process in processes:
            process.start()
        for process in processes:
            process.join()
        return time.monotonic() - start

    one = wall([multiprocessing.Process(target=_spin, args=(2 * loops,))])
    two = wall([multiprocessing.Process(target=_spin, args=(loops,)) for _ in range(2)])
    return two / one


def start_workers(env: dict[str, str], count: int, log_dir: Path) -> list[subprocess.Popen]:
    workers = []
    for n in range(count):
        log = (log_dir / f"worker-{count}-{n}.log").open("w")
        workers.append(
            subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "celery",
                    "-A",
                    "config",
                    "worker",
                    "--pool=prefork",
                    "--concurrency=1",
                    "-Q",
                    env["CELERY_TASK_DEFAULT_QUEUE"],
                    "-n",
                    f"bench{n}-{uuid.uuid4().hex[:6]}@%h",
                    "--without-gossip",
                    "--without-mingle",
                    "--without-heartbeat",
                    "-l",
                    "INFO",
                ],
                cwd=ROOT,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        )
    deadline = time.monotonic() + 120
    for n in range(count):
        path = log_dir / f"worker-{count}-{n}.log"
        while "ready." not in path.read_text():
            if time.monotonic() > deadline or workers[n].poll() is not None:
                stop_workers(workers)
                raise RuntimeError(f"worker did not start:\n{path.read_text()}")
            time.sleep(0.2)
    return workers


def stop_workers(workers: list[subprocess.Popen]) -> None:
    for worker in workers:
        if worker.poll() is None:
            worker.terminate()
    for worker in workers:
        try:
            worker.wait(timeout=30)
        except subprocess.TimeoutExpired:
            worker.kill()
            worker.wait(timeout=10)


def phase(env, petition, pages: int, workers: int, log_dir: Path, timeout: float) -> dict:
    from organizing.flyers.rendering import default_text
    from organizing.flyers.services import print_run_create
    from organizing.models import PrintRun

    processes = start_workers(env, workers, log_dir)
    try:
        load_before = os.getloadavg()
        start = time.monotonic()
        runs = []
        left = pages
        while left:
            copies = min(PAGES_PER_RUN, left)
            runs.append(
                print_run_create(
                    petition=petition,
                    design="tearoff",
                    paper="letter",
                    copies=copies,
                    text=default_text(petition),
                    code_level="flyer",
                ).pk
            )
            left -= copies
        deadline = start + timeout
        while True:
            states = list(PrintRun.objects.filter(pk__in=runs).values_list("status", flat=True))
            if all(state in ("done", "failed") for state in states):
                break
            if time.monotonic() > deadline:
                raise RuntimeError(f"runs not done within {timeout} s: {states}")
            time.sleep(0.2)
        seconds = time.monotonic() - start
        load_after = os.getloadavg()
        if set(states) != {"done"}:
            raise RuntimeError(f"a run failed: {states}; logs in {log_dir}")
        made = sum(PrintRun.objects.get(pk=pk).pages_total for pk in runs)
        assert made == pages, (made, pages)
    finally:
        stop_workers(processes)
    return {"seconds": seconds, "load_before": load_before, "load_after": load_after}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--pages", type=int, default=1000)
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/6")
    parser.add_argument("--timeout", type=float, default=3600, help="per phase, seconds")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        tmp_path = Path(tmp)
        (tmp_path / "media").mkdir()
        settings = {
            "REDIS_URL": args.redis,
            "CELERY_TASK_ALWAYS_EAGER": "0",
            "CELERY_TASK_DEFAULT_QUEUE": f"bench-print-{uuid.uuid4().hex[:8]}",
            "COUNTERSIGN_MEDIA_ROOT": str(tmp_path / "media"),
            "COUNTERSIGN_KEY_BITS": "2048",
        }
        with scratch_database(DB, settings) as env:
            petition = bench_petition(
                title="Stop the Employee Data Extraction Factory",
                accepts_flyer=True,
                publish_min_batch=5,
            )
            ceiling_before = ceiling()
            one = phase(env, petition, args.pages, 1, tmp_path, args.timeout)
            two = phase(env, petition, args.pages, 2, tmp_path, args.timeout)
            ceiling_after = ceiling()

    print(f"{args.pages} tear-off pages (Letter, 10 codes a page), chunks of 25 sheets")
    print(f"{'workers':>7} {'seconds':>8} {'pages/s':>8}  load average before -> after")
    for count, result in ((1, one), (2, two)):
        before = " ".join(f"{x:.1f}" for x in result["load_before"])
        after = " ".join(f"{x:.1f}" for x in result["load_after"])
        print(
            f"{count:7d} {result['seconds']:8.1f} {args.pages / result['seconds']:8.2f}  "
            f"{before} -> {after}"
        )
    print(f"ratio two/one (goal <= 0.6): {two['seconds'] / one['seconds']:.2f}")
    print(
        "machine ceiling, two spinning processes / one spinning twice as long: "
        f"{ceiling_before:.2f} before, {ceiling_after:.2f} after"
    )


if __name__ == "__main__":
    main()
