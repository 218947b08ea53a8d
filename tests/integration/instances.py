"""Private servers for fault tests: a PostgreSQL 15 cluster, a redis-server and the app under
gunicorn, each on a free loopback port, started and stopped by the test (issue 19, item 3).
Never the machine's PostgreSQL on 5432 or Redis on 6379: a test may stop these.

    with PostgresCluster() as pg, RedisServer(tmp_path) as redis:
        migrate_template(pg)                            # once per session: ~30 s
        with AppStack(pg, redis, tmp_path) as stack:   # a copy of it, gunicorn serving
            seeded = stack.run("seed", "200")
            pg.restart()

PostgreSQL refuses to run as root: when the tests run as root, initdb and pg_ctl run as
the `postgres` OS user (runuser), on a data directory under /tmp owned by it.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PG_BIN = Path(os.environ.get("COUNTERSIGN_TEST_PG_BIN", "/usr/lib/postgresql/15/bin"))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_for_port(port: int, process: subprocess.Popen | None, what: str, timeout=30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"{what} exited with {process.returncode}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"{what} did not listen on 127.0.0.1:{port} within {timeout} s")


class PostgresCluster:
    """A throwaway PostgreSQL cluster: trust authentication for `postgres` on 127.0.0.1 only,
    its socket in its own directory, fsync off (nothing here needs to survive a crash of
    the machine; a restart of the server keeps everything)."""

    def __init__(self):
        self.port = free_port()
        self.dir = Path(tempfile.mkdtemp(prefix="countersign-pg-"))
        self.data = self.dir / "data"
        self.log = self.dir / "postgres.log"
        self._as_postgres: list[str] = []
        if os.geteuid() == 0:
            shutil.chown(self.dir, "postgres", "postgres")
            self._as_postgres = ["runuser", "-u", "postgres", "--"]

    def url(self, db: str = "postgres") -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{db}"

    def _pg(self, *args: str, timeout: float = 60) -> None:
        subprocess.run(
            [*self._as_postgres, *args],
            check=True,
            capture_output=True,
            timeout=timeout,
            cwd=self.dir,
        )

    def _pg_ctl(self, *args: str) -> None:
        self._pg(str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-l", str(self.log), "-w", *args)

    def start(self) -> None:
        if not self.data.exists():
            self._pg(
                str(PG_BIN / "initdb"),
                "-D",
                str(self.data),
                "-U",
                "postgres",
                "-A",
                "trust",
                "-E",
                "UTF8",
                "--no-instructions",
            )
        options = (
            f"-c listen_addresses=127.0.0.1 -p {self.port} -k {self.dir} "
            "-c fsync=off -c full_page_writes=off -c max_connections=60"
        )
        self._pg_ctl("-o", options, "start")

    def stop(self) -> None:
        self._pg_ctl("-m", "fast", "stop")

    def restart(self) -> None:
        """`pg_ctl restart -m fast`: every open connection is ended, in-flight transactions
        roll back, new connections are refused until the server is up again."""
        self._pg_ctl("-m", "fast", "restart")

    def createdb(self, name: str, template: str = "template1") -> str:
        self.sql(f"CREATE DATABASE {name} TEMPLATE {template}")
        return self.url(name)

    def sql(self, statement: str, db: str = "postgres") -> list[tuple]:
        """One statement through psql on this cluster (the tests need no driver of their own
        for a count); rows as tuples of strings."""
        out = subprocess.run(
            [
                str(PG_BIN / "psql"),
                "-h",
                "127.0.0.1",
                "-p",
                str(self.port),
                "-U",
                "postgres",
                "-d",
                db,
                "-AtX",
                "-F",
                "\t",
                "-v",
                "ON_ERROR_STOP=1",
                "-c",
                statement,
            ],
            check=True,
            capture_output=True,
            text=True,
            timeout=60,
        ).stdout
        return [tuple(line.split("\t")) for line in out.splitlines() if line]

    def __enter__(self) -> PostgresCluster:
        try:
            self.start()
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        if (self.data / "postmaster.pid").exists():
            # Already gone is fine: the directory goes anyway.
            with contextlib.suppress(subprocess.SubprocessError):
                self._pg_ctl("-m", "immediate", "stop")
        shutil.rmtree(self.dir, ignore_errors=True)


class RedisServer:
    """A private redis-server on a free loopback port, no persistence, for tests that stop
    it. Never the machine's Redis on 6379."""

    def __init__(self, tmp_path: Path):
        self.port = free_port()
        self.dir = tmp_path
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.process = subprocess.Popen(
            [
                "redis-server",
                "--bind",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.dir),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        _wait_for_port(self.port, self.process, "private redis-server", timeout=20)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)

    def __enter__(self) -> RedisServer:
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop()


TEMPLATE = "countersign_template"


def app_environment(db_url: str, redis_url: str, base: str, **settings) -> dict[str, str]:
    """What the app's processes get: production settings module and policy, the private
    database and Redis, fixed secrets (every process of one stack derives the same keys)."""
    return {
        **{k: v for k, v in os.environ.items() if k in {"PATH", "HOME", "LANG", "TMPDIR"}},
        "DJANGO_SETTINGS_MODULE": "config.settings.base",
        "DJANGO_SECRET_KEY": "fault-tests-" + "x" * 50,
        "COUNTERSIGN_KEY_ENCRYPTION_KEY": "fault-tests-key-encryption-key-" + "y" * 32,
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
        "DATABASE_URL": db_url,
        "REDIS_URL": redis_url,
        "EMAIL_URL": "dummymail://",
        "COUNTERSIGN_BASE_URL": base,
        # 2048-bit keys: the machine is shared; the fault does not depend on the size.
        "COUNTERSIGN_KEY_BITS": "2048",
        # Every signer here comes from 127.0.0.1: keep the limit check, not its refusal.
        "COUNTERSIGN_RATE_LIMIT_FACTOR": "1000",
        # Production's publication policy: signatures wait, sealed, for their batch.
        "COUNTERSIGN_PUBLISH_INTERVAL": "3600",
        "COUNTERSIGN_PUBLISH_MIN_BATCH": "5",
        **settings,
    }


def migrate_template(pg: PostgresCluster) -> None:
    """The migrated database every AppStack is copied from (CREATE DATABASE … TEMPLATE)."""
    url = pg.createdb(TEMPLATE)
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "-v0"],
        cwd=ROOT,
        env=app_environment(url, "redis://127.0.0.1:1/0", "http://127.0.0.1"),
        check=True,
        capture_output=True,
        timeout=300,
    )


class AppStack:
    """The app as production runs it, on the private PostgreSQL and Redis: migrated, then
    gunicorn with config/gunicorn.conf.py on a free loopback port (as benchmarks/_stack.py).
    `run(...)` runs tests/integration/stack_commands.py against the same database."""

    def __init__(self, pg: PostgresCluster, redis: RedisServer, tmp_path: Path, **settings):
        # A fresh database, copied from the migrated template (migrating takes half a minute).
        self.db_url = pg.createdb(f"countersign_{uuid.uuid4().hex[:8]}", template=TEMPLATE)
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log = tmp_path / "gunicorn.log"
        self.env = app_environment(self.db_url, redis.url, self.base, **settings)
        self.server: subprocess.Popen | None = None

    def run(self, *args: str, timeout: float = 120) -> dict:
        """A command of stack_commands.py; its JSON answer."""
        done = subprocess.run(
            [sys.executable, "-m", "tests.integration.stack_commands", *args],
            cwd=ROOT,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        if done.returncode != 0:
            raise RuntimeError(f"stack_commands {args} failed:\n{done.stderr}")
        return json.loads(done.stdout.splitlines()[-1])

    def start(self, workers: int = 2, threads: int = 4) -> None:
        with self.log.open("a") as out:
            self.server = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "gunicorn",
                    "-c",
                    "config/gunicorn.conf.py",
                    "--bind",
                    f"127.0.0.1:{self.port}",
                    "--workers",
                    str(workers),
                    "--threads",
                    str(threads),
                    "config.wsgi",
                ],
                cwd=ROOT,
                env=self.env,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(f"{self.base}/livez", timeout=2).read()  # noqa: S310
                return
            except OSError:
                if time.monotonic() > deadline or self.server.poll() is not None:
                    raise RuntimeError(
                        f"gunicorn did not answer /livez:\n{self.log.read_text()}"
                    ) from None
                time.sleep(0.2)

    def stop(self) -> None:
        if self.server is not None and self.server.poll() is None:
            self.server.terminate()
            try:
                self.server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.server.kill()
                self.server.wait(timeout=10)

    def __enter__(self) -> AppStack:
        try:
            self.start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc) -> None:
        self.stop()
