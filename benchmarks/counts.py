"""The petition page and `GET /api/v1/petitions/<slug>` with 1,000,000 published signatures
against the same with 1,000, through the real stack (gunicorn + PostgreSQL), same run.

    .venv/bin/python benchmarks/counts.py [--big 1000000] [--requests 300] [--rounds 3]

Counts are read from the running totals stored per publication batch, so the two should
answer equally fast (goal: big / small <= 1.1 in time per request). Creates and drops a
scratch database `countersign_bench_counts` on the local PostgreSQL; the rows are written
by PostgreSQL itself (generate_series, one INSERT per table), in batches of 1,000 as the
publication task would write them. Bounded: --requests per phase, --timeout overall.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import statistics
import time
import urllib.request

from _stack import bench_petition, gunicorn, scratch_database

DB = "countersign_bench_counts"
BATCH = 1000


def load_published(cursor, petition, size: int) -> None:
    """`size` published in-person signatures in batches of 1,000, written by PostgreSQL."""
    key = petition.keys.get(level="in_person")
    batches = size // BATCH
    cursor.execute(
        """
        INSERT INTO petition_publicationbatch
            (id, petition_id, level, number, published_on, next_after,
             added, withdrawn, total_added, total_withdrawn)
        SELECT gen_random_uuid(), %(petition)s, 'in_person', n,
               DATE '2026-01-01' + (n / 24), NULL, %(batch)s, 0, n * %(batch)s, 0
        FROM generate_series(1, %(batches)s) AS n
        """,
        {"petition": petition.id, "batch": BATCH, "batches": batches},
    )
    # Real sizes: 127-byte message, 384-byte signature (3072-bit key); nullifiers are
    # SHA-256 of the row number, so each batch is inserted in nullifier order like the task.
    cursor.execute(
        """
        INSERT INTO petition_signature
            (id, petition_id, batch_id, key_id, level, nullifier, msg, sig,
             display_name, comment, withdrawn, review_id)
        SELECT gen_random_uuid(), %(petition)s, b.id, %(key)s, 'in_person', s.nullifier,
               substring(decode(repeat('ab', 95), 'hex') || s.nullifier for 127),
               decode(repeat('cd', 384), 'hex'), '', '', false, gen_random_uuid()
        FROM (
            SELECT (g - 1) / %(batch)s + 1 AS number, sha256(int8send(g)) AS nullifier
            FROM generate_series(1, %(size)s) AS g
        ) AS s
        JOIN petition_publicationbatch AS b
          ON b.petition_id = %(petition)s AND b.level = 'in_person' AND b.number = s.number
        ORDER BY s.number, s.nullifier
        """,
        {"petition": petition.id, "key": key.pk, "batch": BATCH, "size": batches * BATCH},
    )


def _best_seconds(call, repeat: int = 5) -> float:
    best = float("inf")
    for _ in range(repeat):
        started = time.perf_counter()
        call()
        best = min(best, time.perf_counter() - started)
    return best


def _count_rows(petition) -> dict:
    from django.db.models import Count, Q

    from petition.models import Level, Signature

    return Signature.objects.filter(petition=petition, withdrawn=False).aggregate(
        **{level: Count("pk", filter=Q(level=level)) for level in Level.values}
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--big", type=int, default=1_000_000)
    parser.add_argument("--small", type=int, default=1_000)
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--timeout", type=float, default=600)
    args = parser.parse_args()
    started_all = time.monotonic()

    with scratch_database(DB, {"COUNTERSIGN_KEY_BITS": "2048"}) as env:
        from django.db import connection

        from petition.selectors import petition_counts

        petitions = {name: bench_petition(name, goal=2_000_000) for name in ("small", "big")}
        load_started = time.monotonic()
        with connection.cursor() as cursor:
            cursor.execute("SET statement_timeout = '600s'")
            load_published(cursor, petitions["small"], args.small)
            load_published(cursor, petitions["big"], args.big)
        connection.cursor().execute("VACUUM ANALYZE")
        load_seconds = time.monotonic() - load_started
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM petition_signature")
            rows = cursor.fetchone()[0]
            cursor.execute("SELECT pg_size_pretty(pg_total_relation_size('petition_signature'))")
            size = cursor.fetchone()[0]
        assert petition_counts(petitions["big"])["total"] == args.big // BATCH * BATCH
        assert petition_counts(petitions["small"])["total"] == args.small // BATCH * BATCH
        # In-process, for scale: the stored totals against counting rows per level (what the
        # counts did before publication batches), same petitions, same run.
        in_process = {}
        for name, petition in petitions.items():
            in_process[name] = (
                _best_seconds(lambda p=petition: petition_counts(p)),
                _best_seconds(lambda p=petition: _count_rows(p)),
            )
        connection.close()

        with gunicorn(env, workers=args.workers) as base:
            results = _measure(base, list(petitions), args, started_all)
        print(
            f"published signatures: small {args.small:,}, big {args.big:,} "
            f"({rows:,} rows, table with indexes {size}, loaded in {load_seconds:.0f} s)"
        )
        print(
            f"{args.requests} requests per phase, {args.rounds} interleaved rounds, "
            f"concurrency {args.concurrency}, gunicorn workers {args.workers}"
        )
        for name, (stored, counted) in in_process.items():
            print(
                f"in process, {name:5s}: petition_counts {stored * 1000:7.2f} ms, "
                f"counting rows {counted * 1000:8.2f} ms"
            )
        for label, by_size in results.items():
            small = statistics.median(by_size["small"]) * 1000
            big = statistics.median(by_size["big"]) * 1000
            print(
                f"{label:32s} small {small:6.2f} ms/req  big {big:6.2f} ms/req  "
                f"ratio big/small {big / small:5.2f}"
            )


def _measure(base: str, names: list[str], args, started_all: float) -> dict:
    """Seconds per request for each page and petition, in interleaved rounds."""

    def phase(path: str) -> float:
        """Mean seconds per request over --requests requests."""

        def get(_i: int) -> int:
            with urllib.request.urlopen(f"{base}{path}", timeout=30) as response:
                response.read()
                return response.status

        started = time.perf_counter()
        with concurrent.futures.ThreadPoolExecutor(args.concurrency) as pool:
            statuses = list(pool.map(get, range(args.requests), timeout=args.timeout))
        assert set(statuses) == {200}, set(statuses)
        return (time.perf_counter() - started) / args.requests

    targets = {
        "petition page": "/p/{slug}/",
        "GET /api/v1/petitions/<slug>": "/api/v1/petitions/{slug}",
    }
    for template in targets.values():  # warm-up: connections, imports, caches
        for name in names:
            phase(template.format(slug=name))
    results: dict[str, dict[str, list[float]]] = {t: {n: [] for n in names} for t in targets}
    for _round in range(args.rounds):  # interleaved, so that drift hits both alike
        if time.monotonic() - started_all > args.timeout:
            break
        for label, template in targets.items():
            for name in names:
                results[label][name].append(phase(template.format(slug=name)))
    return results


if __name__ == "__main__":
    main()
