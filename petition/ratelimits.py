"""Abuse limits for the signer endpoints, counted per client in the cache.

Each endpoint declares its own `RateLimit` next to its code (`petition/api.py`). The
cache key is an HMAC of the client's bucket (`network.client_bucket`) under a server
secret, so a Redis dump does not list who made requests. Windows are fixed (aligned on
the clock) and every key of a window expires at the window's end: a key's remaining
lifetime tells nothing about when its first request came.

When the cache (Redis) cannot be reached, each limit does what it declares
(`fail_open`, decided per action in docs/threat-model.md, "Rate limits when Redis is
down"): an open limit lets the request through uncounted (the limit only spreads load; the
code, the credential or the database's attempt counter is what authorizes), a closed one
raises `LimitsUnavailable`, which the API answers with 503 and Retry-After.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import math
import time
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache, caches
from django.core.cache.backends.redis import RedisCache
from django.http import HttpRequest
from redis.exceptions import RedisError

from .keys import server_secret
from .network import client_bucket

logger = logging.getLogger(__name__)

DECLARED: dict[str, RateLimit] = {}
# What the cache raises when Redis is down, refuses or times out.
STORE_ERRORS = (RedisError, OSError)
# Seconds a client is asked to wait when a closed limit cannot be counted: about the time
# Redis takes to restart, and what the browser client waits before it asks again.
RETRY_WHEN_DOWN = 30


class LimitsUnavailable(Exception):
    """A limit that fails closed could not be counted: the cache is unreachable."""


@dataclass(frozen=True)
class RateLimit:
    """At most `per_window` requests per client per fixed window of `window` seconds,
    times COUNTERSIGN_RATE_LIMIT_FACTOR. COUNTERSIGN_RATE_LIMITS may override it by name."""

    name: str
    per_window: int
    window: int = 600
    # What happens when the cache cannot be reached: True lets the request through
    # uncounted, False (the default) refuses it with LimitsUnavailable. Every declaration
    # says which, next to the reason.
    fail_open: bool = False

    def __post_init__(self) -> None:
        DECLARED[self.name] = self

    def effective(self) -> tuple[int, int]:
        override = settings.COUNTERSIGN_RATE_LIMITS.get(self.name)
        if override is not None:
            return override
        return self.per_window * settings.COUNTERSIGN_RATE_LIMIT_FACTOR, self.window


def fixed_window(window: int, now: float | None = None) -> tuple[int, int]:
    """(window number, whole seconds until it ends) for a window of `window` seconds.

    Rounded up: the cache counts in whole seconds, so every key of a window expires within
    one second after the window's end, whenever its first request came."""
    now = time.time() if now is None else now
    number = int(now // window)
    return number, max(1, math.ceil((number + 1) * window - now))


def count_in_window(
    purpose: bytes, subject: str, limit: int, window: int, *, fail_open: bool
) -> bool:
    """Count one event for `subject` in the current fixed window; True past `limit`.

    If the cache cannot be reached: False (not limited) when `fail_open`, else
    `LimitsUnavailable`. One warning line names the limit, never the subject."""
    number, remaining = fixed_window(window)
    digest = hmac.new(
        server_secret(purpose), f"{number}/{subject}".encode(), hashlib.sha256
    ).hexdigest()[:32]
    key = f"{purpose.decode()}:{digest}"
    try:
        return _count(key, remaining) > limit
    except STORE_ERRORS as exc:
        action = "not counted" if fail_open else "refused"
        logger.warning(
            "rate limit %s: cache unavailable (%s), request %s",
            purpose.decode(),
            type(exc).__name__,
            action,
        )
        if fail_open:
            return False
        raise LimitsUnavailable(purpose.decode()) from exc


def _count(key: str, remaining: int) -> int:
    """Add one to the counter `key`, made with the window's expiry if it is new; returns the
    count. On Redis one round trip (every signer request pays it): in one MULTI, SET NX EX,
    INCR, and EXPIRE NX in case the key expired between the two (Django's add and incr took
    three round trips). Other caches (the embedded default): add and incr."""
    backend = caches["default"]  # the backend itself: `cache` is a proxy to it
    if isinstance(backend, RedisCache):
        full_key = backend.make_and_validate_key(key)
        pipe = backend._cache.get_client(full_key, write=True).pipeline(transaction=True)
        pipe.set(full_key, 0, ex=remaining, nx=True)
        pipe.incr(full_key)
        pipe.expire(full_key, remaining, nx=True)
        return pipe.execute()[1]
    cache.add(key, 0, timeout=remaining)
    try:
        return cache.incr(key)
    except ValueError:  # the window ended between add and incr
        return 0


def rate_limited(request: HttpRequest, limit: RateLimit) -> bool:
    """Count this request against `limit` for the client; True past the limit."""
    allowed, window = limit.effective()
    return count_in_window(
        b"rl:" + limit.name.encode(),
        client_bucket(request),
        allowed,
        window,
        fail_open=limit.fail_open,
    )


def retry_after(limit: RateLimit) -> int:
    return fixed_window(limit.effective()[1])[1]
