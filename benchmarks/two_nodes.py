"""Two web nodes sharing one PostgreSQL and one Redis: sign through both, alternating, and
check that they behave as one site.

    .venv/bin/python benchmarks/two_nodes.py [--signers 40] [--concurrency 8]

Starts two gunicorn instances (production config) on two loopback ports over a scratch
database `countersign_bench_nodes` and Redis DB 6 (`--redis`), as two hosts behind
Caddy's `reverse_proxy a b` would run (docs/operations.md, "Scale-out"). Every signer is a
fresh credential from the browser client's protocol (tests/signing_client.py); request i goes
to node i % 2. Publication is immediate (each signing request publishes what is waiting,
under the petition's row lock: the harshest case for two nodes writing at once). Checks,
and exits non-zero if any fails:

- the signing rate limit (30 per client address per 10 minutes) is one limit for both
  nodes, because it counts in the shared Redis: exactly 30 answers 201, the rest 429;
- no double publication: one Signature row per 201, batch numbers 1..n without a gap or a
  repeat, batch sizes adding up to the 201s and the last running total equal to them;
- both nodes answer the same published count, equal to the 201s.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import json
import sys
import time
import urllib.error
import urllib.request
import uuid
from collections import Counter

from _stack import bench_petition, gunicorn, scratch_database

DB = "countersign_bench_nodes"
LIMIT = 30  # RateLimit("signatures", per_window=30) in petition/api.py, factor 1


def post(url: str, body: bytes) -> int:
    request = urllib.request.Request(
        url, data=body, headers={"Content-Type": "application/json"}, method="POST"
    )
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--signers", type=int, default=40)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/6")
    args = parser.parse_args()
    settings = {
        "REDIS_URL": args.redis,
        "COUNTERSIGN_KEY_BITS": "2048",
        # Immediate publication (batches of one) is refused with DEBUG off unless asked for.
        "COUNTERSIGN_ALLOW_UNSAFE_PUBLICATION": "1",
        "COUNTERSIGN_PUBLISH_INTERVAL": "0",
        "COUNTERSIGN_PUBLISH_MIN_BATCH": "1",
        # Fresh rate-limit buckets for this run without flushing the Redis DB (which may
        # hold a broker's queues): a key prefix of its own.
        "COUNTERSIGN_CACHE_PREFIX": f"bench-nodes-{uuid.uuid4().hex[:8]}",
        # The milestone checks a signature sends run in the node, not queued for a worker
        # this benchmark does not start.
        "CELERY_TASK_ALWAYS_EAGER": "1",
    }
    with scratch_database(DB, settings) as env:
        from petition.models import PublicationBatch, Signature
        from tests.signing_client import mint

        petition = bench_petition(publish_min_batch=1, publish_interval=0)
        minted = [mint(petition).payload() for _ in range(args.signers)]
        level = "in_person"  # what mint() signs for by default
        payloads = [json.dumps(p).encode() for p in minted]
        with gunicorn(env, workers=1) as node_a, gunicorn(env, workers=1) as node_b:
            nodes = (node_a, node_b)
            started = time.perf_counter()
            with concurrent.futures.ThreadPoolExecutor(args.concurrency) as pool:
                statuses = list(
                    pool.map(
                        lambda i: post(
                            f"{nodes[i % 2]}/api/v1/petitions/bench/signatures", payloads[i]
                        ),
                        range(args.signers),
                    )
                )
            seconds = time.perf_counter() - started
            counts = []
            for node in nodes:
                with urllib.request.urlopen(f"{node}/api/v1/petitions/bench", timeout=30) as r:
                    counts.append(json.load(r)["counts"])
        accepted = statuses.count(201)
        batches = list(
            PublicationBatch.objects.filter(petition=petition, level=level).order_by("number")
        )
        rows = Signature.objects.filter(batch__petition=petition).count()

    by_status = Counter(statuses)
    print(f"{args.signers} signers through 2 gunicorn nodes (1 worker each), {seconds:.1f} s")
    print(f"answers: {dict(sorted(by_status.items()))}; counts node A {counts[0]}")
    print(f"                                     counts node B {counts[1]}")
    print(f"signature rows {rows}, publication batches {len(batches)}")
    checks = {
        "rate limit shared by both nodes (30 x 201, rest 429)": accepted == min(LIMIT, args.signers)
        and by_status[429] == args.signers - accepted,
        "one signature row per 201": rows == accepted,
        "batch numbers 1..n, no repeat": [b.number for b in batches]
        == list(range(1, len(batches) + 1)),
        "batches add up to the 201s": sum(b.added for b in batches) == accepted
        and (batches[-1].total_added if batches else 0) == accepted,
        "both nodes answer the same count": counts[0] == counts[1],
    }
    for name, ok in checks.items():
        print(f"  {'ok  ' if ok else 'FAIL'} {name}")
    return 0 if all(checks.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
