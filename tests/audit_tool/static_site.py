"""A tiny static Countersign site for the audit tool's tests: a tile log written with the
tool's own LogWriter plus the three JSON endpoints the tool reads, served from memory by a
real http.server on 127.0.0.1. Tests tamper with `files` the way a dishonest operator would."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import threading
from functools import cache
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from countersign_audit import entries as E
from countersign_audit.note import Signer
from countersign_audit.tiles import LogWriter
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

PSS = padding.PSS(mgf=padding.MGF1(hashes.SHA384()), salt_length=48)


def b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


@cache
def rsa_key(level: str) -> rsa.RSAPrivateKey:
    # 2048 bits (the protocol's floor) keeps the tests fast; one key per level, reused.
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


class Petition:
    def __init__(self, slug: str, levels=("work_email", "flyer")):
        self.slug = slug
        self.pid = os.urandom(16)
        self.keys = {level: rsa_key(level) for level in levels}
        self.invalidated: set[str] = set()
        self.issued = dict.fromkeys(levels, 0)
        self.batches = dict.fromkeys(levels, 0)
        self.sigs = {level: [] for level in levels}
        self.withdrawn = {level: [] for level in levels}

    def spki(self, level: str) -> bytes:
        return (
            self.keys[level]
            .public_key()
            .public_bytes(
                serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
            )
        )

    def key_id(self, level: str) -> bytes:
        return hashlib.sha256(self.spki(level)).digest()

    def signature(self, level: str) -> E.SignatureEntry:
        nullifier = hashlib.sha256(os.urandom(32)).digest()
        kid = self.key_id(level)
        prepared = os.urandom(32) + E.MESSAGE_TAG + self.pid + kid + nullifier
        sig = self.keys[level].sign(prepared, PSS, hashes.SHA384())
        return E.SignatureEntry(self.pid, level, kid, nullifier, prepared, sig)


class Site:
    def __init__(self):
        self.files: dict[str, bytes] = {}
        site = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # Headers and body go out in separate writes: without this, Nagle's algorithm
            # and delayed ACKs add ~40 ms to every request.
            disable_nagle_algorithm = True

            def do_GET(self):
                body = site.files.get(self.path)
                self.send_response(200 if body is not None else 404)
                body = body if body is not None else b"not found"
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.origin = f"127.0.0.1:{self.server.server_port}/log"
        self.signer = Signer.generate(self.origin)
        self.writer = LogWriter(self.origin, self.signer)
        self.petitions: list[Petition] = []
        self.cosigners: list[Signer] = []
        self.cosign_time = 1_800_000_000

    def close(self):
        self.server.shutdown()
        self.server.server_close()

    def batch(
        self, pet: Petition, level: str, new: int = 0, withdraw: int = 0, issued_extra: int = 0
    ):
        """Publish one batch: `new` signatures, withdrawals of the `withdraw` oldest live ones."""
        sigs = sorted((pet.signature(level) for _ in range(new)), key=lambda s: s.nullifier)
        live = [s for s in pet.sigs[level] + sigs if s.nullifier not in pet.withdrawn[level]]
        wds = sorted(s.nullifier for s in live[:withdraw])
        pet.sigs[level] += sigs
        pet.withdrawn[level] += wds
        pet.issued[level] += new + issued_extra
        pet.batches[level] += 1
        summary = E.SummaryEntry(
            pet.pid,
            level,
            pet.batches[level],
            len(pet.sigs[level]),
            len(pet.withdrawn[level]),
            pet.issued[level],
            0 if level == "work_email" else 1000,
            0 if level == "work_email" else 10,
            1 if level in pet.invalidated else 0,
        )
        raw = [E.encode(s) for s in sigs] + [
            E.encode(E.WithdrawalEntry(pet.pid, level, n)) for n in wds
        ]
        self.append_and_sign([*raw, E.encode(summary)])

    def append_and_sign(self, raw_entries):
        self.writer.append(raw_entries)
        self.writer.sign(self.cosigners, self.cosign_time)
        self.publish()

    def publish(self):
        for path, body in self.writer.files.items():
            self.files["/log/" + path] = body
        self.files["/api/v1/log"] = json.dumps(
            {
                "origin": self.origin,
                "vkey": self.signer.verifier.vkey,
                "petitions": [
                    {"petition_id": b64url(p.pid), "slug": p.slug} for p in self.petitions
                ],
            }
        ).encode()
        for p in self.petitions:
            counts = {
                level: 0
                if level in p.invalidated or level not in p.sigs
                else len(p.sigs[level]) - len(p.withdrawn[level])
                for level in ("work_email", "in_person", "flyer")
            }
            counts["total"] = sum(counts.values())
            self.files[f"/api/v1/petitions/{p.slug}"] = json.dumps(
                {"slug": p.slug, "counts": counts}
            ).encode()
            keys = [
                {
                    "level": level,
                    "key_id": b64url(p.key_id(level)),
                    "spki": b64url(p.spki(level)),
                    "modulus_bits": 2048,
                    "invalidated_at": "2026-12-01T00:00:00Z" if level in p.invalidated else None,
                }
                for level in sorted(p.keys)
            ]
            self.files[f"/api/v1/petitions/{p.slug}/keys"] = json.dumps(
                {
                    "alg": "RSABSSA-SHA384-PSS-Randomized",
                    "petition_id": b64url(p.pid),
                    "keys": keys,
                    "log": {"origin": self.origin, "vkey": self.signer.verifier.vkey},
                }
            ).encode()

    def rewrite(self, entries: list[bytes]):
        """A dishonest operator rewrites history: a new log of these entries, re-signed."""
        self.writer = LogWriter(self.origin, self.signer)
        for path in [p for p in self.files if p.startswith("/log/")]:
            del self.files[path]
        self.append_and_sign(entries)
