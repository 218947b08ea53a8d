"""Independent check of the tool's writer and proofs with Go's golang.org/x/mod (sumdb/note,
sumdb/tlog), built in GOPATH mode from Debian's golang-golang-x-mod-dev."""

import base64
import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from countersign_audit.merkle import consistency_proof, inclusion_proof
from countersign_audit.note import TYPE_COSIGNATURE_V1, Signer
from countersign_audit.tiles import LogWriter

GO_DIR = Path(__file__).resolve().parent / "go"
XMOD = Path("/usr/share/gocode/src/golang.org/x/mod/sumdb/tlog")


@pytest.fixture(scope="module")
def csverify(tmp_path_factory):
    go = shutil.which("go")
    if go is None or not XMOD.is_dir():
        pytest.skip(
            "Go or golang.org/x/mod is not installed (apt: golang-go golang-golang-x-mod-dev)"
        )
    out = tmp_path_factory.mktemp("go")
    env = dict(
        os.environ,
        GO111MODULE="off",
        GOPROXY="off",
        GOPATH=f"{out}:/usr/share/gocode",
        GOCACHE=str(out / "cache"),
    )
    subprocess.run(
        [go, "build", "-o", str(out / "csverify"), "csverify.go"],
        cwd=GO_DIR,
        env=env,
        check=True,
        timeout=300,
    )
    return out / "csverify"


def _b64(b):
    return base64.b64encode(b).decode()


def _run(binary, payload):
    return subprocess.run(
        [str(binary)], input=json.dumps(payload), capture_output=True, text=True, timeout=120
    )


@pytest.mark.parametrize("size", [1, 7, 256, 257, 70_000 // 100, 65_793])
def test_go_accepts_the_writers_log_and_proofs(csverify, size):
    log = LogWriter("audit.test/log", Signer.generate("audit.test/log"))
    witness = Signer.generate("witness.test", TYPE_COSIGNATURE_V1)
    log.append([b"entry %d" % i for i in range(size)])
    cp = log.sign([witness], 1_800_000_000)
    picks = sorted({0, size // 3, size - 1})
    payload = {
        "vkey": log.signer.verifier.vkey,
        "cosigner": witness.verifier.vkey,
        "note": cp.decode(),
        "files": {p: _b64(d) for p, d in log.files.items() if p != "checkpoint"},
        "inclusion": [
            {
                "index": i,
                "size": size,
                "root": _b64(log.root()),
                "proof": [_b64(h) for h in inclusion_proof(log.leaves, i)],
            }
            for i in picks
        ]
        if size < 5000
        else [],
        "consistency": [
            {
                "old": m,
                "new": size,
                "old_root": _b64(log.root(m)),
                "new_root": _b64(log.root()),
                "proof": [_b64(h) for h in consistency_proof(log.leaves, m, size)],
            }
            for m in picks
            if 0 < m < size
        ]
        if size < 5000
        else [],
    }
    result = _run(csverify, payload)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.startswith(f"OK size {size},")

    # The Go side does reject: a tile edited, a proof hash flipped.
    if size >= 2:
        bad = dict(payload, files=dict(payload["files"]))
        path = next(p for p in bad["files"] if p.startswith("tile/0/"))
        raw = bytearray(base64.b64decode(bad["files"][path]))
        raw[0] ^= 1
        bad["files"][path] = _b64(bytes(raw))
        result = _run(csverify, bad)
        assert result.returncode == 1 and "FAIL" in result.stdout
