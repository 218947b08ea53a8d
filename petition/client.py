"""What the server may do with a signer's network address: use it in memory for the
employer-network warning (P6) and as a keyed, short-lived hash for abuse limits. It is never
stored in the database or written to a log."""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import time

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest

from .keys import server_secret


def client_address(request: HttpRequest) -> str:
    """The client's address, honouring COUNTERSIGN_TRUSTED_PROXIES reverse-proxy hops.

    With N trusted proxies, the client is the Nth address from the right of
    X-Forwarded-For (each proxy appends the address it saw); anything further left was
    written by the client and cannot be trusted.
    """
    hops = settings.COUNTERSIGN_TRUSTED_PROXIES
    if hops:
        forwarded = [a.strip() for a in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
        forwarded = [a for a in forwarded if a]
        if len(forwarded) >= hops:
            return forwarded[-hops]
    return request.META.get("REMOTE_ADDR", "")


def on_employer_network(request: HttpRequest, networks: list[str]) -> bool:
    try:
        address = ipaddress.ip_address(client_address(request))
    except ValueError:
        return False
    for network in networks:
        try:
            if address in ipaddress.ip_network(network, strict=False):
                return True
        except ValueError:
            continue
    return False


def rate_limited(request: HttpRequest, action: str, limit: int, window: int) -> bool:
    """Count this request against `limit` per `window` seconds for the client.

    The cache key is an HMAC of the address under a server secret, so a Redis dump does
    not list who made requests, and it expires with the window.
    """
    bucket = int(time.time()) // window
    digest = hmac.new(
        server_secret(b"rate-limits"),
        f"{action}/{bucket}/{client_address(request)}".encode(),
        hashlib.sha256,
    ).hexdigest()[:32]
    key = f"rl:{action}:{digest}"
    cache.add(key, 0, timeout=window)
    try:
        return cache.incr(key) > limit
    except ValueError:  # expired between add and incr
        return False
