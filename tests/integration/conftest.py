"""Real parts for integration tests: an SMTP server on loopback, a Celery worker process, and
(tests/integration/instances.py) private PostgreSQL and Redis servers with gunicorn on them."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import threading
import time
import uuid
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from django.conf import settings
from django.db import connection
from kombu import pools as kombu_pools

from config.celery_app import app as celery_app

from .instances import AppStack, PostgresCluster, RedisServer, migrate_template

ROOT = Path(__file__).resolve().parents[2]
BROKER_URL = os.environ.get("COUNTERSIGN_TEST_BROKER_URL", "redis://127.0.0.1:6379/13")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Mailbox:
    def __init__(self):
        self.messages: list[tuple[list[str], str]] = []
        # Set `hold` to an Event to stall the next message until it is set; it is then
        # answered 451 and not stored, as a server does when its client vanished mid-send.
        self.hold: threading.Event | None = None
        self.holding = threading.Event()

    async def handle_DATA(self, server, session, envelope):
        if self.hold is not None:
            hold, self.hold = self.hold, None
            self.holding.set()
            deadline = time.monotonic() + 60
            while not hold.is_set() and time.monotonic() < deadline:
                await asyncio.sleep(0.05)
            return "451 Requested action aborted: try again later"
        self.messages.append((envelope.rcpt_tos, envelope.content.decode("utf8", "replace")))
        return "250 Message accepted for delivery"

    def wait_for(self, count: int = 1, timeout: float = 30) -> list[tuple[list[str], str]]:
        deadline = time.monotonic() + timeout
        while len(self.messages) < count and time.monotonic() < deadline:
            time.sleep(0.1)
        return self.messages


class SmtpServer:
    """aiosmtpd on 127.0.0.1, startable later to simulate a mail outage."""

    def __init__(self, port: int):
        self.port = port
        self.mailbox = Mailbox()
        self.controller: Controller | None = None

    def start(self) -> None:
        self.controller = Controller(self.mailbox, hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def stop(self) -> None:
        if self.controller:
            self.controller.stop()
            self.controller = None


@pytest.fixture
def smtp_server():
    server = SmtpServer(free_port())
    server.start()
    yield server
    server.stop()


def worker_environment(db_settings: dict, broker_url: str, smtp_port: int, **extra) -> dict:
    """What a worker, beat or benchmark process needs to share the test's database, secrets
    and mail server (the same SECRET_KEY and key-encryption key derive the same HMAC keys)."""
    return {
        **{k: v for k, v in os.environ.items() if k in {"PATH", "HOME", "LANG", "TMPDIR"}},
        "DJANGO_SETTINGS_MODULE": "config.settings.base",
        "DJANGO_SECRET_KEY": settings.SECRET_KEY,
        "COUNTERSIGN_KEY_ENCRYPTION_KEY": settings.COUNTERSIGN_KEY_ENCRYPTION_KEY,
        "DATABASE_URL": (
            f"postgres://{db_settings['USER']}@{db_settings['HOST']}:{db_settings['PORT']}/"
            f"{db_settings['NAME']}"
        ),
        "REDIS_URL": broker_url,
        "EMAIL_URL": f"smtp://127.0.0.1:{smtp_port}",
        "CELERY_TASK_ALWAYS_EAGER": "0",
        "COUNTERSIGN_BASE_URL": "http://testserver",
        # The window keys' secrets the test process sealed waiting signatures under
        # (petition/sealing.py): the worker must read the same sealing store.
        "COUNTERSIGN_SEALING_REDIS_URL": settings.CACHES["sealing"]["LOCATION"],
        "COUNTERSIGN_SEALING_PREFIX": settings.CACHES["sealing"]["KEY_PREFIX"],
        **extra,
    }


class WorkerProcess:
    """A `celery worker` process that a test can kill (SIGKILL) and start again."""

    def __init__(self, env: dict, queue: str, log: Path):
        self.env, self.queue, self.log_path = env, queue, log
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        with self.log_path.open("a") as out:
            self.process = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "celery",
                    "-A",
                    "config",
                    "worker",
                    "--pool=solo",
                    "--concurrency=1",
                    "-Q",
                    self.queue,
                    "--without-gossip",
                    "--without-mingle",
                    "--without-heartbeat",
                    "-l",
                    "INFO",
                ],
                cwd=ROOT,
                env=self.env,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        _wait_until_ready(self.process, self.log_path)

    def kill(self) -> None:
        self.process.kill()
        self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)

    def poll(self):
        return self.process.poll()

    def terminate(self) -> None:
        self.stop()

    def wait(self, timeout=None):
        return self.process.wait(timeout=timeout)


@contextmanager
def celery_worker(smtp_server, tmp_path, broker_url: str = BROKER_URL, **extra_env):
    """Start a worker on a private queue of `broker_url` and point this process's Celery
    app at it; restore both after."""
    queue = f"countersign-test-{uuid.uuid4().hex[:12]}"
    env = worker_environment(
        connection.settings_dict,
        broker_url,
        smtp_server.port,
        CELERY_TASK_DEFAULT_QUEUE=queue,  # tasks the worker sends itself stay private too
        **extra_env,
    )
    worker = WorkerProcess(env, queue, tmp_path / f"worker-{queue}.log")
    saved = {
        k: celery_app.conf[k] for k in ("broker_url", "task_always_eager", "task_default_queue")
    }
    celery_app.conf.update(broker_url=broker_url, task_always_eager=False, task_default_queue=queue)
    _reset_broker_connections()
    try:
        worker.start()
        yield worker
    finally:
        worker.stop()
        celery_app.conf.update(saved)
        _reset_broker_connections()
        assert settings.CELERY_TASK_ALWAYS_EAGER  # the rest of the suite stays in-process


@pytest.fixture
def celery_worker_process(transactional_db, smtp_server, tmp_path):
    """A real `celery worker` process on a private Redis queue, using the test database.

    The test process sends tasks through the same broker; both sides are restored after.
    """
    with celery_worker(smtp_server, tmp_path) as worker:
        yield worker


@pytest.fixture
def private_redis(tmp_path):
    server = RedisServer(tmp_path)
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def private_postgres():
    """A PostgreSQL 15 cluster of the session's own on a free loopback port, with the
    migrated template every `app_stack` copies; stopped and deleted at the end."""
    with PostgresCluster() as cluster:
        migrate_template(cluster)
        yield cluster


@pytest.fixture
def app_stack(private_postgres, tmp_path):
    """gunicorn on a fresh copy of the migrated database in `private_postgres` and on a
    private redis-server (cache, broker and sealing store): (stack, postgres, redis)."""
    with RedisServer(tmp_path) as redis, AppStack(private_postgres, redis, tmp_path) as stack:
        yield stack, private_postgres, redis


class WebhookReceiver:
    """An HTTP server on 127.0.0.1 that records each POST and answers with the next status
    from `statuses` (200 once they run out)."""

    def __init__(self):
        self.requests: list[tuple[dict[str, str], bytes, int]] = []
        self.statuses: list[int] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                status = receiver.statuses.pop(0) if receiver.statuses else 200
                receiver.requests.append((dict(self.headers.items()), body, status))
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks/countersign"

    def accepted(self) -> list[tuple[dict[str, str], bytes, int]]:
        return [r for r in self.requests if 200 <= r[2] < 300]

    def wait_for(self, accepted: int = 1, timeout: float = 30) -> list:
        deadline = time.monotonic() + timeout
        while len(self.accepted()) < accepted and time.monotonic() < deadline:
            time.sleep(0.1)
        return self.accepted()


@pytest.fixture
def webhook_receiver():
    receiver = WebhookReceiver()
    receiver.thread.start()
    yield receiver
    receiver.server.shutdown()
    receiver.server.server_close()


def _reset_broker_connections() -> None:
    # Celery caches its connection and producer pools on first use; drop them so the next
    # task goes to the broker configured now. (Private attributes: there is no public reset.)
    if celery_app._pool is not None:
        celery_app._pool.force_close_all()
        celery_app._pool = None
    celery_app.amqp._producer_pool = None
    kombu_pools.reset()  # kombu keeps producer pools per broker URL, process-wide


def _wait_until_ready(worker: subprocess.Popen, log: Path, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if worker.poll() is not None:
            raise RuntimeError(f"celery worker exited:\n{log.read_text()}")
        if " ready." in log.read_text():
            return
        time.sleep(0.2)
    raise RuntimeError(f"celery worker not ready after {timeout}s:\n{log.read_text()}")
