"""The witness client (petition/tlog/witness.py) against a small real tlog-witness v1.0.0
server on 127.0.0.1, written here: it checks the log's signature and the consistency
proof, answers 409 with its size, and cosigns (tlog-cosignature v1.0.1)."""

from __future__ import annotations

import base64
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.db import transaction

from petition.models import WitnessCosignature, WitnessState
from petition.tlog import entries, merkle, notes, services, tasks, witness

pytestmark = pytest.mark.django_db

PETITION = uuid.UUID("00112233-4455-6677-8899-aabbccddeeff")
NAME = "witness.example"


class Witness:
    """A minimal witness: one origin, its state in memory, `mode` to misbehave."""

    def __init__(self, log_vkey: str):
        self.key = Ed25519PrivateKey.generate()
        self.log = notes.parse_vkey(log_vkey)
        self.size, self.root = 0, merkle.EMPTY_ROOT
        self.mode = "honest"
        self.requests: list[str] = []
        self.lock = threading.Lock()
        witness_state = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"])).decode()
                witness_state.requests.append(body)
                status, ctype, answer = witness_state.handle(body)
                if status is None:
                    time.sleep(3)  # slower than the client's timeout
                    return
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_port}"

    @property
    def vkey(self) -> str:
        public = notes.raw_public_key(self.key.public_key())
        return notes.verifier_for(NAME, public, notes.TYPE_COSIGNATURE).vkey

    def handle(self, body: str):
        if self.mode == "garbage":
            return 200, "text/plain", b"\xff\xfe not a cosignature"
        if self.mode == "slow":
            return None, "", b""
        if self.mode == "down":
            return 503, "text/plain", b"maintenance"
        head, _, note = body.partition("\n\n")
        lines = head.split("\n")
        old = int(lines[0].removeprefix("old "))
        proof = [base64.b64decode(line) for line in lines[1:]]
        try:
            text, _ = notes.verify_note(note, [self.log])
        except notes.NoteError:
            return 403, "text/plain", b"no trusted signature"
        checkpoint = notes.parse_checkpoint(text)
        with self.lock:  # the check and the update are one step
            if old > checkpoint.size:
                return 400, "text/plain", b"old > size"
            if old != self.size:
                return 409, "text/x.tlog.size", f"{self.size}\n".encode()
            try:
                old_root = self.root if old else merkle.EMPTY_ROOT
                merkle.verify_consistency(old, checkpoint.size, old_root, checkpoint.root, proof)
            except merkle.ProofError:
                return 422, "text/plain", b"bad proof"
            self.size, self.root = checkpoint.size, checkpoint.root
        line = notes.cosign(text, NAME, self.key, int(time.time()))
        return 200, "text/plain; charset=utf-8", line.encode()


@pytest.fixture
def log_witness(settings):
    server = Witness(services.log_identity()["vkey"])
    settings.COUNTERSIGN_WITNESSES = [{"name": NAME, "url": server.url, "vkey": server.vkey}]
    settings.COUNTERSIGN_WITNESS_TIMEOUT = 1
    yield server
    server.server.shutdown()


def _append(count: int):
    start = services.LogHead.objects.filter(pk=1).values_list("size", flat=True).first() or 0
    with transaction.atomic():
        return services.append_entries(
            [
                (PETITION, entries.withdrawal_entry(PETITION, "flyer", i.to_bytes(32, "big")))
                for i in range(start, start + count)
            ]
        )


def _configured():
    return witness.configured_witnesses()[0]


def test_witness_cosigns_across_twenty_batches_and_the_checkpoint_carries_it(log_witness, client):
    for batch in range(20):
        checkpoint = _append(1 + batch * 37)
        cosignature = witness.cosign_latest(_configured())
        assert cosignature is not None and cosignature.checkpoint_id == checkpoint.size
    assert log_witness.size == checkpoint.size
    assert WitnessState.objects.get(name=NAME).size == checkpoint.size
    served = client.get("/log/checkpoint").content.decode()
    verifier = notes.parse_vkey(log_witness.vkey)
    _text, signers = notes.verify_note(served, [services.log_verifier(), verifier])
    assert signers == [services.log_verifier(), verifier]
    # From the second batch on, each request carried a non-empty consistency proof.
    assert all(len(r.split("\n\n")[0].split("\n")) > 1 for r in log_witness.requests[1:])


def test_a_witness_that_knows_a_larger_size_gets_the_proof_from_there(log_witness):
    _append(10)
    witness.cosign_latest(_configured())
    # Our record of its size is lost (restored backup of the witness table, say): the
    # witness answers 409 with its size and the client retries from there.
    WitnessState.objects.filter(name=NAME).update(size=0)
    _append(5)
    assert witness.cosign_latest(_configured()) is not None
    assert [r.split("\n")[0] for r in log_witness.requests] == ["old 0", "old 0", "old 10"]
    assert WitnessState.objects.get(name=NAME).size == 15


@pytest.mark.parametrize("mode", ["garbage", "down", "slow"])
def test_a_failing_witness_raises_for_a_retry_and_stores_nothing(log_witness, mode):
    _append(3)
    log_witness.mode = mode
    with pytest.raises(witness.WitnessError):
        witness.cosign_latest(_configured())
    assert not WitnessCosignature.objects.exists()
    # Without a worker (eager tasks, as here) the hook after a batch sends nothing, so a
    # slow witness never holds a signer's request; the worker's sweep asks later.
    tasks.witnesses_enqueue()
    assert len(log_witness.requests) == 1
    _append(2)
    log_witness.mode = "honest"
    assert tasks.witness_cosign(NAME) is True
    assert WitnessCosignature.objects.get().checkpoint_id == 5


def test_a_cosignature_from_another_key_is_refused(log_witness, settings):
    impostor = Ed25519PrivateKey.generate()
    settings.COUNTERSIGN_WITNESSES = [
        {
            "name": NAME,
            "url": log_witness.url,
            "vkey": notes.verifier_for(
                NAME, notes.raw_public_key(impostor.public_key()), notes.TYPE_COSIGNATURE
            ).vkey,
        }
    ]
    _append(4)
    with pytest.raises(witness.WitnessError, match="no cosignature that verifies"):
        witness.cosign_latest(_configured())
    assert not WitnessCosignature.objects.exists()


def test_the_sweep_asks_witnesses_that_have_not_cosigned_the_latest(log_witness):
    assert tasks.witnesses_sweep() == 0  # no checkpoint yet
    _append(2)
    log_witness.mode = "down"
    assert tasks.witnesses_sweep() == 1
    log_witness.mode = "honest"
    assert tasks.witnesses_sweep() == 1  # asks again; this time it cosigns
    assert tasks.witnesses_sweep() == 0


@pytest.mark.parametrize(
    "raw",
    [
        {},
        [{"name": NAME, "url": "http://x"}],
        [{"name": NAME, "url": "ftp://x", "vkey": "a+00000000+AA=="}],
        [{"name": "other", "url": "http://x", "vkey": "PLACEHOLDER"}],
    ],
)
def test_bad_witness_configuration_is_refused(raw):
    key = Ed25519PrivateKey.generate()
    vkey = notes.verifier_for(NAME, notes.raw_public_key(key.public_key()), 4).vkey
    if isinstance(raw, list) and raw and raw[0].get("vkey") == "PLACEHOLDER":
        raw[0]["vkey"] = vkey
    with pytest.raises(ValueError):
        witness.parse_witnesses(raw)
