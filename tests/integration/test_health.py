"""/healthz checks the database, Redis, and that beat and a worker ran recently (ops walk,
row 28), with a real worker and a real beat process; it sets no cookie and logs nothing
about the caller. /livez stays trivial (load balancers, the benchmark baseline)."""

from __future__ import annotations

import json
import logging
import subprocess
import sys
import time
import uuid

import pytest
from django.db import connection
from django.db.utils import OperationalError
from django.test import Client

from config import health
from petition.tlog.services import log_key

from .conftest import BROKER_URL, ROOT, celery_worker, worker_environment


def _get(client=None):
    response = (client or Client(REMOTE_ADDR="198.51.100.23")).get(
        "/healthz", HTTP_USER_AGENT="monitor-probe/1.0"
    )
    assert not response.cookies and "Set-Cookie" not in response
    assert response["Content-Type"] == "application/json"
    return response.status_code, json.loads(response.content)


@pytest.mark.django_db
def test_ok_when_everything_ran_recently_and_503_naming_what_did_not(settings, caplog):
    caplog.set_level(logging.DEBUG)
    health.heartbeat()  # as the worker runs it
    health._beat_sent_heartbeat(sender=health.HEARTBEAT_TASK)  # as beat sends it
    assert _get() == (
        200,
        {
            "status": "ok",
            "checks": {
                "database": "ok",
                "key_encryption_key": "ok",
                "redis": "ok",
                "beat": "ok",
                "worker": "ok",
            },
        },
    )
    settings.COUNTERSIGN_HEALTH_MAX_AGE_SECONDS = 0
    time.sleep(0.05)
    status, body = _get()
    assert (status, body["status"], body["failed"]) == (503, "failing", ["beat", "worker"])
    assert body["checks"]["worker"] == "unknown"
    assert "198.51.100" not in caplog.text and "monitor-probe" not in caplog.text
    assert Client().get("/livez").content == b"ok"


@pytest.mark.django_db
def test_the_database_is_checked(monkeypatch):
    """A database outage (no PostgreSQL of its own can be stopped under the test's
    connection, so the cursor is made to fail the way psycopg does)."""

    def refuse(*args, **kwargs):
        raise OperationalError("connection refused")

    health.heartbeat()
    health._beat_sent_heartbeat(sender=health.HEARTBEAT_TASK)
    monkeypatch.setattr(connection, "cursor", refuse)
    status, body = _get()
    assert (status, body["failed"]) == (503, ["database"])


@pytest.mark.django_db
def test_a_key_encryption_key_that_does_not_open_the_stored_keys_is_named(settings):
    health.heartbeat()
    health._beat_sent_heartbeat(sender=health.HEARTBEAT_TASK)
    log_key()  # made under the key in use
    assert _get()[0] == 200
    settings.COUNTERSIGN_KEY_ENCRYPTION_KEY = "Zr5w0_Vd9kP2mQxL7aT3yB8nE1cH6uJ4sG0fR-iOk2M"
    status, body = _get()
    assert (status, body["failed"]) == (503, ["key_encryption_key"])


@pytest.mark.django_db
def test_redis_down_is_named(settings, private_redis):
    settings.CACHES = {
        **settings.CACHES,
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": private_redis.url,
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        },
    }
    private_redis.stop()
    status, body = _get()
    assert (status, body["failed"]) == (503, ["redis", "beat", "worker"])
    assert body["checks"]["redis"] == "failed" and body["checks"]["database"] == "ok"


def _wait_for(status_wanted, failed_wanted, timeout=40):
    deadline = time.monotonic() + timeout
    seen = None
    while time.monotonic() < deadline:
        seen = _get()
        if seen[0] == status_wanted and seen[1].get("failed", []) == failed_wanted:
            return seen
        time.sleep(0.5)
    raise AssertionError(f"waited for {status_wanted} {failed_wanted}, last: {seen}")


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_real_beat_and_worker_keep_it_green_and_each_stop_is_named(
    settings, smtp_server, tmp_path
):
    prefix = f"cs-health-{uuid.uuid4().hex[:8]}"
    settings.CACHES = {
        **settings.CACHES,
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": BROKER_URL,
            "KEY_PREFIX": prefix,
        },
    }
    settings.COUNTERSIGN_HEALTH_MAX_AGE_SECONDS = 4
    extra = {"COUNTERSIGN_CACHE_PREFIX": prefix, "COUNTERSIGN_HEARTBEAT_SECONDS": "1"}
    with celery_worker(smtp_server, tmp_path, **extra) as worker:
        env = worker_environment(
            connection.settings_dict,
            BROKER_URL,
            smtp_server.port,
            CELERY_TASK_DEFAULT_QUEUE=worker.queue,
            **extra,
        )
        with (tmp_path / "beat.log").open("w") as log:
            beat = subprocess.Popen(
                [sys.executable, "-m", "celery", "-A", "config", "beat", "-l", "INFO",
                 "--schedule", str(tmp_path / "beat-schedule")],
                cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
            )  # fmt: skip
        try:
            _wait_for(200, [])
            worker.stop()
            _wait_for(503, ["worker"])
        finally:
            beat.terminate()
            beat.wait(timeout=20)
        _status, body = _wait_for(503, ["beat", "worker"])
        assert body["checks"] == {
            "database": "ok",
            "key_encryption_key": "ok",
            "redis": "ok",
            "beat": "stale",
            "worker": "unknown",
        }
