"""Signature redemptions per second through the real stack (gunicorn + PostgreSQL), against
a trivial view (/healthz) on the same stack in the same run.

    .venv/bin/python benchmarks/redeem.py [--requests 400] [--concurrency 8] [--workers 2]

Creates and drops a scratch database `countersign_bench` on the local PostgreSQL. Bounded:
at most --requests requests per phase and --timeout seconds overall.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
DB = "countersign_bench"
PG = "postgres://postgres@127.0.0.1:5432"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run(cmd: list[str], env: dict) -> None:
    subprocess.run(cmd, cwd=ROOT, env=env, check=True, capture_output=True, timeout=300)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=400)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--timeout", type=float, default=240)
    args = parser.parse_args()

    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.base",
        "DATABASE_URL": f"{PG}/{DB}",
        "COUNTERSIGN_KEY_BITS": "3072",
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
        # One client address sends everything here; keep the limit check, not its refusal.
        "COUNTERSIGN_RATE_LIMIT_FACTOR": "1000",
    }
    import psycopg

    with psycopg.connect(f"{PG}/postgres", autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {DB}")
        conn.execute(f"CREATE DATABASE {DB}")
    port = free_port()
    server = None
    try:
        run([sys.executable, "manage.py", "migrate", "-v0"], env)
        os.environ.update(env)
        import django

        django.setup()
        from organizing.models import Campaign
        from petition.services import petition_create, petition_publish
        from tests.petition.signing_client import mint

        campaign = Campaign.objects.create(name="Bench", slug="bench", employer_name="B")
        petition = petition_publish(
            petition=petition_create(
                campaign=campaign,
                slug="bench",
                title="Bench",
                demands="x",
                addressed_to="y",
                goal=1000,
            )
        )
        payloads = [json.dumps(mint(petition).payload()).encode() for _ in range(args.requests)]

        server = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "-c",
                "config/gunicorn.conf.py",
                "--bind",
                f"127.0.0.1:{port}",
                "--workers",
                str(args.workers),
                "config.wsgi",
            ],
            cwd=ROOT,
            env={**env, "DJANGO_SETTINGS_MODULE": "config.settings.base"},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                urllib.request.urlopen(f"{base}/healthz", timeout=2).read()
                break
            except OSError:
                time.sleep(0.2)

        def phase(make_request) -> tuple[float, list[int]]:
            started = time.perf_counter()
            with concurrent.futures.ThreadPoolExecutor(args.concurrency) as pool:
                statuses = list(pool.map(make_request, range(args.requests), timeout=args.timeout))
            return args.requests / (time.perf_counter() - started), statuses

        def healthz(_i: int) -> int:
            with urllib.request.urlopen(f"{base}/healthz", timeout=30) as response:
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
        print(
            f"requests per phase: {args.requests}, concurrency {args.concurrency}, "
            f"gunicorn workers {args.workers}, RSA 3072"
        )
        print(f"trivial view (/healthz):  {trivial_rps:8.1f} req/s")
        print(f"signature redemption:     {redeem_rps:8.1f} req/s")
        print(f"ratio redemption/trivial: {redeem_rps / trivial_rps:8.2f}")
    finally:
        if server:
            server.terminate()
            server.wait(timeout=20)
        from django.db import connections

        connections.close_all()
        with psycopg.connect(f"{PG}/postgres", autocommit=True) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {DB}")


if __name__ == "__main__":
    main()
