"""Protocol v1's error and wire format (docs/protocol.md), shared by every endpoint.

A `ProtocolError` carries the HTTP status and the machine-readable code that the API
answers with as `{"error": {"code", "message"}}`.
"""

from __future__ import annotations

from dataclasses import dataclass

from . import blindrsa


@dataclass
class ProtocolError(Exception):
    status: int
    code: str
    message: str


def decode_b64(value, name: str, *, length: int | None = None, max_length: int = 1024) -> bytes:
    if not isinstance(value, str):
        raise ProtocolError(400, "malformed", f"{name} must be a base64url string.")
    try:
        data = blindrsa.b64url_decode(value)
    except ValueError as exc:
        raise ProtocolError(400, "malformed", f"{name} is not base64url without padding.") from exc
    if (length is not None and len(data) != length) or len(data) > max_length:
        raise ProtocolError(400, "malformed", f"{name} has the wrong length.")
    return data
