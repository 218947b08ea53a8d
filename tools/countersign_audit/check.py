"""`check`: audit a Countersign log end to end from its public URLs.

Every failure that is evidence against the log raises AuditFailure with one line; problems
reaching the server raise FetchError (the check could not be completed)."""

from __future__ import annotations

import base64
import binascii
import datetime
import hashlib
import json
import os
import tempfile
import time
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from countersign_audit import entries as E
from countersign_audit.fetch import Fetcher, FetchError, NotFound
from countersign_audit.merkle import leaf_hash, root_from_hashes
from countersign_audit.note import (
    TYPE_COSIGNATURE_V1,
    TYPE_ED25519,
    NoteError,
    Verifier,
    b64encode,
    parse_checkpoint,
    parse_note,
    verify_note,
)
from countersign_audit.tiles import (
    TILE_WIDTH,
    TileError,
    bundle_path,
    level_hashes,
    parse_bundle,
    split_tile,
    tile_path,
    tiles_for_size,
)

MAX_CHECKPOINT = 64 << 10
MAX_BUNDLE = TILE_WIDTH * (2 + 0xFFFF)
MAX_JSON = 16 << 20
ATTEMPTS = 3
PSS = padding.PSS(mgf=padding.MGF1(hashes.SHA384()), salt_length=48)


class AuditFailure(Exception):
    """The log failed a check: the message is one line saying what."""


class LogMoved(Exception):
    """A new checkpoint appeared during the check; counts cannot be compared this time."""


@dataclass
class Options:
    base_url: str
    log_key: str | None = None
    witnesses: list[str] = field(default_factory=list)
    quorum: int | None = None
    state_path: str | None = None
    origin: str | None = None
    timeout: float = 30.0


@dataclass
class PetitionKey:
    level: str
    public_key: rsa.RSAPublicKey
    modulus_len: int
    invalidated: bool


@dataclass
class Petition:
    slug: str
    petition_id: bytes
    keys: dict[bytes, PetitionKey]


def expected_origin(base_url: str) -> str:
    """COUNTERSIGN_BASE_URL without scheme and trailing slash, plus /log."""
    parsed = urllib.parse.urlsplit(base_url)
    return (parsed.netloc + parsed.path).rstrip("/") + "/log"


def default_state_path(origin: str) -> Path:
    digest = hashlib.sha256(origin.encode()).hexdigest()
    return Path.home() / ".countersign-audit" / f"{digest}.json"


def b64url_strict(text, what: str) -> bytes:
    if not isinstance(text, str):
        raise AuditFailure(f"{what} is not a string")
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError) as exc:
        raise AuditFailure(f"{what} is not base64url") from exc
    if base64.urlsafe_b64encode(raw).decode().rstrip("=") != text:
        raise AuditFailure(f"{what} is not canonical base64url")
    return raw


# ---- state file -------------------------------------------------------------------------------


def load_state(path: Path, origin: str) -> dict | None:
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        raise FetchError(f"cannot read the state file {path}: {exc}") from exc
    if not isinstance(data, dict) or data.get("origin") != origin:
        raise FetchError(f"the state file {path} belongs to another log")
    return data


def save_state(path: Path, state: dict) -> None:
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".state-")
    try:
        with os.fdopen(fd, "w") as f:
            json.dump(state, f, indent=1, sort_keys=True)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)  # atomic: a crash leaves the old state or the new one
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


# ---- the check --------------------------------------------------------------------------------


def _load_keys(fetcher: Fetcher, slug: str, origin: str, vkey: str) -> Petition:
    quoted = urllib.parse.quote(slug, safe="")
    data = fetcher.get_json(f"api/v1/petitions/{quoted}/keys", MAX_JSON)
    if not isinstance(data, dict) or data.get("alg") != "RSABSSA-SHA384-PSS-Randomized":
        raise AuditFailure(f"petition {slug}: keys answer has another algorithm")
    pid = b64url_strict(data.get("petition_id"), f"petition {slug}: petition_id")
    if len(pid) != 16:
        raise AuditFailure(f"petition {slug}: petition_id is not 16 bytes")
    log = data.get("log")
    if log is not None and (
        not isinstance(log, dict) or log.get("origin") != origin or log.get("vkey") != vkey
    ):
        raise AuditFailure(f"petition {slug}: its keys name another log or log key")
    keys: dict[bytes, PetitionKey] = {}
    if not isinstance(data.get("keys"), list):
        raise AuditFailure(f"petition {slug}: keys answer without keys")
    for item in data["keys"]:
        if not isinstance(item, dict) or item.get("level") not in E.LEVEL_CODES:
            raise AuditFailure(f"petition {slug}: key with an unknown level")
        spki = b64url_strict(item.get("spki"), f"petition {slug}: spki")
        kid = b64url_strict(item.get("key_id"), f"petition {slug}: key_id")
        if hashlib.sha256(spki).digest() != kid:
            raise AuditFailure(f"petition {slug}: key_id is not SHA-256 of the key")
        try:
            pk = serialization.load_der_public_key(spki)
        except ValueError as exc:
            raise AuditFailure(f"petition {slug}: unreadable key") from exc
        if not isinstance(pk, rsa.RSAPublicKey):
            raise AuditFailure(f"petition {slug}: key is not RSA")
        canonical = pk.public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        if canonical != spki or pk.public_numbers().e != 65537 or pk.key_size < 2048:
            raise AuditFailure(
                f"petition {slug}: key is not a canonical RSA key, e=65537, >=2048 bits"
            )
        keys[kid] = PetitionKey(
            item["level"], pk, (pk.key_size + 7) // 8, item.get("invalidated_at") is not None
        )
    return Petition(slug, pid, keys)


def _check_signature(index: int, entry: E.SignatureEntry, petition: Petition) -> None:
    key = petition.keys.get(entry.key_id)
    if key is None:
        raise AuditFailure(
            f"entry {index}: signed with a key petition {petition.slug} does not publish"
        )
    if key.level != entry.level:
        raise AuditFailure(f"entry {index}: key level {key.level} but entry level {entry.level}")
    try:
        E.check_message(entry)
    except E.EntryError as exc:
        raise AuditFailure(f"entry {index}: {exc}") from exc
    if len(entry.sig) != key.modulus_len:
        raise AuditFailure(f"entry {index}: bad signature (wrong length)")
    try:
        key.public_key.verify(entry.sig, entry.prepared_msg, PSS, hashes.SHA384())
    except InvalidSignature as exc:
        raise AuditFailure(f"entry {index}: bad RSA blind signature") from exc


class Audit:
    def __init__(self, opts: Options):
        self.opts = opts
        self.fetcher = Fetcher(opts.base_url, opts.timeout)
        self.origin = opts.origin or expected_origin(opts.base_url)
        self.state_path = (
            Path(opts.state_path) if opts.state_path else default_state_path(self.origin)
        )
        self.notes: list[str] = []
        self.warnings: list[str] = []

    def run(self) -> list[str]:
        try:
            for attempt in range(ATTEMPTS):
                try:
                    return self._run_once()
                except NotFound as exc:  # an endpoint the log's own answers point to
                    raise AuditFailure(f"{exc.path} answers 404 Not Found") from None
                except LogMoved:
                    if attempt == ATTEMPTS - 1:
                        raise FetchError(
                            "the log kept growing during the check; run it again"
                        ) from None
                    self.notes, self.warnings = [], []
            raise AssertionError("unreachable")
        finally:
            self.fetcher.close()

    def _log_key(self, state: dict | None, served_vkey: str) -> Verifier:
        pinned = state.get("vkey") if state else None
        given = self.opts.log_key
        if given and pinned and given != pinned:
            raise AuditFailure("the --log-key differs from the log key pinned in the state file")
        vkey = given or pinned or served_vkey
        if not isinstance(vkey, str):
            raise AuditFailure("/api/v1/log publishes no log key")
        try:
            verifier = Verifier.parse(vkey)
        except NoteError as exc:
            raise AuditFailure(f"log key: {exc}") from exc
        if verifier.key_type != TYPE_ED25519 or verifier.name != self.origin:
            raise AuditFailure(f"the log key is not an Ed25519 key named {self.origin}")
        if not isinstance(served_vkey, str) or served_vkey != verifier.vkey:
            raise AuditFailure(f"the server publishes another log key than {verifier.vkey}")
        if not given and not pinned:
            self.notes.append(
                f"first check: log key trusted on first use: {verifier.vkey} "
                "(compare it with the key printed on flyers and in the delivery PDF)"
            )
        return verifier

    def _run_once(self) -> list[str]:
        started = time.monotonic()
        f = self.fetcher
        state = load_state(self.state_path, self.origin)
        info = f.get_json("api/v1/log", MAX_JSON)
        if not isinstance(info, dict) or not isinstance(info.get("petitions"), list):
            raise AuditFailure("/api/v1/log is not the expected JSON object")
        if info.get("origin") != self.origin:
            raise AuditFailure(
                f"the server calls its log {info.get('origin')!r}, "
                f"expected {self.origin!r} (see --origin)"
            )
        log_key = self._log_key(state, info.get("vkey"))
        witnesses = []
        for w in self.opts.witnesses:
            try:
                v = Verifier.parse(w)
            except NoteError as exc:
                raise AuditFailure(f"witness key: {exc}") from exc
            if v.key_type != TYPE_COSIGNATURE_V1:
                raise AuditFailure(f"witness key {v.name} is not a cosignature/v1 (0x04) key")
            witnesses.append(v)
        quorum = len(witnesses) if self.opts.quorum is None else self.opts.quorum

        # The checkpoint.
        try:
            raw_cp = f.get("log/checkpoint", MAX_CHECKPOINT)
        except NotFound:
            if state and state.get("size", 0) > 0:
                raise AuditFailure(
                    f"size went down: the log had {state['size']} entries, now none"
                ) from None
            if info["petitions"]:
                raise AuditFailure(
                    "the log has no checkpoint but lists petitions with entries"
                ) from None
            return [f"OK: log {self.origin} is empty (no checkpoint yet)", *self.notes]
        try:
            note = parse_note(raw_cp)
            verified = verify_note(note, [log_key, *witnesses])
            cp = parse_checkpoint(note.text)
        except NoteError as exc:
            raise AuditFailure(f"bad checkpoint: {exc}") from exc
        if log_key not in verified.verified:
            raise AuditFailure("bad signature: the checkpoint is not signed by the log key")
        cosigned = [v for v in witnesses if v in verified.verified]
        if len(cosigned) < quorum:
            raise AuditFailure(f"only {len(cosigned)} of the {quorum} witness cosignatures needed")
        if cp.origin != self.origin:
            raise AuditFailure(f"the checkpoint is for origin {cp.origin!r}, not {self.origin!r}")
        if cp.extensions:
            self.warnings.append("the checkpoint carries extension lines (Countersign uses none)")
        if state and state.get("size") is not None:
            old_size, old_root = state["size"], base64.b64decode(state["root"])
            if cp.size < old_size:
                raise AuditFailure(
                    f"size went down: {old_size} entries verified before, now {cp.size}"
                )
            if cp.size == old_size and cp.root != old_root:
                raise AuditFailure(
                    f"fork: a different root for size {cp.size} than verified before"
                )
        else:
            old_size, old_root = 0, None

        # The petitions and their keys, for the signature entries.
        petitions: dict[bytes, Petition] = {}
        for item in info["petitions"]:
            if not isinstance(item, dict) or not isinstance(item.get("slug"), str):
                raise AuditFailure("/api/v1/log lists a petition without a slug")
            pet = _load_keys(f, item["slug"], self.origin, log_key.vkey)
            if b64url_strict(item.get("petition_id"), "petition_id") != pet.petition_id:
                raise AuditFailure(
                    f"petition {pet.slug}: /api/v1/log and its keys disagree on its id"
                )
            if pet.petition_id in petitions:
                raise AuditFailure(f"petition {pet.slug} is listed twice")
            petitions[pet.petition_id] = pet

        # Every entry bundle and level-0 tile, in order; entries decoded and checked as they come.
        ledger = E.Ledger()
        leaves: list[bytes] = []
        tiles = list(tiles_for_size(cp.size))
        rsa_checked = 0
        for level, index, width in tiles:
            if level != 0:
                continue
            try:
                bundle = f.get("log/" + bundle_path(index, width), MAX_BUNDLE)
                tile = f.get("log/" + tile_path(0, index, width), width * 32)
            except NotFound as exc:
                raise AuditFailure(f"gap: {exc.path} is missing") from None
            try:
                chunk = parse_bundle(bundle, width)
                stored = split_tile(tile, width)
            except TileError as exc:
                raise AuditFailure(f"tile mismatch: {bundle_path(index, width)}: {exc}") from exc
            for i, data in enumerate(chunk):
                n = index * TILE_WIDTH + i
                h = leaf_hash(data)
                if h != stored[i]:
                    raise AuditFailure(
                        f"tile mismatch: entry {n} does not hash to hash {i} of "
                        f"{tile_path(0, index, width)}"
                    )
                leaves.append(h)
                try:
                    entry = E.decode(data)
                except E.EntryError as exc:
                    raise AuditFailure(f"entry {n}: {exc}") from exc
                pet = petitions.get(entry.petition_id)
                if pet is None:
                    raise AuditFailure(f"entry {n}: a petition /api/v1/log does not list")
                if isinstance(entry, E.SignatureEntry):
                    _check_signature(n, entry, pet)
                    rsa_checked += 1
                try:
                    ledger.add(entry)
                except E.EntryError as exc:
                    raise AuditFailure(str(exc)) from exc
        try:
            ledger.finish()
        except E.EntryError as exc:
            raise AuditFailure(str(exc)) from exc

        # Every stored hash of the upper levels, then the root.
        levels = level_hashes(leaves)
        for level, index, width in tiles:
            if level == 0:
                continue
            path = tile_path(level, index, width)
            try:
                stored = split_tile(f.get("log/" + path, width * 32), width)
            except NotFound:
                raise AuditFailure(f"gap: {path} is missing") from None
            except TileError as exc:
                raise AuditFailure(f"tile mismatch: {path}: {exc}") from exc
            if stored != levels[level][index * TILE_WIDTH : index * TILE_WIDTH + width]:
                raise AuditFailure(f"tile mismatch: {path} does not match the entries")
        if root_from_hashes(leaves) != cp.root:
            raise AuditFailure("tile mismatch: the entries do not hash to the checkpoint's root")
        if 0 < old_size < cp.size and root_from_hashes(leaves[:old_size]) != old_root:
            raise AuditFailure(
                f"fork: the first {old_size} entries no longer hash to the root verified on "
                f"{state.get('checked_at', '?')}"
            )
        if state and old_size:
            self.notes.append(
                f"consistent with the {old_size} entries verified on {state.get('checked_at')}"
            )

        report = self._compare_counts(petitions, ledger, note.text)

        save_state(
            self.state_path,
            {
                "origin": self.origin,
                "vkey": log_key.vkey,
                "size": cp.size,
                "root": b64encode(cp.root),
                "checked_at": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            },
        )
        seconds = time.monotonic() - started
        head = (
            f"OK: log {self.origin} size {cp.size} root {b64encode(cp.root)}: "
            f"{len(tiles)} tiles, {rsa_checked} RSA signatures, "
            f"{len(cosigned)} witness cosignature(s) (quorum {quorum}), {seconds:.1f} s"
        )
        return [head, *self.notes, *report, *(f"warning: {w}" for w in self.warnings)]

    def _compare_counts(
        self, petitions: dict[bytes, Petition], ledger: E.Ledger, body: bytes
    ) -> list[str]:
        lines, mismatch = [], None
        for pid, pet in petitions.items():
            if not any(key[0] == pid for key in ledger.levels):
                self.warnings.append(f"petition {pet.slug} is listed but has no entries")
            quoted = urllib.parse.quote(pet.slug, safe="")
            detail = self.fetcher.get_json(f"api/v1/petitions/{quoted}", MAX_JSON)
            counts = detail.get("counts") if isinstance(detail, dict) else None
            if not isinstance(counts, dict):
                raise AuditFailure(f"petition {pet.slug}: the API shows no counts")
            invalidated = {k.level for k in pet.keys.values() if k.invalidated}
            invalid_keys = {kid for kid, k in pet.keys.items() if k.invalidated}
            parts, total = [], 0
            for level in E.LEVEL_CODES:
                st = ledger.levels.get((pid, level))
                live = len(st.signatures) - len(st.withdrawn) if st else 0
                # Entries of an invalidated key stay in the log but do not count (protocol §5.2).
                counted = (
                    sum(
                        1
                        for nullifier, kid in st.signatures.items()
                        if nullifier not in st.withdrawn and kid not in invalid_keys
                    )
                    if st
                    else 0
                )
                total += counted
                if counts.get(level) != counted and mismatch is None:
                    mismatch = (
                        f"count mismatch: petition {pet.slug} {level}: the API says "
                        f"{counts.get(level)}, the log gives {counted}"
                    )
                if st is None or st.last_summary is None:
                    continue
                s = st.last_summary
                if s.signatures_total - s.withdrawn_total != live:
                    raise AuditFailure(
                        f"count mismatch: petition {pet.slug} {level}: last batch summary"
                    )
                if s.keys_invalidated and level not in invalidated:
                    raise AuditFailure(
                        f"petition {pet.slug} {level}: the log says a key was invalidated, "
                        "the API does not"
                    )
                if level not in invalidated and s.signatures_total > s.credentials_issued:
                    raise AuditFailure(
                        f"petition {pet.slug} {level}: {s.signatures_total} signatures but only "
                        f"{s.credentials_issued} credentials issued"
                    )
                if level != "work_email" and s.credentials_issued + s.codes_revoked > s.codes_made:
                    self.warnings.append(
                        f"petition {pet.slug} {level}: credentials issued + codes revoked "
                        "exceed codes made"
                    )
                extra = f"issued {s.credentials_issued}"
                if level != "work_email":
                    extra += f", codes made {s.codes_made}, revoked {s.codes_revoked}"
                flag = " INVALIDATED KEY, not counted" if level in invalidated else ""
                parts.append(f"{level} {counted} ({extra}){flag}")
            if counts.get("total") != total and mismatch is None:
                mismatch = (
                    f"count mismatch: petition {pet.slug} total: the API says "
                    f"{counts.get('total')}, the log gives {total}"
                )
            lines.append(f"petition {pet.slug}: " + ("; ".join(parts) or "no entries"))
        if mismatch:
            # The API may already show a batch newer than the checkpoint we verified.
            # Cosignatures may be added to the same checkpoint: compare the signed body only.
            try:
                now = parse_note(self.fetcher.get("log/checkpoint", MAX_CHECKPOINT)).text
            except (NotFound, NoteError):
                now = b""
            if now != body:
                raise LogMoved()
            raise AuditFailure(mismatch)
        return lines
