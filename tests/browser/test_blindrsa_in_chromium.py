"""The browser client (static/js/blindrsa.js) in Chromium: the RFC 9474 vectors, and a full
blind-sign round trip against the Python server code."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import pytest

from petition import blindrsa

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

VECTORS = Path(__file__).resolve().parents[1] / "data" / "rfc9474-test-vectors.json"


def test_rfc9474_vectors_pass_in_chromium(live_server, page):
    page.goto(f"{live_server.url}/")
    result = page.evaluate(
        """async (vectors) => {
            const m = await import('/static/js/blindrsa-selftest.js');
            return await m.selfTest(vectors);
        }""",
        json.loads(VECTORS.read_text()),
    )
    assert result["failed"] == [], result
    assert result["passed"] == 4
    assert page.problems == []


def test_chromium_client_and_python_server_interoperate(live_server, page):
    key = blindrsa.generate_private_key(2048)
    spki = blindrsa.public_key_spki_der(key.public_key())
    petition_id = uuid.uuid4().bytes
    page.goto(f"{live_server.url}/")
    request = page.evaluate(
        """async ([spki, petitionId]) => {
            const m = await import('/static/js/blindrsa.js');
            const req = await m.createCredentialRequest({spki, petitionId});
            window.pending = req;
            return {blindedMsg: m.b64urlEncode(req.blindedMsg),
                    preparedMsg: m.b64urlEncode(req.preparedMsg),
                    token: m.b64urlEncode(req.token)};
        }""",
        [blindrsa.b64url_encode(spki), blindrsa.b64url_encode(petition_id)],
    )
    blind_sig = blindrsa.blind_sign(key, blindrsa.b64url_decode(request["blindedMsg"]))
    sig = page.evaluate(
        """async ([spki, blindSig]) => {
            const m = await import('/static/js/blindrsa.js');
            const req = window.pending;
            const sig = await m.completeCredential(
                {spki, preparedMsg: req.preparedMsg, blindSig, inv: req.inv});
            return m.b64urlEncode(sig);
        }""",
        [blindrsa.b64url_encode(spki), blindrsa.b64url_encode(blind_sig)],
    )
    prepared = blindrsa.b64url_decode(request["preparedMsg"])
    assert blindrsa.verify(key.public_key(), prepared, blindrsa.b64url_decode(sig))
    # The message inside is the protocol's: tag, petition id, key id, SHA-256(token).
    pid, kid, nullifier = blindrsa.parse_message(prepared[blindrsa.PREFIX_LEN :])
    assert pid == petition_id
    assert kid == blindrsa.key_id(key.public_key())
    assert nullifier == blindrsa.nullifier(blindrsa.b64url_decode(request["token"]))
    assert page.problems == []
