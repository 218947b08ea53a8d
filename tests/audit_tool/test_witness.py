"""The witness in a real process (`python -m countersign_audit witness`), tlog-witness v1.0.0."""

import base64
import http.client
import os
import subprocess
import sys
from pathlib import Path

import pytest
from countersign_audit.check import Audit, Options
from countersign_audit.merkle import consistency_proof
from countersign_audit.note import (
    TYPE_COSIGNATURE_V1,
    Checkpoint,
    Signer,
    Verifier,
    parse_note,
    sign_note,
    verify_note,
)
from countersign_audit.tiles import LogWriter

from .static_site import Petition, Site

TOOLS = Path(__file__).resolve().parents[2] / "tools"


class WitnessProcess:
    def __init__(self, tmp_path: Path, log_vkeys: list[str]):
        self.key = tmp_path / "witness.key"
        if not self.key.exists():
            out = subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "countersign_audit",
                    "witness",
                    "keygen",
                    "--name",
                    "witness.test",
                    "--key",
                    str(self.key),
                ],
                cwd=TOOLS,
                capture_output=True,
                text=True,
                check=True,
                timeout=60,
            ).stdout
            self.vkey = out.strip().splitlines()[-1]
        self.log_vkeys = log_vkeys
        args = [
            sys.executable,
            "-m",
            "countersign_audit",
            "witness",
            "--key",
            str(self.key),
            "--listen",
            "127.0.0.1:0",
        ]
        for v in log_vkeys:
            args += ["--log", v]
        self.proc = subprocess.Popen(
            args, cwd=TOOLS, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        first = self.proc.stdout.readline()
        assert "listening on 127.0.0.1:" in first, first + self.proc.stderr.read()
        self.vkey = first.split()[1]
        self.port = int(first.rsplit(":", 1)[1])

    def post(self, body: bytes):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        conn.request("POST", "/add-checkpoint", body=body)
        resp = conn.getresponse()
        data = resp.read()
        conn.close()
        return resp.status, resp.getheader("Content-Type"), data

    def stop(self):
        self.proc.terminate()
        self.proc.wait(timeout=10)


def request(old: int, proof, checkpoint: bytes) -> bytes:
    return (
        f"old {old}\n".encode()
        + b"".join(base64.b64encode(h) + b"\n" for h in proof)
        + b"\n"
        + checkpoint
    )


@pytest.fixture
def log():
    signer = Signer.generate("log.example/log")
    return LogWriter("log.example/log", signer)


def test_keygen_writes_a_private_key_and_prints_a_cosignature_vkey(tmp_path):
    key = tmp_path / "w.key"
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "countersign_audit",
            "witness",
            "keygen",
            "--name",
            "w.example",
            "--key",
            str(key),
        ],
        cwd=TOOLS,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    ).stdout
    v = Verifier.parse(out.strip().splitlines()[-1])
    assert v.key_type == TYPE_COSIGNATURE_V1 and v.name == "w.example"
    assert oct(os.stat(key).st_mode & 0o777) == "0o600"
    assert Signer.parse_private_key(key.read_text()).verifier == v
    again = subprocess.run(
        [
            sys.executable,
            "-m",
            "countersign_audit",
            "witness",
            "keygen",
            "--name",
            "w.example",
            "--key",
            str(key),
        ],
        cwd=TOOLS,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert again.returncode == 2 and "cannot create the key" in again.stderr


def test_witness_cosigns_20_growing_checkpoints_and_refuses_forks(tmp_path, log):
    w = WitnessProcess(tmp_path, [log.signer.verifier.vkey])
    try:
        wv = Verifier.parse(w.vkey)
        old = 0
        for batch in range(20):
            log.append([b"batch %d entry %d" % (batch, i) for i in range(batch % 7 + 1)])
            cp = log.sign()
            proof = consistency_proof(log.leaves, old, len(log.entries))
            status, _, line = w.post(request(old, proof, cp))
            assert status == 200, line
            verified = verify_note(parse_note(cp + line), [log.signer.verifier, wv])
            assert wv in verified.verified
            old = len(log.entries)
        size, root = len(log.entries), log.root()

        # 409 with the stored size when `old` is not what the witness has.
        status, ctype, body = w.post(request(0, [], cp))
        assert (status, ctype, body) == (409, "text/x.tlog.size", f"{size}\n".encode())

        # A fork: another log under the same key, longer, with a proof from the stored size.
        fork = LogWriter(log.origin, log.signer)
        fork.append(log.entries[:-1] + [b"rewritten"] + [b"more"] * 5)
        fork_cp = fork.sign()
        status, _, _ = w.post(request(size, consistency_proof(fork.leaves, size), fork_cp))
        assert status == 422
        # Same size, another root.
        fork2 = LogWriter(log.origin, log.signer)
        fork2.append([*log.entries[:-1], b"rewritten"])
        status, _, _ = w.post(request(size, [], fork2.sign()))
        assert status == 409

        # Unknown origin; no trusted signature; old larger than the checkpoint.
        other = LogWriter("other.example/log", Signer.generate("other.example/log"))
        other.append([b"x"])
        assert w.post(request(0, [], other.sign()))[0] == 404
        impostor = LogWriter(log.origin, Signer.generate(log.origin))
        impostor.append([*log.entries, b"y"])
        assert w.post(request(size, [], impostor.sign()))[0] == 403
        assert w.post(request(size + 50, [], cp))[0] == 400
        assert w.post(b"garbage")[0] == 400

        # The state survives a restart: still size `size`, root `root`.
        w.stop()
        w = WitnessProcess(tmp_path, [log.signer.verifier.vkey])
        status, ctype, body = w.post(request(0, [], cp))
        assert (status, body) == (409, f"{size}\n".encode())
        status, _, line = w.post(request(size, [], cp))
        assert status == 200 and root == log.root()
    finally:
        w.stop()


def test_check_accepts_a_quorum_from_the_real_witness(tmp_path):
    site = Site()
    w = None
    try:
        pet = Petition("witnessed", levels=("flyer",))
        site.petitions.append(pet)
        site.batch(pet, "flyer", new=3)
        w = WitnessProcess(tmp_path, [site.signer.verifier.vkey])
        status, _, line = w.post(request(0, [], site.files["/log/checkpoint"]))
        assert status == 200
        site.files["/log/checkpoint"] += line
        lines = Audit(
            Options(site.url, witnesses=[w.vkey], state_path=str(tmp_path / "s.json"))
        ).run()
        assert "1 witness cosignature(s) (quorum 1)" in lines[0]
    finally:
        if w:
            w.stop()
        site.close()


def test_size_zero_checkpoint_needs_the_empty_root(tmp_path, log):
    w = WitnessProcess(tmp_path, [log.signer.verifier.vkey])
    try:
        good = sign_note(Checkpoint(log.origin, 0, log.root()).body(), [log.signer])
        assert w.post(request(0, [], good))[0] == 200
        bad = sign_note(Checkpoint(log.origin, 0, b"\1" * 32).body(), [log.signer])
        assert w.post(request(0, [], bad))[0] == 422
        log.append([b"a", b"b"])
        assert w.post(request(0, [b"\0" * 32], log.sign()))[0] == 422
        assert w.post(request(0, [], log.sign()))[0] == 200
    finally:
        w.stop()
