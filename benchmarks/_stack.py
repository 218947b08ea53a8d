"""The real stack the HTTP benchmarks measure: a scratch PostgreSQL database, migrated, with
Django set up in this process (to create the data), and gunicorn serving it on 127.0.0.1.

    with scratch_database("countersign_bench", {"COUNTERSIGN_KEY_BITS": "3072"}) as env:
        ...create rows with the ORM...
        with gunicorn(env, workers=2) as base:
            urllib.request.urlopen(f"{base}/livez")

The database is dropped and gunicorn stopped on the way out, also after a failure.
`bench_petition()` makes the petition each benchmark measures, through the services, as an
organizer would.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parents[1]
PG = "postgres://postgres@127.0.0.1:5432"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _recreate(db: str, *, drop_only: bool = False) -> None:
    with psycopg.connect(f"{PG}/postgres", autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {db} WITH (FORCE)")
        if not drop_only:
            conn.execute(f"CREATE DATABASE {db}")


@contextmanager
def scratch_database(db: str, settings: dict[str, str]) -> Iterator[dict[str, str]]:
    """Create `db`, migrate it and set Django up on it in this process; yields the
    environment the server must get too (production-like settings plus `settings`)."""
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.base",
        "DATABASE_URL": f"{PG}/{db}",
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
        **settings,
    }
    _recreate(db)
    try:
        subprocess.run(
            [sys.executable, "manage.py", "migrate", "-v0"],
            cwd=ROOT,
            env=env,
            check=True,
            capture_output=True,
            timeout=300,
        )
        os.environ.update(env)
        sys.path.insert(0, str(ROOT))
        import django

        django.setup()
        yield env
    finally:
        from django.conf import settings as django_settings

        if django_settings.configured:
            from django.db import connections

            connections.close_all()
        _recreate(db, drop_only=True)


@contextmanager
def gunicorn(env: dict[str, str], *, workers: int) -> Iterator[str]:
    """gunicorn with the production config on a free loopback port; yields its base URL
    once /livez answers (at most 30 s)."""
    port = free_port()
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
            str(workers),
            "config.wsgi",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                urllib.request.urlopen(f"{base}/livez", timeout=2).read()
                break
            except OSError:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise RuntimeError("gunicorn did not answer /livez within 30 s") from None
                time.sleep(0.2)
        yield base
    finally:
        server.terminate()
        server.wait(timeout=20)


def bench_petition(slug: str = "bench", *, publish: bool = True, **fields):
    """A petition in the campaign "Bench" (made on first use), created through the services
    and published unless `publish` is false; `fields` override the defaults below."""
    from organizing.models import Campaign
    from petition.services import petition_create, petition_publish

    campaign, _ = Campaign.objects.get_or_create(
        slug="bench", defaults={"name": "Bench", "employer_name": "B", "employer_networks": []}
    )
    defaults = {
        "title": f"Bench {slug}",
        "demands": "1. **Stop** the tracking.\n2. Delete the recordings.",
        "addressed_to": "The executive team",
        "goal": 1000,
        # The production policy (docs/operations.md); a benchmark below the safe floor says
        # so and sets COUNTERSIGN_ALLOW_UNSAFE_PUBLICATION.
        "publish_interval": 3600,
        "publish_min_batch": 5,
        "publish_max_wait": 86400,
    }
    petition = petition_create(campaign=campaign, slug=slug, **{**defaults, **fields})
    return petition_publish(petition=petition) if publish else petition
