"""The witness side of c2sp.org/tlog-witness v1.0.0, cosigning with tlog-cosignature v1.0.1.

POST /add-checkpoint. The witness remembers, per log origin, the largest checkpoint it
cosigned (size and root) in a JSON state file, replaced atomically (write + fsync + rename)
under a lock, so the stored-size check and the update are one step even across processes."""

from __future__ import annotations

import base64
import binascii
import json
import os
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

try:  # Unix: the lock also holds against a second witness process on the same state file
    import fcntl
except ImportError:  # Windows: the in-process lock only
    fcntl = None

from countersign_audit.merkle import EMPTY_ROOT, ProofError, verify_consistency
from countersign_audit.note import (
    TYPE_COSIGNATURE_V1,
    TYPE_ED25519,
    NoteError,
    Signer,
    Verifier,
    parse_checkpoint,
    parse_note,
    verify_note,
)

MAX_BODY = 64 << 10
MAX_PROOF = 63


class Reject(Exception):
    def __init__(
        self,
        status: int,
        message: str,
        body: bytes | None = None,
        ctype: str = "text/plain; charset=utf-8",
    ):
        super().__init__(message)
        self.status, self.body, self.ctype = status, body, ctype


class Witness:
    def __init__(self, signer: Signer, logs: list[Verifier], state_path: Path):
        if signer.key_type != TYPE_COSIGNATURE_V1:
            raise ValueError("the witness key must be a cosignature/v1 (0x04) key")
        self.signer = signer
        self.logs = {v.name: v for v in logs}
        self.state_path = state_path
        self.lock = threading.Lock()

    def _read_state(self) -> dict:
        try:
            return json.loads(self.state_path.read_text())
        except FileNotFoundError:
            return {}

    def _write_state(self, state: dict) -> None:
        fd, tmp = tempfile.mkstemp(dir=self.state_path.parent, prefix=".witness-")
        try:
            with os.fdopen(fd, "w") as f:
                json.dump(state, f, indent=1, sort_keys=True)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, self.state_path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def add_checkpoint(self, body: bytes) -> bytes:
        """Handle one add-checkpoint body; return the cosignature line(s) or raise Reject."""
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError:
            raise Reject(400, "body is not UTF-8") from None
        head, sep, note_text = text.partition("\n\n")
        if not sep:
            raise Reject(400, "no blank line after the proof")
        lines = head.split("\n")
        if (
            not lines[0].startswith("old ")
            or not lines[0][4:].isdigit()
            or (len(lines[0]) > 5 and lines[0][4] == "0")
        ):
            raise Reject(400, "first line must be old <size>")
        old = int(lines[0][4:])
        if len(lines) - 1 > MAX_PROOF:
            raise Reject(400, "proof too long")
        proof = []
        for line in lines[1:]:
            try:
                h = base64.b64decode(line, validate=True)
            except (binascii.Error, ValueError):
                raise Reject(400, "proof line is not base64") from None
            if len(h) != 32:
                raise Reject(400, "proof line is not a 32-byte hash")
            proof.append(h)
        try:
            note = parse_note(note_text.encode())
            cp = parse_checkpoint(note.text)
        except NoteError as exc:
            raise Reject(400, f"bad checkpoint: {exc}") from None
        log = self.logs.get(cp.origin)
        if log is None:
            raise Reject(404, "unknown log origin")
        try:
            verify_note(note, [log])
        except NoteError as exc:
            raise Reject(403, f"no valid signature by the log: {exc}") from None
        if old > cp.size:
            raise Reject(400, "old size is larger than the checkpoint")
        if cp.size == 0 and cp.root != EMPTY_ROOT:
            raise Reject(422, "size 0 with a root other than the empty-tree hash")
        with self.lock, open(str(self.state_path) + ".lock", "a") as lockfile:
            if fcntl is not None:
                fcntl.flock(lockfile, fcntl.LOCK_EX)
            state = self._read_state()
            stored = state.get(cp.origin, {"size": 0, "root": None})
            if old != stored["size"]:
                raise Reject(
                    409, "old size differs", f"{stored['size']}\n".encode(), "text/x.tlog.size"
                )
            stored_root = base64.b64decode(stored["root"]) if stored["root"] else None
            if old == cp.size and old > 0 and stored_root != cp.root:
                raise Reject(409, "same size, different root: fork")
            try:
                verify_consistency(old, cp.size, proof, stored_root, cp.root)
            except ProofError as exc:
                raise Reject(422, f"consistency proof: {exc}") from None
            state[cp.origin] = {"size": cp.size, "root": base64.b64encode(cp.root).decode()}
            self._write_state(state)
        return self.signer.signature_line(note.text, int(time.time())).encode()


def make_handler(witness: Witness):
    class Handler(BaseHTTPRequestHandler):
        server_version = "countersign-witness"
        protocol_version = "HTTP/1.1"
        timeout = 30

        def _send(self, status: int, body: bytes, ctype: str = "text/plain; charset=utf-8") -> None:
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_POST(self):
            if self.path != "/add-checkpoint":
                return self._send(404, b"not found\n")
            length = self.headers.get("Content-Length", "")
            if not length.isdigit() or int(length) > MAX_BODY:
                return self._send(400, b"missing or too large Content-Length\n")
            body = self.rfile.read(int(length))
            try:
                return self._send(200, witness.add_checkpoint(body))
            except Reject as exc:
                return self._send(exc.status, exc.body or f"{exc}\n".encode(), exc.ctype)

        def do_GET(self):
            self._send(404, b"not found\n")

        def log_message(self, fmt, *args):  # one line per request, no client address
            print(
                f"witness: {self.command} {self.path} -> {args[1] if len(args) > 1 else ''}",
                flush=True,
            )

    return Handler


def serve(witness: Witness, host: str, port: int) -> None:
    server = ThreadingHTTPServer((host, port), make_handler(witness))
    print(
        f"witness {witness.signer.verifier.vkey} listening on {host}:{server.server_port}",
        flush=True,
    )
    try:
        server.serve_forever()
    finally:
        server.server_close()


def keygen(name: str, path: Path) -> str:
    signer = Signer.generate(name, TYPE_COSIGNATURE_V1)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(signer.private_key_string() + "\n")
    return signer.verifier.vkey


def load(key_path: Path, log_vkeys: list[str], state_path: Path) -> Witness:
    signer = Signer.parse_private_key(key_path.read_text())
    logs = []
    for vkey in log_vkeys:
        v = Verifier.parse(vkey)
        if v.key_type != TYPE_ED25519:
            raise NoteError("a log key is an Ed25519 (0x01) key")
        logs.append(v)
    return Witness(signer, logs, state_path)
