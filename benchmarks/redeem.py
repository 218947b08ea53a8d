"""Signature redemptions per second through the real stack (gunicorn + PostgreSQL), against
a trivial view (/livez) on the same stack in the same run.

    .venv/bin/python benchmarks/redeem.py [--requests 400] [--concurrency 8] [--workers 2]

Creates and drops a scratch database `countersign_bench` on the local PostgreSQL. Bounded:
at most --requests requests per phase and --timeout seconds overall.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import json
import time
import urllib.request

from _stack import bench_petition, gunicorn, scratch_database

DB = "countersign_bench"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=400)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--timeout", type=float, default=240)
    args = parser.parse_args()

    settings = {
        "COUNTERSIGN_KEY_BITS": "3072",
        # One client address sends everything here; keep the limit check, not its refusal.
        "COUNTERSIGN_RATE_LIMIT_FACTOR": "1000",
        # The base settings' default policy (a batch per signature) is below the safe floor.
        "COUNTERSIGN_ALLOW_UNSAFE_PUBLICATION": "1",
    }
    with scratch_database(DB, settings) as env:
        # Only now: these read the models, which need the scratch database's Django set-up.
        from tests.signing_client import mint

        # Immediate publication: every signature publishes a batch under the petition's lock.
        petition = bench_petition(publish_interval=0, publish_min_batch=1)
        payloads = [json.dumps(mint(petition).payload()).encode() for _ in range(args.requests)]
        with gunicorn(env, workers=args.workers) as base:
            trivial_rps, redeem_rps = _measure(base, payloads, args)
    print(
        f"requests per phase: {args.requests}, concurrency {args.concurrency}, "
        f"gunicorn workers {args.workers}, RSA 3072"
    )
    print(f"trivial view (/livez):  {trivial_rps:8.1f} req/s")
    print(f"signature redemption:     {redeem_rps:8.1f} req/s")
    print(f"ratio redemption/trivial: {redeem_rps / trivial_rps:8.2f}")


def _measure(base: str, payloads: list[bytes], args) -> tuple[float, float]:
    """Requests per second of /livez and of redemptions, same server, same run."""

    def phase(make_request) -> tuple[float, list[int]]:
        started = time.perf_counter()
        with concurrent.futures.ThreadPoolExecutor(args.concurrency) as pool:
            statuses = list(pool.map(make_request, range(args.requests), timeout=args.timeout))
        return args.requests / (time.perf_counter() - started), statuses

    def healthz(_i: int) -> int:
        with urllib.request.urlopen(f"{base}/livez", timeout=30) as response:
            return response.status

    def redeem(i: int) -> int:
        request = urllib.request.Request(
            f"{base}/api/v1/petitions/bench/signatures",
            data=payloads[i],
            headers={"Content-Type": "application/json"},
            method="POST",
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status

    phase(healthz)  # warm-up: connections, imports
    trivial_rps, trivial_statuses = phase(healthz)
    redeem_rps, redeem_statuses = phase(redeem)
    assert set(trivial_statuses) == {200}
    assert set(redeem_statuses) == {201}, set(redeem_statuses)
    return trivial_rps, redeem_rps


if __name__ == "__main__":
    main()
