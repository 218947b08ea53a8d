"""The two ways a notice leaves the server: SMTP, and an HTTP(S) POST to a webhook.

Webhooks are the classic server-side request forgery door, so the address is checked on
the socket actually connected, not on a name looked up earlier: the name is resolved once,
each address is checked, the connection goes to that address, and the peer address of the
connected socket is checked again before a byte is sent. TLS still verifies the certificate
against the host name (SNI), so pinning the address weakens nothing.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import http.client
import ipaddress
import socket
import ssl
import time
from urllib.parse import urlsplit

from django.conf import settings
from django.core.mail import EmailMessage, get_connection

from petition.keys import server_secret

WEBHOOK_TIMEOUT = 10  # seconds per connect, send and read; the task's limit bounds the total
# Deprecated (December 2026): kept for one release next to the Standard Webhooks headers,
# then removed. docs/operations.md#webhooks says how to move a receiver over.
SIGNATURE_HEADER = "X-Countersign-Signature"
MAX_RESPONSE_BYTES = 64 * 1024


class SendError(Exception):
    """A send failed in a way worth retrying later (server down, 5xx, timeout)."""


class UnsafeAddress(SendError):
    """The webhook's host resolves to, or connected to, an address we never call."""


# --- email ------------------------------------------------------------------------------


def send_email(*, to: str, subject: str, body: str, message_id: str, language: str) -> None:
    """One message over SMTP. The Message-ID is derived from the delivery, so in the one
    window no outbox can close (the server accepted, the worker died before recording it)
    a second copy carries the same id and mail clients show it once."""
    message = EmailMessage(
        subject=subject,
        body=body,
        to=[to],
        # Plain-text mail has no lang attribute: the header names its language (RFC 3282).
        headers={"Message-ID": message_id, "Content-Language": language},
        connection=get_connection(timeout=settings.EMAIL_TIMEOUT),
    )
    try:
        message.send()
    except (OSError, ssl.SSLError) as exc:  # smtplib errors are OSErrors
        raise SendError(f"SMTP: {type(exc).__name__}") from exc


# --- webhooks ---------------------------------------------------------------------------


def webhook_secret(salt: str) -> bytes:
    return hmac.new(server_secret(b"webhooks"), salt.encode(), hashlib.sha256).digest()


def webhook_secret_text(salt: str) -> str:
    """The secret as the organizer copies it into their receiver."""
    return "whsec_" + webhook_secret(salt).hex()


def signature_header(secret_text: str, timestamp: int, body: bytes) -> str:
    """`t=<unix time>,v1=<hex HMAC-SHA256 over "<t>.<body>">` (docs/operations.md)."""
    signed = str(timestamp).encode() + b"." + body
    digest = hmac.new(secret_text.encode(), signed, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


# IPv6 is called only inside global unicast (2000::/3), and never in the parts of it that
# carry an IPv4 address a gateway may forward to (a NAT64 or 6to4 relay on an IPv6-only
# host turns 64:ff9b::7f00:1 into 127.0.0.1). Everything outside 2000::/3 is refused
# whole: IPv4-compatible ::/96, mapped and SIIT ::ffff:0:0/96 and ::ffff:0:0:0/96,
# NAT64 64:ff9b::/96 and 64:ff9b:1::/48, site-local fec0::/10, unique-local, link-local.
# Listing what may be called instead of what may not means that a form we did not think
# of is refused too.
IPV6_CALLABLE = ipaddress.ip_network("2000::/3")
IPV6_EMBEDS_IPV4 = (
    ipaddress.ip_network("2001::/32"),  # Teredo
    ipaddress.ip_network("2002::/16"),  # 6to4
)


def address_allowed(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if ip.is_loopback:  # 127.0.0.0/8 and ::1 only: no embedded form counts as loopback
        return settings.COUNTERSIGN_WEBHOOK_ALLOW_LOOPBACK
    if isinstance(ip, ipaddress.IPv6Address) and (
        ip not in IPV6_CALLABLE or any(ip in net for net in IPV6_EMBEDS_IPV4)
    ):
        return False
    # is_global excludes private, link-local (cloud metadata at 169.254.169.254), shared
    # (100.64/10), reserved, documentation and unspecified ranges.
    return ip.is_global and not ip.is_multicast


def url_problem(url: str) -> str | None:
    """Why this URL can never be a webhook, judged without a network lookup (a form uses
    it); `None` if it may be. The address check on connection still applies."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return "malformed"
    if parts.scheme not in ("https", "http"):
        return "scheme"
    if parts.scheme == "http" and settings.COUNTERSIGN_PRODUCTION:
        return "scheme"
    if not parts.hostname or parts.username or parts.password:
        return "host"
    if port is not None and not 0 < port < 65536:
        return "malformed"
    try:
        literal = ipaddress.ip_address(parts.hostname)
    except ValueError:
        return None
    return None if address_allowed(str(literal)) else "address"


def is_loopback_url(url: str) -> bool:
    """Whether the URL names this computer (a loopback address or `localhost`): the one
    refusal a demo can lift (COUNTERSIGN_WEBHOOK_ALLOW_LOOPBACK), so the form says how."""
    host = (urlsplit(url).hostname or "").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _connect(host: str, port: int) -> socket.socket:
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise SendError("webhook host does not resolve") from exc
    refused: Exception | None = None
    for family, socktype, proto, _name, sockaddr in infos:
        if not address_allowed(sockaddr[0]):
            refused = refused or UnsafeAddress("webhook host resolves to a non-public address")
            continue
        sock = socket.socket(family, socktype, proto)
        sock.settimeout(WEBHOOK_TIMEOUT)
        try:
            sock.connect(sockaddr)
            if not address_allowed(sock.getpeername()[0]):
                raise UnsafeAddress("connected to a non-public address")
        except UnsafeAddress as exc:
            sock.close()
            refused = exc
            continue
        except OSError as exc:
            sock.close()
            refused = SendError(f"webhook connection failed: {type(exc).__name__}")
            continue
        return sock
    raise refused or SendError("webhook host has no address")


def post_webhook(*, url: str, body: bytes, headers: dict[str, str]) -> int:
    """POST `body` to `url`; returns the status code, raises SendError unless 2xx.
    Redirects are not followed (a redirect could point anywhere)."""
    problem = url_problem(url)
    if problem:
        raise UnsafeAddress(f"webhook URL refused ({problem})")
    parts = urlsplit(url)
    https = parts.scheme == "https"
    port = parts.port or (443 if https else 80)
    sock = _connect(parts.hostname, port)
    try:
        if https:
            context = ssl.create_default_context()
            sock = context.wrap_socket(sock, server_hostname=parts.hostname)
        connection = http.client.HTTPConnection(parts.hostname, port, timeout=WEBHOOK_TIMEOUT)
        connection.sock = sock  # already connected to the checked address
        path = parts.path or "/"
        if parts.query:
            path += "?" + parts.query
        connection.request("POST", path, body=body, headers=headers)
        response = connection.getresponse()
        response.read(MAX_RESPONSE_BYTES)
        status = response.status
    except (OSError, http.client.HTTPException) as exc:
        raise SendError(f"webhook: {type(exc).__name__}") from exc
    finally:
        sock.close()
    if not 200 <= status < 300:
        raise SendError(f"webhook answered HTTP {status}")
    return status


def standard_webhooks_key(secret_text: str) -> bytes:
    """The HMAC key of a `whsec_…` secret under the Standard Webhooks specification: the
    base64 text after the prefix, decoded. Our secrets are `whsec_` and 64 hex digits, which
    are base64 characters too (they decode to 48 bytes), so every secret already handed out
    works with any Standard Webhooks library as it is: no secret changes, no migration."""
    return base64.b64decode(secret_text.removeprefix("whsec_"), validate=True)


def standard_webhooks_signature(secret_text: str, message_id: str, timestamp: int, body: bytes):
    """`v1,<base64 HMAC-SHA256 over "<id>.<timestamp>.<body>">` (standardwebhooks.com)."""
    signed = f"{message_id}.{timestamp}.".encode() + body
    digest = hmac.new(standard_webhooks_key(secret_text), signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def webhook_message_id(delivery_id: int | str) -> str:
    """One id per notice and webhook, the same on every retry, so a receiver can drop a
    repeat (the spec's idempotency key)."""
    return f"cs_delivery_{delivery_id}"


def webhook_headers(
    *, salt: str, body: bytes, delivery_id: int | str, timestamp: int | None = None
) -> dict[str, str]:
    """The headers of one webhook POST: the Standard Webhooks trio (`webhook-id`,
    `webhook-timestamp`, `webhook-signature`) and, for one more release, the deprecated
    `X-Countersign-Signature` and `X-Countersign-Delivery`."""
    timestamp = int(time.time()) if timestamp is None else timestamp
    secret_text = webhook_secret_text(salt)
    message_id = webhook_message_id(delivery_id)
    return {
        "Content-Type": "application/json",
        "User-Agent": "Countersign-Webhook/1",
        "webhook-id": message_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": standard_webhooks_signature(secret_text, message_id, timestamp, body),
        # Deprecated, removed in the release after next: the same check in our own format.
        SIGNATURE_HEADER: signature_header(secret_text, timestamp, body),
        "X-Countersign-Delivery": str(delivery_id),
    }
