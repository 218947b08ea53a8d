"""Health for monitors: `/healthz` checks the database, that the key-encryption key opens
the stored keys, Redis, and that beat and a worker ran recently; `/livez` only says the web
process answers (load balancers, the benchmark baseline). Documented in
docs/operations.md, "Monitoring".

Heartbeat: beat sends `config.health.heartbeat` every COUNTERSIGN_HEARTBEAT_SECONDS (60).
Beat notes the time it sent it (the `before_task_publish` signal, in the beat process) and
the worker the time it ran it, both in the cache. `/healthz` answers 503 naming `beat` or
`worker` when its note is older than COUNTERSIGN_HEALTH_MAX_AGE_SECONDS (300): without beat
no batch is published, without a worker no mail is sent. While beat is stale the worker's
state is "unknown" (it only runs what beat sends); a worker that is alive but so busy that
the heartbeat waits longer than the threshold in the queue shows as "stale" too.

Neither view sets a cookie, reads the session or logs anything about the caller.
"""

from __future__ import annotations

import contextlib
import time

from celery import shared_task
from celery.signals import before_task_publish
from cryptography.fernet import InvalidToken
from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.cache import never_cache
from redis.exceptions import RedisError

from petition.keys import fernet
from petition.tlog.models import LogKey
from petition.tlog.services import FERNET_PURPOSE as LOG_KEY_PURPOSE

HEARTBEAT_TASK = "config.health.heartbeat"
BEAT_KEY = "health:beat"
WORKER_KEY = "health:worker"
# What the cache raises when Redis is down or refuses.
CACHE_ERRORS = (RedisError, OSError)


@shared_task(name=HEARTBEAT_TASK, ignore_result=True)
def heartbeat() -> None:
    """Run by a worker: it is alive and takes tasks from the queue."""
    cache.set(WORKER_KEY, time.time(), timeout=None)


@before_task_publish.connect
def _beat_sent_heartbeat(sender=None, **kwargs) -> None:
    """In the process that sends the heartbeat (beat): beat is alive and ticking."""
    if sender != HEARTBEAT_TASK:
        return
    # Redis down: the send fails too, and /healthz says "redis".
    with contextlib.suppress(*CACHE_ERRORS):
        cache.set(BEAT_KEY, time.time(), timeout=None)


def _database() -> bool:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            return cursor.fetchone() == (1,)
    except Exception:  # any database error: down, refused, timed out
        return False


def _key_encryption_key() -> bool:
    """The key-encryption key in the environment opens the stored log key (a wrong or
    rotated-away key would leave every batch and credential failing)."""
    try:
        stored = LogKey.objects.filter(pk=1).values_list("private_key_encrypted", flat=True)
        token = stored.first()
        if token is not None:
            fernet(LOG_KEY_PURPOSE).decrypt(bytes(token))
        return True
    except InvalidToken:
        return False
    except Exception:  # the database itself failed: reported as "database"
        return True


def _fresh(value, now: float) -> bool:
    max_age = settings.COUNTERSIGN_HEALTH_MAX_AGE_SECONDS
    return isinstance(value, (int, float)) and 0 <= now - value <= max_age


def health_checks() -> dict[str, str]:
    database = _database()
    checks = {"database": "ok" if database else "failed"}
    if database:
        checks["key_encryption_key"] = "ok" if _key_encryption_key() else "failed"
    try:
        notes = cache.get_many([BEAT_KEY, WORKER_KEY])
    except CACHE_ERRORS:
        checks.update(redis="failed", beat="unknown", worker="unknown")
        return checks
    now = time.time()
    checks["redis"] = "ok"
    beat = _fresh(notes.get(BEAT_KEY), now)
    checks["beat"] = "ok" if beat else "stale"
    # The worker runs what beat sends: without beat there is nothing to tell by.
    if not beat:
        checks["worker"] = "unknown"
    else:
        checks["worker"] = "ok" if _fresh(notes.get(WORKER_KEY), now) else "stale"
    return checks


@never_cache
def healthz(request: HttpRequest) -> JsonResponse:
    """200 {"status": "ok", "checks": {...}} when everything answers; else 503 with the
    same body, "status": "failing" and "failed": the names of what failed."""
    checks = health_checks()
    failed = [name for name, state in checks.items() if state != "ok"]
    body = {"status": "failing" if failed else "ok", "checks": checks}
    if failed:
        body["failed"] = failed
    return JsonResponse(body, status=503 if failed else 200)


def livez(request: HttpRequest) -> HttpResponse:
    """The web process answers: no database, no template, no cookie."""
    return HttpResponse("ok", content_type="text/plain")
