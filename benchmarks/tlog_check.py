"""A full `countersign_audit check` of a large log, downloaded from the local server and
verified, against the bare RSA verifications of the same entries alone, same run (issue 16,
"Benchmarks"); and the proof sizes at sizes growing tenfold.

    .venv/bin/python benchmarks/tlog_check.py [--entries 1000000] [--batch 1000]

How the log is built (the cheapest honest construction). The tool verifies every signature
entry as RSASSA-PSS (SHA-384, MGF1-SHA-384, 48-byte salt) over the entry's prepared message,
and checks that the message names the entry's petition, key and nullifier. An RFC 9474
blind signature, once finalized, *is* such a PSS signature of the prepared message (finalize
checks exactly that), and nothing in it shows whether it was blinded. So each entry gets a
distinct token, its message built as a signer's client builds it
(`blindrsa.build_message` + `prepare`), and an ordinary PSS signature made with the
petition's real 2048-bit private key (`cryptography`'s CRT private operation, about 0.7 ms):
the blinding round trip is skipped because it changes nothing the auditor sees. Random
signatures with m = s^e mod n would be cheaper but are not valid PSS encodings, and reusing
a signature would be a double signature; both would fail the check. Signing a million takes
about ten minutes of CPU, spread over `--processes` (default 2).

The entries are appended as publication batches do it: `--batch` signatures sorted by
nullifier and one batch summary, in one transaction, with a signed checkpoint per batch
(`petition.tlog.services.append_entries`). One PublicationBatch row carries the running
totals, so that `/api/v1/petitions/<slug>` shows the count the log proves.

Then gunicorn (2 workers, production config) serves the scratch database on 127.0.0.1 and
the tool runs as its own process, with only `tools/` and `cryptography` on its path, and a
timeout (`--timeout`, default 3600 s). The baseline is the bare `public_key.verify` of every
signature entry in this process, read back from the database in chunks; only the verify
calls are timed, in wall time and in CPU time (the machine is shared, so the CPU ratio, the
tool's process against the bare loop, is the steadier figure; the wall ratio also holds the
download, the server's work and the wait for a core). Creates and drops the scratch
database `countersign_bench_tlogcheck` (about 1.5 GB at 1M entries).
"""

from __future__ import annotations

import argparse
import datetime
import multiprocessing
import os
import resource
import secrets
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _stack import bench_petition, gunicorn, scratch_database

DB = "countersign_bench_tlogcheck"
ROOT = Path(__file__).resolve().parents[1]
TOOLS = ROOT / "tools"
BASE_URL = "https://bench.invalid"  # the log's name; the tool gets it with --origin
ONLY_CRYPTOGRAPHY = ("cryptography", "cffi", "pycparser", "_cffi_backend")

_KEY = None  # the signing process's private key


def _init_signer(der: bytes) -> None:
    global _KEY
    from cryptography.hazmat.primitives import serialization

    _KEY = serialization.load_der_private_key(der, password=None)


def _sign_batch(job: tuple[bytes, bytes, int]) -> list[tuple[bytes, bytes, bytes]]:
    """`count` (nullifier, prepared message, signature) triples, sorted by nullifier."""
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import padding

    from petition import blindrsa

    petition_id, key_id, count = job
    pss = padding.PSS(mgf=padding.MGF1(hashes.SHA384()), salt_length=blindrsa.SALT_LEN)
    out = []
    for _ in range(count):
        nullifier = blindrsa.nullifier(secrets.token_bytes(32))
        prepared = blindrsa.prepare(blindrsa.build_message(petition_id, key_id, nullifier))
        out.append((nullifier, prepared, _KEY.sign(prepared, pss, hashes.SHA384())))
    out.sort()
    return out


def _tool_environment(folder: Path) -> dict[str, str]:
    """What the tool's documentation asks for: Python and `cryptography`, nothing else
    (`python -S` skips site-packages, where the project itself is installed)."""
    site_packages = Path(next(p for p in sys.path if p.endswith("site-packages")))
    only = folder / "only-cryptography"
    only.mkdir()
    for item in site_packages.iterdir():
        if item.name.split(".")[0] in ONLY_CRYPTOGRAPHY:
            (only / item.name).symlink_to(item)
    return {
        "PATH": os.environ.get("PATH", ""),
        "HOME": str(folder),
        "PYTHONPATH": f"{TOOLS}{os.pathsep}{only}",
        "LANG": "C.UTF-8",
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--entries", type=int, default=1_000_000, help="signature entries")
    parser.add_argument("--batch", type=int, default=1000, help="signatures per batch")
    parser.add_argument("--processes", type=int, default=2, help="signing processes")
    parser.add_argument("--timeout", type=float, default=3600, help="seconds for the check")
    args = parser.parse_args()
    batches = max(1, args.entries // args.batch)
    signatures = batches * args.batch
    env_settings = {"COUNTERSIGN_KEY_BITS": "2048", "COUNTERSIGN_BASE_URL": BASE_URL}
    started_all = time.monotonic()

    with scratch_database(DB, env_settings) as env:
        from cryptography.hazmat.primitives import hashes, serialization
        from cryptography.hazmat.primitives.asymmetric import padding
        from django.db import connection, transaction
        from django.utils import timezone

        from petition import blindrsa
        from petition.keys import load_private_key, public_key
        from petition.models import IssuanceCount, LogCheckpoint, PublicationBatch
        from petition.tlog import entries, services

        petition = bench_petition("audited", goal=2_000_000, publish_min_batch=5)
        level = "in_person"
        key = petition.keys.get(level=level)
        der = load_private_key(key).private_bytes(
            serialization.Encoding.DER,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        pid, key_id = petition.id.bytes, bytes(key.key_id)

        # Sign in worker processes, append in this one, batch by batch as they come.
        print(f"building {signatures} signature entries in {batches} batches ...", flush=True)
        t_sign = t_append = 0.0
        t0 = time.perf_counter()
        jobs = [(pid, key_id, args.batch)] * batches
        context = multiprocessing.get_context("spawn")
        with context.Pool(args.processes, _init_signer, (der,)) as pool:
            for number, batch in enumerate(pool.imap(_sign_batch, jobs, chunksize=1), 1):
                t1 = time.perf_counter()
                rows = [
                    (
                        petition.id,
                        entries.signature_entry(
                            petition.id, level, key_id, nullifier, prepared, sig
                        ),
                    )
                    for nullifier, prepared, sig in batch
                ]
                total = number * args.batch
                summary = entries.Summary(
                    batch_number=number,
                    signatures_total=total,
                    withdrawn_total=0,
                    credentials_issued=total,
                    codes_made=total,
                    codes_revoked=0,
                    keys_invalidated=0,
                )
                rows.append((petition.id, entries.summary_entry(petition.id, level, summary)))
                with transaction.atomic():
                    services.append_entries(rows)
                t_append += time.perf_counter() - t1
                if number % 100 == 0:
                    print(f"  {total:>9} signatures, {time.perf_counter() - t0:.0f} s", flush=True)
        t_build = time.perf_counter() - t0
        t_sign = t_build - t_append
        PublicationBatch.objects.create(
            petition=petition,
            level=level,
            number=batches,
            published_on=timezone.now().date(),
            added=args.batch,
            withdrawn=0,
            total_added=signatures,
            total_withdrawn=0,
        )
        IssuanceCount.objects.update_or_create(
            petition=petition, level=level, defaults={"issued": signatures}
        )
        size = LogCheckpoint.objects.order_by("-size").values_list("size", flat=True)[0]
        print(
            f"log of {size} entries built in {t_build:.0f} s "
            f"(waiting for signatures {t_sign:.0f} s, appending {t_append:.0f} s)",
            flush=True,
        )

        # Proof sizes from the stored tiles, at checkpoints about ten times apart.
        sizes = sorted(LogCheckpoint.objects.values_list("size", flat=True))
        proof_lines = []
        target = 1000
        while target <= size:
            s = min(sizes, key=lambda x, t=target: abs(x - t))
            inclusion = services.inclusion_proof(s // 3, s)
            older = max((x for x in sizes if x <= s // 2), default=None)
            consistency = services.consistency_proof(older, s) if older else []
            proof_lines.append(
                f"| {s:,} | {len(inclusion)} ({len(inclusion) * 32} B) | "
                f"{older:,} -> {s:,}: {len(consistency)} ({len(consistency) * 32} B) |"
                if older
                else f"| {s:,} | {len(inclusion)} ({len(inclusion) * 32} B) | - |"
            )
            target *= 10
        connection.close()

        # The check, through gunicorn, in its own process.
        with tempfile.TemporaryDirectory() as tmp, gunicorn(env, workers=2) as base:
            folder = Path(tmp)
            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            t0 = time.perf_counter()
            result = subprocess.run(
                [
                    sys.executable,
                    "-S",
                    "-m",
                    "countersign_audit",
                    "check",
                    base,
                    "--origin",
                    services.origin_for(BASE_URL),
                    "--state",
                    str(folder / "state.json"),
                    "--timeout",
                    "120",
                ],
                cwd=folder,
                env=_tool_environment(folder),
                capture_output=True,
                text=True,
                timeout=args.timeout,
            )
            t_check = time.perf_counter() - t0
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu_check = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
        print(result.stdout.strip())
        if result.returncode != 0:
            print(result.stderr.strip())
            raise SystemExit(f"the check failed (exit status {result.returncode})")

        # The baseline: the same signatures, bare verify only, in this process.
        verifier = public_key(key)
        pss = padding.PSS(mgf=padding.MGF1(hashes.SHA384()), salt_length=blindrsa.SALT_LEN)
        t_verify = cpu_verify = 0.0
        verified, last = 0, -1
        with transaction.atomic(), connection.cursor() as cursor:
            while True:
                cursor.execute(
                    "SELECT position, data FROM petition_logentry "
                    "WHERE position > %s ORDER BY position LIMIT 20000",
                    [last],
                )
                rows = cursor.fetchall()
                if not rows:
                    break
                last = rows[-1][0]
                pairs = []
                for _position, data in rows:
                    entry = entries.decode(bytes(data))
                    if entry.kind == entries.KIND_SIGNATURE:
                        pairs.append((entry.sig, entry.msg))
                t1, c1 = time.perf_counter(), time.process_time()
                for sig, msg in pairs:
                    verifier.verify(sig, msg, pss, hashes.SHA384())
                t_verify += time.perf_counter() - t1
                cpu_verify += time.process_time() - c1
                verified += len(pairs)
        assert verified == signatures

    print()
    print(f"entries: {size} ({signatures} signatures of 2048-bit RSA, {batches} batches)")
    print(f"full check (download + verify), wall: {t_check:.1f} s; its CPU: {cpu_check:.1f} s")
    print(
        f"bare RSA verifications of the same {verified} signatures, wall: {t_verify:.1f} s; "
        f"CPU: {cpu_verify:.1f} s"
    )
    print(
        f"ratio check / bare RSA, wall: {t_check / t_verify:.2f}; "
        f"CPU (the tool's process / the bare loop): {cpu_check / cpu_verify:.2f}"
    )
    print("| size | inclusion proof hashes | consistency proof hashes |")
    print("\n".join(proof_lines))
    print(f"whole run: {time.monotonic() - started_all:.0f} s; {datetime.date.today()}")


if __name__ == "__main__":
    main()
