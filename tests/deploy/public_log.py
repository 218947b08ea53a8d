"""Re-verifying a petition from its public endpoints alone, as docs/protocol.md ("Re-verifying
a petition") tells anyone to: written from that text with `cryptography`, importing nothing
of the app, so that a restored or upgraded site is checked the way an outsider would."""

from __future__ import annotations

import base64
import hashlib
import json
import urllib.parse
import urllib.request

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.serialization import load_der_public_key

PSS = padding.PSS(mgf=padding.MGF1(hashes.SHA384()), salt_length=48)


def b64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def get_json(url: str) -> dict:
    with urllib.request.urlopen(url, timeout=20) as response:  # noqa: S310 (loopback)
        return json.load(response)


class LogInvalid(AssertionError):
    pass


def verify_petition(base_url: str, slug: str) -> dict:
    """Every rule of the protocol's list; the per-level counts and the entries' nullifiers.
    Raises LogInvalid naming the first rule broken."""
    api = f"{base_url}/api/v1/petitions/{urllib.parse.quote(slug)}"
    keyset = get_json(f"{api}/keys")
    petition_id = b64url(keyset["petition_id"])
    keys = {}
    for key in keyset["keys"]:
        spki, key_id = b64url(key["spki"]), b64url(key["key_id"])
        if hashlib.sha256(spki).digest() != key_id:
            raise LogInvalid(f"key {key['key_id']}: key_id is not SHA-256(spki)")
        public = load_der_public_key(spki)
        if not isinstance(public, rsa.RSAPublicKey) or public.key_size < 2048:
            raise LogInvalid(f"key {key['key_id']}: not an RSA key of 2048 bits or more")
        keys[key_id] = (key["level"], public, key.get("invalidated_at"))

    entries, url = [], f"{api}/log"
    for _ in range(10_000):  # pages of 1,000: bounded
        page = get_json(url)
        entries.extend(page["entries"])
        if not page["next"]:
            break
        url = urllib.parse.urljoin(base_url, page["next"])
    counts: dict[str, int] = {}
    previous = b""
    for entry in entries:
        nullifier, key_id = b64url(entry["nullifier"]), b64url(entry["key_id"])
        msg, sig = b64url(entry["msg"]), b64url(entry["sig"])
        if nullifier <= previous:
            raise LogInvalid(f"entry {entry['nullifier']}: nullifiers not strictly increasing")
        previous = nullifier
        if key_id not in keys:
            raise LogInvalid(f"entry {entry['nullifier']}: a key the petition does not list")
        level, public, invalidated = keys[key_id]
        if len(msg) != 127:
            raise LogInvalid(f"entry {entry['nullifier']}: msg is {len(msg)} bytes, not 127")
        try:
            public.verify(sig, msg, PSS, hashes.SHA384())
        except Exception as exc:
            raise LogInvalid(f"entry {entry['nullifier']}: bad RSASSA-PSS signature") from exc
        if msg[47:63] != petition_id or msg[63:95] != key_id or msg[95:127] != nullifier:
            raise LogInvalid(f"entry {entry['nullifier']}: msg does not bind petition, key, id")
        if not entry["withdrawn"] and not invalidated:
            counts[level] = counts.get(level, 0) + 1

    served = get_json(api)["counts"]
    for level in {*counts, *(k for k in served if k != "total")}:
        if served.get(level, 0) != counts.get(level, 0):
            raise LogInvalid(f"{level}: the API counts {served.get(level)}, the log {counts}")
    if served["total"] != sum(counts.values()):
        raise LogInvalid(f"total: the API counts {served['total']}, the log {counts}")
    return {"counts": counts, "nullifiers": [e["nullifier"] for e in entries]}
