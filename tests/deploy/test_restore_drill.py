"""The restore drill of docs/operations.md ("Backups", "Restore"), run for real: a site with
published signatures and a transparency log is dumped with the documented `pg_dump
--format=custom`, restored with the documented `pg_restore --exit-on-error --no-owner` into a
fresh database, checked (`migrate --check`, `audit_verify`) and served by gunicorn; then the
petition's public log re-verifies from the public endpoints (docs/protocol.md), the
transparency log passes `countersign_audit check` with the state kept from before the
dump (same origin, same tree), every count is equal, and the restored site signs again
with the same keys, which the next audit proves consistent. Slow (two servers, a migrate
from scratch): marker `release`, out of `make check`, in `make test`."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import psycopg
import pytest

from tests.deploy.public_log import verify_petition
from tests.upgrade.test_upgrade_from_release import audit, environment, free_port, manage, sign

REPO = Path(__file__).resolve().parents[2]
ADMIN = "postgres://postgres@127.0.0.1:5432/postgres"

pytestmark = pytest.mark.release

# pg_dump/pg_restore of the server's own major version (Debian's wrappers pick it by
# cluster; the plain binaries are under /usr/lib/postgresql/<major>/bin).
for _tool in ("pg_dump", "pg_restore"):
    assert shutil.which(_tool), f"{_tool} is missing: apt-get install postgresql-client"


@pytest.fixture
def databases():
    names = [f"cs_drill_{kind}_{os.getpid()}" for kind in ("live", "restored")]
    with psycopg.connect(ADMIN, autocommit=True) as conn:
        for name in names:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f"CREATE DATABASE \"{names[0]}\" ENCODING 'UTF8'")
    yield [f"postgres://postgres@127.0.0.1:5432/{name}" for name in names]
    with psycopg.connect(ADMIN, autocommit=True) as conn:
        for name in names:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def gunicorn(env: dict, log: Path) -> tuple[subprocess.Popen, str]:
    """gunicorn with config/gunicorn.conf.py, as the web unit starts it, on a free port."""
    port = free_port()
    with log.open("a") as out:
        server = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-c", "config/gunicorn.conf.py", "config.wsgi"],
            cwd=REPO,
            env={**env, "GUNICORN_BIND": f"127.0.0.1:{port}", "GUNICORN_WORKERS": "2"},
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert server.poll() is None, log.read_text()[-3000:]
        try:
            urllib.request.urlopen(f"{url}/livez", timeout=2).close()  # noqa: S310 (loopback)
            return server, url
        except OSError:
            time.sleep(0.3)
    server.kill()
    raise AssertionError(f"gunicorn did not answer within 60 s:\n{log.read_text()[-3000:]}")


def stop(server: subprocess.Popen) -> None:
    server.send_signal(signal.SIGTERM)
    server.wait(timeout=40)


def run(*argv: str) -> str:
    result = subprocess.run(argv, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, f"{' '.join(argv)}:\n{result.stdout}{result.stderr}"
    return result.stdout


def test_a_dump_restored_into_a_fresh_database_serves_the_same_verifiable_logs(
    databases, tmp_path
) -> None:
    live, restored = databases
    env = environment(live, REPO)
    manage(REPO, env, "migrate", "--no-input", "-v", "0")
    manage(REPO, env, "seed_demo")
    signed = sign(REPO, env, 5)
    slug = signed["slug"]
    origin = manage(
        REPO, env, "shell", "-c", "from petition.tlog import services; print(services.log_origin())"
    ).splitlines()[-1]
    state = tmp_path / "audit-state.json"

    # The live site, audited once before the backup (the auditor keeps its state).
    server, url = gunicorn(env, tmp_path / "live.log")
    try:
        before = verify_petition(url, slug)
        status, out = audit(url, state, origin)
        assert status == 0 and out.startswith(f"OK: log {origin} size "), out
        audited_before = out.splitlines()[0].rsplit(", ", 1)[0]  # without its duration
    finally:
        stop(server)
    assert before["counts"] == {"in_person": 5}

    # Backups: the documented dump (without its `| age` encryption, which changes no byte
    # of what pg_restore reads back).
    dump = tmp_path / "countersign.dump"
    run("pg_dump", "--format=custom", f"--dbname={live}", f"--file={dump}")
    # Restore, step 2: a fresh database, the dump restored into it, stopping at any error.
    with psycopg.connect(ADMIN, autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE \"{restored.rsplit('/', 1)[1]}\" ENCODING 'UTF8'")
    run("pg_restore", "--exit-on-error", "--no-owner", f"--dbname={restored}", str(dump))
    # The live database is gone, as in a real loss: only the dump speaks now.
    with psycopg.connect(ADMIN, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE "{live.rsplit("/", 1)[1]}" WITH (FORCE)')

    # Step 3: the app checks the restored database (the audit log's hash chain included).
    env = environment(restored, REPO)
    manage(REPO, env, "migrate", "--check")
    assert "Audit log intact." in manage(REPO, env, "audit_verify")
    with psycopg.connect(restored) as conn:
        # The append-only trigger came back with the dump (docs: "includes the trigger").
        triggers = {
            row[0]
            for row in conn.execute(
                "SELECT tgname FROM pg_trigger "
                "WHERE NOT tgisinternal AND tgname LIKE '%append_only'"
            )
        }
    assert "organizing_auditentry_append_only" in triggers, triggers
    assert "petition_logentry_append_only" in triggers, triggers

    # Step 5: serve it; both logs verify and every count equals the live site's.
    server, url = gunicorn(env, tmp_path / "restored.log")
    try:
        after = verify_petition(url, slug)
        assert after == before
        status, out = audit(url, state, origin)
        assert status == 0, out
        # The same size, root and counts as before the dump.
        assert out.splitlines()[0].rsplit(", ", 1)[0] == audited_before, out
        assert f"petition {slug}: in_person 5 (" in out, out

        # The restored site signs with the same keys and extends the same log.
        assert sign(REPO, env, 1)["api"]["counts"]["total"] == 6
        assert verify_petition(url, slug)["counts"] == {"in_person": 6}
        status, out = audit(url, state, origin)
        assert status == 0 and "consistent" in out, out
        assert f"petition {slug}: in_person 6 (" in out, out
    finally:
        stop(server)
