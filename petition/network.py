"""What the server may do with a signer's network address: use it in memory for the
employer-network warning (P6) and, reduced to a keyed hash, as an abuse-limit bucket
(`petition/ratelimits.py`). It is never stored in the database or written to a log."""

from __future__ import annotations

import ipaddress

from django.conf import settings
from django.http import HttpRequest

# One IPv6 customer gets at least a /64 and chooses freely inside it, so a limit keyed on
# the full address would give one person 2**64 buckets.
IPV6_BUCKET_PREFIX = 64


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


def client_bucket(request: HttpRequest) -> str:
    """Who a limit counts against: the IPv4 address, or the IPv6 /64 the address is in."""
    raw = client_address(request)
    try:
        address = ipaddress.ip_address(raw)
    except ValueError:
        return raw
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped:
            return str(address.ipv4_mapped)
        return str(ipaddress.ip_network(f"{address}/{IPV6_BUCKET_PREFIX}", strict=False))
    return str(address)


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
