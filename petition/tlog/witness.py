"""Witness client (C2SP tlog-witness v1.0.0, tlog-cosignature v1.0.1).

After each checkpoint the worker asks every configured witness (COUNTERSIGN_WITNESSES) to
cosign the latest one, with a consistency proof from the size that witness last cosigned.
A witness that is down, slow or answers garbage raises WitnessError and the task retries
with backoff; publication never waits for it. Only cosignatures that verify under the
configured key are kept; they are served with the checkpoint (GET /log/checkpoint)."""

from __future__ import annotations

import base64
import dataclasses
import logging
import urllib.error
import urllib.request

from django.conf import settings
from django.db import transaction

from ..models import LogCheckpoint, WitnessCosignature, WitnessState
from . import notes, services

logger = logging.getLogger(__name__)
MAX_RESPONSE = 64 * 1024
SIZE_CONTENT_TYPE = "text/x.tlog.size"


class WitnessError(Exception):
    """A witness that did not cosign this time (the task retries)."""


@dataclasses.dataclass(frozen=True)
class Witness:
    name: str
    url: str
    verifier: notes.Verifier


def parse_witnesses(raw) -> list[Witness]:
    """COUNTERSIGN_WITNESSES, checked; ValueError says what is wrong (system check E023)."""
    if not isinstance(raw, list):
        raise ValueError("COUNTERSIGN_WITNESSES must be a JSON list")
    witnesses = []
    for item in raw:
        if not isinstance(item, dict) or set(item) != {"name", "url", "vkey"}:
            raise ValueError('each witness is {"name": ..., "url": ..., "vkey": ...}')
        try:
            verifier = notes.parse_vkey(str(item["vkey"]))
        except notes.NoteError as error:
            raise ValueError(f"witness {item['name']!r}: {error}") from error
        if verifier.key_type != notes.TYPE_COSIGNATURE:
            raise ValueError(f"witness {item['name']!r}: the vkey must be a 0x04 cosignature key")
        if verifier.name != item["name"]:
            raise ValueError(f"witness {item['name']!r}: the name must be the vkey's name")
        url = str(item["url"])
        if not url.startswith(("https://", "http://")):
            raise ValueError(f"witness {item['name']!r}: the url must be http(s)")
        witnesses.append(Witness(item["name"], url.rstrip("/"), verifier))
    if len({w.name for w in witnesses}) != len(witnesses):
        raise ValueError("two witnesses have the same name")
    return witnesses


def configured_witnesses() -> list[Witness]:
    return parse_witnesses(settings.COUNTERSIGN_WITNESSES)


def public_witnesses() -> list[dict[str, str]]:
    """{"name", "vkey"} of each configured witness: what the audit page prints (its script
    checks the cosignatures against these, never against keys fetched with the checkpoint)
    and what GET /api/v1/log lists. Witness URLs stay out: they are for the log, not readers."""
    return [{"name": w.name, "vkey": w.verifier.vkey} for w in configured_witnesses()]


def witness_named(name: str) -> Witness | None:
    return next((w for w in configured_witnesses() if w.name == name), None)


def request_body(old: int, proof: list[bytes], note: str) -> bytes:
    lines = [f"old {old}", *(base64.b64encode(h).decode() for h in proof)]
    return ("\n".join(lines) + "\n\n" + note).encode()


def _post(witness: Witness, body: bytes) -> tuple[int, str, bytes]:
    request = urllib.request.Request(  # noqa: S310  (http(s) only: parse_witnesses)
        witness.url + "/add-checkpoint", data=body, method="POST"
    )
    request.add_header("Content-Type", "text/plain; charset=utf-8")
    try:
        with urllib.request.urlopen(  # noqa: S310  # nosec B310
            request, timeout=settings.COUNTERSIGN_WITNESS_TIMEOUT
        ) as response:
            return (
                response.status,
                response.headers.get("Content-Type", ""),
                response.read(MAX_RESPONSE),
            )
    except urllib.error.HTTPError as error:
        return error.code, error.headers.get("Content-Type", ""), error.read(MAX_RESPONSE)
    except (OSError, ValueError) as error:  # refused, timeout, TLS, malformed answer
        raise WitnessError(f"{witness.name}: {type(error).__name__}") from error


def cosign_latest(witness: Witness) -> WitnessCosignature | None:
    """Ask `witness` to cosign the latest checkpoint; store and return its cosignature.
    None when there is nothing to do (no checkpoint yet, or cosigned already)."""
    checkpoint = LogCheckpoint.objects.order_by("-size").first()
    if checkpoint is None:
        return None
    done = WitnessCosignature.objects.filter(checkpoint=checkpoint, witness=witness.name).first()
    if done is not None:
        return done
    state, _ = WitnessState.objects.get_or_create(name=witness.name)
    text = checkpoint.note[: checkpoint.note.index("\n\n") + 1]
    # A 409 tells the witness's size; two of them in a row means another process moved it
    # meanwhile: leave it to the retry.
    for _attempt in range(3):
        if state.size > checkpoint.size:
            raise WitnessError(f"{witness.name} claims size {state.size}, past our log")
        proof = services.consistency_proof(state.size, checkpoint.size)
        status, content_type, body = _post(
            witness, request_body(state.size, proof, checkpoint.note)
        )
        if status == 409 and content_type.split(";")[0].strip() == SIZE_CONTENT_TYPE:
            state.size = _parse_size(witness, body)
            state.save(update_fields=["size"])
            continue
        if status != 200:
            raise WitnessError(f"{witness.name} answered {status}")
        return _store(witness, checkpoint, text, body, state)
    raise WitnessError(f"{witness.name}: its size kept changing")


def _parse_size(witness: Witness, body: bytes) -> int:
    text = body.decode("ascii", "replace").strip()
    if not text.isdigit() or len(text) > 19:
        raise WitnessError(f"{witness.name} sent a malformed size")
    return int(text)


def _store(witness, checkpoint, text, body, state) -> WitnessCosignature:
    try:
        lines = body.decode().splitlines(keepends=True)
    except UnicodeDecodeError as error:
        raise WitnessError(f"{witness.name} answered garbage") from error
    for line in lines:
        if not line.endswith("\n"):
            line += "\n"
        try:
            _text, signatures = notes.split_note("x\n\n" + line)
            signature = signatures[0]
            if (signature.name, signature.key_id) != (witness.name, witness.verifier.key_id):
                continue  # another key of the witness: ignored (signed-note)
            timestamp = notes.verify_cosignature(witness.verifier, text, signature.payload)
        except notes.NoteError:
            continue
        with transaction.atomic():
            cosignature, _ = WitnessCosignature.objects.get_or_create(
                checkpoint=checkpoint,
                witness=witness.name,
                defaults={"line": line, "timestamp": timestamp},
            )
            state.size = checkpoint.size
            state.save(update_fields=["size"])
        return cosignature
    raise WitnessError(f"{witness.name} sent no cosignature that verifies")


def cosigned_note(checkpoint: LogCheckpoint) -> str:
    """The checkpoint as served: the log's note plus the stored cosignature lines."""
    lines = checkpoint.cosignatures.order_by("witness").values_list("line", flat=True)
    return checkpoint.note + "".join(lines)
