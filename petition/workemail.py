"""Work addresses: one canonical form per mailbox, and the sealed letter to the worker.

Mail systems deliver `x+anything@corp` (and, on some, `x-anything@corp`) to `x@corp`, and
ignore the case of the address. If the ledger keyed on the address as typed, one person
could collect one credential per spelling. It keys on the canonical form instead.
"""

from __future__ import annotations

import json
import time
from datetime import timedelta

from django.core.exceptions import ValidationError
from django.core.validators import validate_email

from .keys import fernet
from .protocol import ProtocolError

EMAIL_CODE_TTL = timedelta(minutes=15)
# Separators a campaign may add to `+` (Campaign.email_subaddress_separator).
SUBADDRESS = "+"
MAX_ADDRESS_LENGTH = 254


def _invalid() -> ProtocolError:
    return ProtocolError(400, "invalid_email", "This is not an email address.")


def canonical_domain(domain: str) -> str:
    """Lower case, IDNA (punycode) form, no trailing dot. ValueError when it is no name."""
    domain = domain.strip().rstrip(".")
    if not domain:
        raise ValueError("empty domain")
    try:
        return domain.encode("idna").decode("ascii").lower()
    except UnicodeError as exc:
        raise ValueError("not a domain name") from exc


def canonical_address(email, *, extra_separator: str = "") -> str:
    """The one spelling of a mailbox: lower case, IDNA domain, no sub-address.

    Quoted local parts and comments are refused rather than interpreted: `"x"@corp` and
    `x(comment)@corp` reach `x@corp` on most systems, and nobody needs them for a work
    address.
    """
    if not isinstance(email, str):
        raise _invalid()
    text = email.strip()
    if not text or len(text) > MAX_ADDRESS_LENGTH:
        raise _invalid()
    if any(c in text for c in '"()\\'):
        raise ProtocolError(
            400,
            "unsupported_address",
            "Type the address without quotes or comments, like name@example.com.",
        )
    local, at, domain = text.rpartition("@")
    if not at or not local:
        raise _invalid()
    try:
        domain = canonical_domain(domain)
    except ValueError as exc:
        raise _invalid() from exc
    local = local.lower()
    for separator in SUBADDRESS + extra_separator:
        local = local.split(separator, 1)[0]
    address = f"{local}@{domain}"
    if not local:
        raise _invalid()
    try:
        validate_email(address)
    except ValidationError as exc:
        raise _invalid() from exc
    return address


def seal_mail(*, to: str, code: str) -> str:
    """The address travels to the worker encrypted, never in clear in the broker, and the
    letter expires with the code."""
    return fernet(b"mail").encrypt(json.dumps({"to": to, "code": code}).encode()).decode()


def sealed_mail_seconds_left(sealed: str, now: float | None = None) -> float:
    """Seconds until the sealed letter (and its code) expires; 0 or less once it has."""
    issued = fernet(b"mail").extract_timestamp(sealed.encode())
    now = time.time() if now is None else now
    return issued + EMAIL_CODE_TTL.total_seconds() - now


def open_sealed_mail(sealed: str) -> dict:
    return json.loads(
        fernet(b"mail").decrypt(sealed.encode(), ttl=int(EMAIL_CODE_TTL.total_seconds()))
    )
