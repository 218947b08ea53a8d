"""Abuse limits for the signer endpoints, counted per client in the cache.

Each endpoint declares its own `RateLimit` next to its code (`petition/api.py`). The
cache key is an HMAC of the client's bucket (`network.client_bucket`) under a server
secret, so a Redis dump does not list who made requests. Windows are fixed (aligned on
the clock) and every key of a window expires at the window's end: a key's remaining
lifetime tells nothing about when its first request came.
"""

from __future__ import annotations

import hashlib
import hmac
import math
import time
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest

from .keys import server_secret
from .network import client_bucket

DECLARED: dict[str, RateLimit] = {}


@dataclass(frozen=True)
class RateLimit:
    """At most `per_window` requests per client per fixed window of `window` seconds,
    times COUNTERSIGN_RATE_LIMIT_FACTOR. COUNTERSIGN_RATE_LIMITS may override it by name."""

    name: str
    per_window: int
    window: int = 600

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


def count_in_window(purpose: bytes, subject: str, limit: int, window: int) -> bool:
    """Count one event for `subject` in the current fixed window; True past `limit`."""
    number, remaining = fixed_window(window)
    digest = hmac.new(
        server_secret(purpose), f"{number}/{subject}".encode(), hashlib.sha256
    ).hexdigest()[:32]
    key = f"{purpose.decode()}:{digest}"
    cache.add(key, 0, timeout=remaining)
    try:
        return cache.incr(key) > limit
    except ValueError:  # the window ended between add and incr
        return False


def rate_limited(request: HttpRequest, limit: RateLimit) -> bool:
    """Count this request against `limit` for the client; True past the limit."""
    allowed, window = limit.effective()
    return count_in_window(b"rl:" + limit.name.encode(), client_bucket(request), allowed, window)


def retry_after(limit: RateLimit) -> int:
    return fixed_window(limit.effective()[1])[1]
