"""A signer of protocol v1 over real HTTP, for tests against gunicorn on private servers
(tests/integration/instances.py): blinds with petition.blindrsa like static/js/blindrsa.js,
sends a 503'd request again like static/js/sign.js (`retryDelay`: at most 4 times, after
min(Retry-After, 1, 2, 4, 8 s)), and records every answer."""

from __future__ import annotations

import json
import secrets
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field

from cryptography.hazmat.primitives.serialization import load_der_public_key

from petition import blindrsa

RETRY_TRIES = 4  # as static/js/sign.js


def get_json(url: str) -> dict:
    with urllib.request.urlopen(url, timeout=10) as response:  # noqa: S310 (127.0.0.1)
        return json.loads(response.read())


@dataclass
class Answer:
    step: str
    status: int
    body: dict | None
    retry_after: str | None
    content_type: str


@dataclass
class Signer:
    code: str
    answers: list[Answer] = field(default_factory=list)
    nullifier: bytes | None = None
    outcome: str = ""  # "signed", or the last error's code


def error_code(answer: Answer) -> str:
    return ((answer.body or {}).get("error") or {}).get("code", str(answer.status))


def call(
    base: str, path: str, body: dict | None, signer: Signer, step: str, tries=RETRY_TRIES
) -> Answer:
    """One request, sent again on 503 at most `tries` times like the browser client
    (0: never); every answer recorded in `signer.answers`."""
    for attempt in range(tries + 1):
        request = urllib.request.Request(  # noqa: S310 (127.0.0.1)
            f"{base}{path}",
            data=json.dumps(body).encode() if body is not None else None,
            headers={"Content-Type": "application/json"} if body is not None else {},
            method="POST" if body is not None else "GET",
        )
        try:
            with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
                status, headers, raw = response.status, response.headers, response.read()
        except urllib.error.HTTPError as exc:
            status, headers, raw = exc.code, exc.headers, exc.read()
        try:
            parsed = json.loads(raw)
        except ValueError:
            parsed = None
        answer = Answer(
            step, status, parsed, headers.get("Retry-After"), headers.get("Content-Type", "")
        )
        signer.answers.append(answer)
        if status != 503 or attempt == tries:
            return answer
        asked = int(answer.retry_after) if (answer.retry_after or "").isdigit() else 2**attempt
        time.sleep(min(asked, 2**attempt))
    raise AssertionError("unreachable")


def issue(base: str, slug: str, keys: dict, signer: Signer, tries: int = RETRY_TRIES) -> dict:
    """Blind, get the credential for the signer's in-person code, finalize: the signature
    request's body, or {} when the credential was refused (signer.outcome says why)."""
    api = f"/api/v1/petitions/{slug}"
    entry = next(k for k in keys["keys"] if k["level"] == "in_person")
    public = load_der_public_key(blindrsa.b64url_decode(entry["spki"]))
    key_id = blindrsa.b64url_decode(entry["key_id"])
    token = secrets.token_bytes(32)
    nullifier = blindrsa.nullifier(token)
    prepared = blindrsa.prepare(
        blindrsa.build_message(blindrsa.b64url_decode(keys["petition_id"]), key_id, nullifier)
    )
    blinded, inv = blindrsa.blind(public, prepared)
    issued = call(
        base,
        f"{api}/credentials",
        {"level": "in_person", "code": signer.code, "blinded_msg": blindrsa.b64url_encode(blinded)},
        signer,
        "credential",
        tries,
    )
    if issued.status != 200:
        signer.outcome = error_code(issued)
        return {}
    sig = blindrsa.finalize(public, prepared, blindrsa.b64url_decode(issued.body["blind_sig"]), inv)
    signer.nullifier = nullifier
    return {
        "key_id": blindrsa.b64url_encode(key_id),
        "msg": blindrsa.b64url_encode(prepared),
        "sig": blindrsa.b64url_encode(sig),
    }


def sign(base: str, slug: str, keys: dict, signer: Signer) -> None:
    """Protocol v1 as the browser does it: blind, get the credential, finalize, redeem,
    each request sent again on 503."""
    payload = issue(base, slug, keys, signer)
    if not payload:
        return
    signed = call(base, f"/api/v1/petitions/{slug}/signatures", payload, signer, "signature")
    retried = len([a for a in signer.answers if a.step == "signature"]) > 1
    if signed.status == 201:
        signer.outcome = "signed"
    elif retried and (signed.body or {}).get("error", {}).get("code") == "already_signed":
        # The restart cut the connection as COMMIT went through: the first try is stored
        # (the test checks it) and the browser shows "already accepted, it is in the count".
        signer.outcome = "signed, answer lost"
    else:
        signer.outcome = error_code(signed)
