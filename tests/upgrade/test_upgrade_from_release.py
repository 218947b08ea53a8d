"""Every commit migrates from the last release: a database made, signed on and published to
by the last release's own code (its tree taken from git) is migrated by this code, after
which the audit log's chains and the transparency log still verify, the count is unchanged,
and a new signature extends the log consistently.

The release is the newest `v*` tag, else the newest commit named in CHANGELOG.md
("## 0.1.0 … commit <hash>"), so the check needs the repository's history (a full clone,
which CI makes) but no tag pushed anywhere. Slow (two migrations from scratch and a server):
marker `release`, left out of `make check`, run by `make test`."""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import tarfile
import time
import urllib.request
from io import BytesIO
from pathlib import Path

import psycopg
import pytest

REPO = Path(__file__).resolve().parents[2]
TOOLS = REPO / "tools"
SIGN_SOME = Path(__file__).with_name("sign_some.py")

pytestmark = pytest.mark.release


def git(*args: str) -> str:
    return subprocess.run(
        ["git", *args], cwd=REPO, capture_output=True, text=True, check=True
    ).stdout.strip()


def last_release() -> tuple[str, str]:
    """(name, commit) of the newest release."""
    tags = git("tag", "--list", "v*", "--sort=-version:refname").split()
    if tags:
        return tags[0], git("rev-list", "-n", "1", tags[0])
    found = re.search(
        r"^## \[?([\d.]+)\]?.*?commit ([0-9a-f]{40})", (REPO / "CHANGELOG.md").read_text(), re.M
    )
    assert found, "CHANGELOG.md names no released commit"
    return found.group(1), found.group(2)


def test_the_changelog_names_the_release_and_it_is_in_history() -> None:
    name, commit = last_release()
    assert git("cat-file", "-t", commit) == "commit", f"release {name} ({commit}) not in history"
    assert git("merge-base", "--is-ancestor", commit, "HEAD") == ""


def test_each_app_has_one_migration_leaf() -> None:
    from django.db.migrations.loader import MigrationLoader

    graph = MigrationLoader(None, ignore_no_migrations=True).graph
    leaves: dict[str, list[str]] = {}
    for app, name in graph.leaf_nodes():
        leaves.setdefault(app, []).append(name)
    for app in ("petition", "organizing"):
        assert len(leaves[app]) == 1, f"{app} has several migration leaves: {leaves[app]}"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def database():
    name = f"cs_upgrade_{os.getpid()}"
    admin = "postgres://postgres@127.0.0.1:5432/postgres"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')
    yield f"postgres://postgres@127.0.0.1:5432/{name}"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def environment(database: str, tree: Path) -> dict:
    # The embedded settings with DEBUG (the demo's development keys, the same in both trees)
    # on a PostgreSQL database of the test's own; no Redis, tasks in-process.
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "COUNTERSIGN_"))}
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings.base",
        DJANGO_DEBUG="1",
        DATABASE_URL=database,
        PYTHONPATH=str(tree),
    )
    env.pop("REDIS_URL", None)
    env.pop("CELERY_BROKER_URL", None)
    return env


def manage(tree: Path, env: dict, *args: str, timeout: float = 300) -> str:
    result = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=tree,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    assert result.returncode == 0, f"manage.py {' '.join(args)} in {tree}:\n{result.stderr}"
    return result.stdout


def sign(tree: Path, env: dict, count: int) -> dict:
    out = manage(
        tree,
        {**env, "COUNTERSIGN_UPGRADE_SIGNATURES": str(count)},
        "shell",
        "-c",
        SIGN_SOME.read_text(),
    )
    return json.loads(out.strip().splitlines()[-1])


def audit(url: str, state: Path, origin: str) -> tuple[int, str]:
    result = subprocess.run(
        [
            *(sys.executable, "-S", "-m", "countersign_audit", "check", url),
            *("--origin", origin, "--state", str(state), "--timeout", "20"),
        ],
        cwd=state.parent,
        env={
            "PATH": os.environ.get("PATH", ""),
            "HOME": str(state.parent),
            "PYTHONPATH": os.pathsep.join([str(TOOLS), *[p for p in sys.path if p]]),
            "LANG": "C.UTF-8",
        },
        capture_output=True,
        text=True,
        timeout=180,
    )
    return result.returncode, result.stdout + result.stderr


def serve(env: dict, port: int) -> subprocess.Popen:
    server = subprocess.Popen(
        [sys.executable, "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload"],
        cwd=REPO,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/livez", timeout=2)
            return server
        except OSError:
            time.sleep(0.3)
    server.kill()
    raise AssertionError("the upgraded site did not start within 60 s")


def test_a_database_of_the_last_release_migrates_and_its_logs_still_verify(
    database, tmp_path
) -> None:
    name, commit = last_release()
    old = tmp_path / f"release-{name}"
    old.mkdir()
    archive = subprocess.run(
        ["git", "archive", "--format=tar", commit], cwd=REPO, capture_output=True, check=True
    ).stdout
    with tarfile.open(fileobj=BytesIO(archive)) as tar:
        tar.extractall(old, filter="data")

    # The release's code makes the database: migrations, demo data, 5 published signatures.
    old_env = environment(database, old)
    manage(old, old_env, "migrate", "--no-input", "-v", "0")
    manage(old, old_env, "seed_demo")
    before = sign(old, old_env, 5)
    assert before["api"]["counts"]["total"] == 5

    # This code migrates it.
    env = environment(database, REPO)
    manage(REPO, env, "migrate", "--no-input", "-v", "0")
    manage(REPO, env, "migrate", "--check")
    manage(REPO, env, "audit_verify")
    origin = manage(
        REPO, env, "shell", "-c", "from petition.tlog import services; print(services.log_origin())"
    ).splitlines()[-1]  # Django's shell first says how many objects it imported

    port = free_port()
    server = serve(env, port)
    try:
        url = f"http://127.0.0.1:{port}"
        api = f"{url}/api/v1/petitions/{before['slug']}"
        with urllib.request.urlopen(api) as response:  # noqa: S310 (http on loopback)
            assert json.load(response)["counts"] == before["api"]["counts"]
        state = tmp_path / "audit-state.json"
        status, out = audit(url, state, origin)
        assert status == 0 and out.startswith(f"OK: log {origin} size "), out
        assert f"petition {before['slug']}: in_person 5 (" in out, out

        # A signature made by this code extends the same log: the next audit proves the new
        # checkpoint consistent with the one the release's code signed.
        after = sign(REPO, env, 1)
        assert after["api"]["counts"]["total"] == 6
        status, out = audit(url, state, origin)
        assert status == 0 and out.startswith(f"OK: log {origin} size "), out
        assert f"petition {before['slug']}: in_person 6 (" in out, out
        assert "consistent" in out, out
    finally:
        server.terminate()
        server.wait(timeout=30)
