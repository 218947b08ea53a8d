"""Appending to the transparency log: time per batch of 1,000 entries (entries, tiles and a
signed checkpoint, one transaction, as a publication batch does it) near 1,000 entries
against near 1,000,000, same run; and proof sizes at the end.

    .venv/bin/python benchmarks/tlog_append.py [--entries 1000000] [--batch 1000]

The work per batch is meant to be O(batch · log n) (goal: at 1M / at 1k <= 1.5). Creates
and drops a scratch database `countersign_bench_tlog` on the local PostgreSQL (about
1.3 GB at 1M entries of 600 bytes, the size of a signature entry with a 3072-bit key).
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
import uuid

from _stack import scratch_database

DB = "countersign_bench_tlog"
WINDOW = 20  # batches measured at each end


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--entries", type=int, default=1_000_000)
    parser.add_argument("--batch", type=int, default=1000)
    args = parser.parse_args()
    with scratch_database(DB, {}):
        from django.db import connection, transaction

        from petition.tlog import entries, merkle, services

        petition = uuid.uuid4()
        key_id = os.urandom(32)

        def batch_entries(n: int):
            return [
                (
                    petition,
                    entries.signature_entry(
                        petition,
                        "in_person",
                        key_id,
                        os.urandom(32),
                        os.urandom(127),
                        os.urandom(384),
                    ),
                )
                for _ in range(n)
            ]

        times = []
        batches = args.entries // args.batch
        started = time.monotonic()
        for number in range(batches):
            data = batch_entries(args.batch)
            t0 = time.perf_counter()
            with transaction.atomic():
                services.append_entries(data)
            times.append(time.perf_counter() - t0)
            if number % 100 == 99:
                print(
                    f"  {(number + 1) * args.batch:>9} entries, {time.monotonic() - started:.0f} s"
                )
        early = statistics.median(times[1 : 1 + WINDOW])  # the first one makes the log key
        late = statistics.median(times[-WINDOW:])
        size = batches * args.batch
        print(f"entries: {size}, batch: {args.batch}")
        print(
            f"median append (entries + tiles + checkpoint) per batch, batches 2-{WINDOW + 1}: "
            f"{early * 1000:.1f} ms"
        )
        print(f"median append per batch, last {WINDOW}: {late * 1000:.1f} ms")
        print(f"ratio late / early: {late / early:.2f} (goal <= 1.5)")
        t0 = time.perf_counter()
        proof = services.inclusion_proof(size // 3, size)
        t_inc = time.perf_counter() - t0
        t0 = time.perf_counter()
        consistency = services.consistency_proof(size - args.batch, size)
        t_con = time.perf_counter() - t0
        print(
            f"inclusion proof at {size}: {len(proof)} hashes ({len(proof) * 32} bytes), "
            f"{t_inc * 1000:.1f} ms from tiles"
        )
        print(
            f"consistency proof {size - args.batch} -> {size}: {len(consistency)} hashes, "
            f"{t_con * 1000:.1f} ms from tiles"
        )
        tiles = len(merkle.tile_widths(size))
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*), sum(length(data)) FROM petition_logtile")
            rows, stored = cursor.fetchone()
            cursor.execute("SELECT pg_database_size(current_database())")
            (db_bytes,) = cursor.fetchone()
        print(
            f"tiles implied by the last checkpoint: {tiles}; tile rows stored: {rows} "
            f"({stored / 1e6:.0f} MB); database {db_bytes / 1e9:.2f} GB"
        )


if __name__ == "__main__":
    main()
