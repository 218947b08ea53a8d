"""The audit tool (tools/countersign_audit) against the real server (issue 16, "Tests").

Everything here runs the tool as a separate process with only `tools/` on its path,
against pytest-django's live server on 127.0.0.1 and the real PostgreSQL database: the
petitions have real keys, signatures go through protocol v1 (codes, credentials, blind
signatures), publication batches append to the log and sign its checkpoints, and codes are
made and revoked so that the batch summaries carry issuance totals.

The tampering tests play a dishonest operator with database access: the append-only
triggers of migration 0022 refuse UPDATE and DELETE on the log's tables, so each test first
disables them (`ALTER TABLE … DISABLE TRIGGER`), as such an operator would, and enables them
again afterwards. Whatever the operator rewrites, re-signing with the real log key included,
the tool must exit non-zero with one line that names what failed."""

from __future__ import annotations

import base64
import dataclasses
import json
import os
import random
import subprocess
import sys
import urllib.request
from contextlib import contextmanager
from pathlib import Path

import pytest
from django.db import connection, transaction

from petition import publication
from petition.codes import code_batch_create, code_batch_revoke
from petition.models import (
    LogCheckpoint,
    LogEntry,
    LogHead,
    LogKey,
    PendingSignature,
    PublicationBatch,
    WitnessCosignature,
)
from petition.services import petition_publish
from petition.tlog import entries, merkle, notes, services, witness
from petition.tlog.tasks import witness_cosign
from tests.factories import CampaignFactory, PetitionFactory
from tests.petition.test_publication import at
from tests.signing_client import b64, mint, start

ROOT = Path(__file__).resolve().parents[2]
TOOLS = ROOT / "tools"
if str(TOOLS) not in sys.path:  # the tool's own modules, to enumerate tiles and read bundles
    sys.path.insert(0, str(TOOLS))

from countersign_audit.tiles import bundle_path, tile_path, tiles_for_size  # noqa: E402

from tests.audit_tool.test_go_crosscheck import csverify  # noqa: E402, F401  (fixture)
from tests.audit_tool.test_witness import WitnessProcess  # noqa: E402

pytestmark = pytest.mark.django_db(transaction=True)

LOG_TABLES = ("logentry", "logtile", "logcheckpoint", "witnesscosignature")


# ---- the site ---------------------------------------------------------------------------------


class Site:
    """A published petition taking in-person and flyer codes, and helpers to feed its log."""

    def __init__(self, client, slug: str = "fair-pay"):
        self.client = client
        petition = PetitionFactory(campaign=CampaignFactory(), slug=slug)
        petition.accepts_flyer = True
        # Batches of at least 2, at most one an hour (tests/petition/test_publication.py).
        petition.publish_interval = 3600
        petition.publish_min_batch = 2
        petition.publish_max_wait = 86400
        petition.save()
        self.petition = petition_publish(petition=petition)
        self.codes = {
            level: code_batch_create(petition=self.petition, level=level, size=30)[1]
            for level in ("in_person", "flyer")
        }
        # A leaked stack of flyer cards, revoked: the summaries count its 10 codes.
        leaked, _ = code_batch_create(petition=self.petition, level="flyer", size=10)
        code_batch_revoke(batch=leaked)
        self.hour = 0
        self.credentials = []

    def post(self, path: str, body: dict):
        return self.client.post(
            f"/api/v1/petitions/{self.petition.slug}/{path}",
            json.dumps(body),
            content_type="application/json",
        )

    def sign(self, level: str, count: int) -> None:
        """`count` signers, each: a code, a blind credential, a signature (protocol v1)."""
        for _ in range(count):
            pending = start(self.client, self.petition, level)
            code = self.codes[level].pop()
            response = self.post(
                "credentials", {"level": level, "code": code, "blinded_msg": b64(pending.blinded)}
            )
            assert response.status_code == 200, response.content
            credential = pending.finish(response.json()["blind_sig"])
            assert self.post("signatures", credential.payload()).status_code == 201
            self.credentials.append(credential)

    def withdraw(self, credential) -> None:
        response = self.post("withdrawals", {"token": b64(credential.token)})
        assert response.status_code in (200, 201, 202), response.content

    def publish(self) -> None:
        """The next hourly slot's publication run: one batch (and checkpoint) per level."""
        before = LogCheckpoint.objects.count()
        publication.petition_publish_pending(
            petition_id=self.petition.id, now=at(self.hour), rng=random.Random(self.hour)
        )
        self.hour += 1
        assert LogCheckpoint.objects.count() > before, "the run published nothing"

    def batches(self, count: int) -> None:
        for _ in range(count):
            self.sign("in_person", 2)
            self.sign("flyer", 2)
            self.publish()


@pytest.fixture
def site(live_server, client):
    s = Site(client)
    s.batches(2)
    s.withdraw(s.credentials[0])
    s.sign("in_person", 2)
    s.publish()
    return s


def origin() -> str:
    return services.log_origin()


# Only what the tool's documentation asks for (docs/audit.md: Python and `cryptography`):
# `python -S` skips site-packages, where the project is installed in editable mode.
ONLY_CRYPTOGRAPHY = ("cryptography", "cffi", "pycparser", "_cffi_backend")


def tool_environment(folder: Path) -> dict:
    """PYTHONPATH = tools/ plus a folder holding `cryptography` and what it loads, alone."""
    site_packages = Path(next(p for p in sys.path if p.endswith("site-packages")))
    only = folder / "only-cryptography"
    if not only.exists():
        only.mkdir()
        for item in site_packages.iterdir():
            if item.name.split(".")[0] in ONLY_CRYPTOGRAPHY:
                (only / item.name).symlink_to(item)
    return {
        "PATH": os.environ.get("PATH", ""),
        "HOME": str(folder),
        "PYTHONPATH": f"{TOOLS}{os.pathsep}{only}",
        "LANG": "C.UTF-8",
    }


def audit(url: str, state: Path, *extra: str, timeout: float = 120) -> tuple[int, str]:
    """`python -m countersign_audit check` in its own process, with only tools/ and
    `cryptography` on its path and a working folder outside the project: it can import
    nothing of the app."""
    result = subprocess.run(
        [
            sys.executable,
            "-S",
            "-m",
            "countersign_audit",
            "check",
            url,
            "--origin",
            origin(),
            "--state",
            str(state),
            "--timeout",
            "20",
            *extra,
        ],
        cwd=state.parent,
        env=tool_environment(state.parent),
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    assert result.stderr == "", result.stderr
    return result.returncode, result.stdout


def fails(url: str, state: Path, *extra: str) -> str:
    """The check fails (exit status 1) with exactly one line, which is returned."""
    status, out = audit(url, state, *extra)
    lines = out.splitlines()
    assert status == 1 and len(lines) == 1 and lines[0].startswith("FAILED: "), out
    return lines[0]


# ---- the dishonest operator -------------------------------------------------------------------


@contextmanager
def triggers_disabled():
    """What an operator with database access can do: switch the append-only triggers off."""
    names = {t: f"petition_{t}_append_only" for t in LOG_TABLES}
    with connection.cursor() as cursor:
        for table, trigger in names.items():
            cursor.execute(f"ALTER TABLE petition_{table} DISABLE TRIGGER {trigger}")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            for table, trigger in names.items():
                cursor.execute(f"ALTER TABLE petition_{table} ENABLE TRIGGER {trigger}")


def rewrite_log(transform) -> None:
    """Rebuild the whole log from its entries after `transform(position, data)` (bytes to
    keep, or None to drop), batch by batch as it was appended, each checkpoint re-signed
    with the real log key: a consistent-looking log with a different history."""
    boundaries = list(LogCheckpoint.objects.order_by("size").values_list("size", flat=True))
    rows = list(
        LogEntry.objects.order_by("position").values_list("position", "petition_id", "data")
    )
    groups, start_at = [], 0
    for end in boundaries:
        group = []
        for position, petition_id, data in rows[start_at:end]:
            new = transform(position, bytes(data))
            if new is not None:
                group.append((petition_id, new))
        groups.append(group)
        start_at = end
    with triggers_disabled(), transaction.atomic():
        WitnessCosignature.objects.all().delete()
        LogCheckpoint.objects.all().delete()
        with connection.cursor() as cursor:
            cursor.execute("DELETE FROM petition_logtile")
            cursor.execute("DELETE FROM petition_logentry")
        LogHead.objects.filter(pk=1).update(size=0)
    with transaction.atomic():
        for group in groups:
            services.append_entries(group)


def kind_positions(kind: int) -> list[int]:
    return list(
        LogEntry.objects.filter(kind=kind).order_by("position").values_list("position", flat=True)
    )


def serve_checkpoint(size: int, root: bytes) -> None:
    """Replace the latest checkpoint by one for (size, root), signed with the log's key."""
    key = LogKey.objects.get(pk=1)
    note = notes.sign_note(
        notes.Checkpoint(key.name, size, root).text, key.name, services._private_key(key)
    )
    with triggers_disabled(), transaction.atomic():
        WitnessCosignature.objects.filter(checkpoint__size=size).delete()
        LogCheckpoint.objects.filter(size=size).delete()
        # The increasing-size trigger allows it: the size equals the number of entries again.
        LogCheckpoint.objects.create(size=size, root=root, note=note)


def http_get(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=20) as response:  # noqa: S310 (127.0.0.1)
        return response.read()


# ---- a. honest --------------------------------------------------------------------------------


def test_the_tool_needs_nothing_of_the_app(tmp_path):
    """The environment `audit` gives the tool: `petition` is not importable there."""
    result = subprocess.run(
        [sys.executable, "-S", "-c", "import countersign_audit.check, petition"],
        cwd=tmp_path,
        env=tool_environment(tmp_path),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1 and "No module named 'petition'" in result.stderr


def test_an_honest_server_passes_and_the_next_run_proves_consistency(site, live_server, tmp_path):
    state = tmp_path / "state.json"
    size = LogHead.objects.get().size
    status, out = audit(live_server.url, state)
    assert status == 0, out
    head, *rest = out.splitlines()
    assert head.startswith(f"OK: log {origin()} size {size} ")
    assert "10 RSA signatures" in head  # 2 batches of 2 + 2, then 2 in-person
    assert any("trusted on first use" in line for line in rest)
    # The issuance totals of the summaries: 30 codes + 10 revoked for flyers.
    slug = site.petition.slug
    assert f"petition {slug}: in_person 5 (issued 6, codes made 30, revoked 0); " in out
    assert "flyer 4 (issued 4, codes made 40, revoked 10)" in out
    saved = json.loads(state.read_text())
    assert saved["size"] == size and saved["vkey"] == services.log_identity()["vkey"]

    site.batches(2)
    status, out = audit(live_server.url, state, "--log-key", saved["vkey"])
    assert status == 0, out
    assert f"consistent with the {size} entries verified on " in out
    assert json.loads(state.read_text())["size"] == LogHead.objects.get().size > size


# ---- b. tampering -----------------------------------------------------------------------------


def test_an_entry_dropped_and_the_log_re_signed(site, live_server, tmp_path):
    state = tmp_path / "state.json"
    assert audit(live_server.url, state)[0] == 0
    size = LogHead.objects.get().size
    dropped = kind_positions(entries.KIND_SIGNATURE)[1]  # a signature of the first batch
    rewrite_log(lambda position, data: None if position == dropped else data)
    assert LogHead.objects.get().size == size - 1

    # A first-time auditor: the batch summary still counts the dropped signature.
    line = fails(live_server.url, tmp_path / "fresh.json")
    assert "batch summary says 2 signatures, the log holds 1" in line
    # The auditor who checked before: the log shrank.
    line = fails(live_server.url, state)
    assert line == f"FAILED: size went down: {size} entries verified before, now {size - 1}"


def test_a_withdrawal_flipped_and_the_log_re_signed(site, live_server, tmp_path):
    state = tmp_path / "state.json"
    assert audit(live_server.url, state)[0] == 0
    (position,) = kind_positions(entries.KIND_WITHDRAWAL)
    withdrawal = entries.decode(bytes(LogEntry.objects.get(position=position).data))
    # The operator "un-withdraws" the signer: the withdrawal now names a nullifier nobody
    # published.
    forged = entries.withdrawal_entry(withdrawal.petition_id, withdrawal.level, b"\x07" * 32)
    rewrite_log(lambda p, data: forged if p == position else data)

    line = fails(live_server.url, tmp_path / "fresh.json")
    assert line.startswith(f"FAILED: entry {position}: withdrawal of a signature not published")
    line = fails(live_server.url, state)
    size = LogHead.objects.get().size
    assert line == f"FAILED: fork: a different root for size {size} than verified before"


def _flip_signature_bit(data: bytes) -> bytes:
    return data[:-1] + bytes([data[-1] ^ 1])  # one bit of the RSA signature


def _more_codes_made(data: bytes) -> bytes:
    entry = entries.decode(data)
    summary = dataclasses.replace(entry.summary, codes_made=entry.summary.codes_made + 500)
    return entries.summary_entry(entry.petition_id, entry.level, summary)


@pytest.mark.parametrize(
    ("kind", "edit", "message"),
    [
        (entries.KIND_SIGNATURE, _flip_signature_bit, "entry {position}: bad RSA blind signature"),
        # A summary claiming more codes breaks no rule between entries: the tree catches it.
        (
            entries.KIND_SUMMARY,
            _more_codes_made,
            "tile mismatch: the entries do not hash to the checkpoint's root",
        ),
    ],
    ids=["signature", "summary"],
)
def test_a_tile_edited_with_its_entry_bundle(site, live_server, tmp_path, kind, edit, message):
    size = LogHead.objects.get().size
    position = kind_positions(kind)[-1]
    original = bytes(LogEntry.objects.get(position=position).data)
    edited = edit(original)
    assert len(edited) == len(original) and edited != original
    with triggers_disabled(), connection.cursor() as cursor:
        # The served bundle and level-0 tile at the checkpoint's width, edited together so
        # that the entry hashes to its stored hash.
        cursor.execute(
            "UPDATE petition_logtile SET data = overlay(data placing %s from %s) "
            "WHERE bundle AND level = 0 AND index = 0 AND width = %s",
            [edited, _bundle_offset(position) + 1, size],
        )
        cursor.execute(
            "UPDATE petition_logtile SET data = overlay(data placing %s from %s) "
            "WHERE NOT bundle AND level = 0 AND index = 0 AND width = %s",
            [merkle.leaf_hash(edited), position * 32 + 1, size],
        )
    bundle = http_get(f"{live_server.url}/log/tile/entries/000.p/{size}")
    assert edited in bundle and original not in bundle  # served as edited
    line = fails(live_server.url, tmp_path / "state.json")
    assert line == "FAILED: " + message.format(position=position)


def _bundle_offset(position: int) -> int:
    """Byte offset of entry `position`'s data in the bundle of tile 0 (entries are
    uint16-length prefixed)."""
    offset = 0
    for data in LogEntry.objects.filter(position__lt=position).values_list("data", flat=True):
        offset += 2 + len(bytes(data))
    return offset + 2


def test_a_count_the_api_shows_but_the_log_does_not(site, live_server, tmp_path):
    """A publication batch row edited outside the log: the page and API count one more."""
    newest = PublicationBatch.objects.filter(petition=site.petition, level="in_person").latest(
        "number"
    )
    PublicationBatch.objects.filter(pk=newest.pk).update(total_added=newest.total_added + 1)
    counts = site.client.get(f"/api/v1/petitions/{site.petition.slug}").json()["counts"]
    assert counts["in_person"] == 6
    line = fails(live_server.url, tmp_path / "state.json")
    assert line == (
        f"FAILED: count mismatch: petition {site.petition.slug} in_person: "
        "the API says 6, the log gives 5"
    )


def test_a_checkpoint_whose_size_went_down(site, live_server, tmp_path):
    state = tmp_path / "state.json"
    assert audit(live_server.url, state)[0] == 0
    latest = LogCheckpoint.objects.latest("size")
    previous = LogCheckpoint.objects.filter(size__lt=latest.size).latest("size")
    # The operator serves the previous checkpoint again (drops the last one).
    with triggers_disabled():
        LogCheckpoint.objects.filter(size=latest.size).delete()
    line = fails(live_server.url, state)
    assert line == (
        f"FAILED: size went down: {latest.size} entries verified before, now {previous.size}"
    )


def test_a_forked_checkpoint_for_a_size_already_seen(site, live_server, tmp_path):
    state = tmp_path / "state.json"
    assert audit(live_server.url, state)[0] == 0
    latest = LogCheckpoint.objects.latest("size")
    # Another tree of the same size, signed with the real log key taken from the database.
    serve_checkpoint(latest.size, bytes(32 * [0x42]))
    served = http_get(f"{live_server.url}/log/checkpoint").decode()
    assert notes.verify_note(served, [services.log_verifier()])  # a valid signature
    line = fails(live_server.url, state)
    assert line == f"FAILED: fork: a different root for size {latest.size} than verified before"
    # Someone who never checked before sees a checkpoint its tiles do not match.
    line = fails(live_server.url, tmp_path / "fresh.json")
    assert line == "FAILED: tile mismatch: the entries do not hash to the checkpoint's root"


# ---- c. witness -------------------------------------------------------------------------------


@pytest.fixture
def witnessed(live_server, client, settings, tmp_path):
    """The tool's witness as a real process on 127.0.0.1, configured on the server."""
    vkey = services.log_identity()["vkey"]  # the log key exists before the first entry
    process = WitnessProcess(tmp_path, [vkey])
    settings.COUNTERSIGN_WITNESSES = [
        {
            "name": "witness.test",
            "url": f"http://127.0.0.1:{process.port}",
            "vkey": process.vkey,
        }
    ]
    settings.COUNTERSIGN_WITNESS_TIMEOUT = 5
    try:
        yield Site(client), process
    finally:
        process.stop()


def test_a_real_witness_cosigns_every_batch_and_refuses_a_fork(witnessed, live_server, tmp_path):
    site, process = witnessed
    for _ in range(3):
        site.batches(1)
        # The task the worker runs after each checkpoint, in this process.
        assert witness_cosign("witness.test") is True
    latest = LogCheckpoint.objects.latest("size")
    assert WitnessCosignature.objects.filter(witness="witness.test").count() == 3
    served = http_get(f"{live_server.url}/log/checkpoint").decode()
    assert served.startswith(latest.note) and "\n— witness.test " in served

    state = tmp_path / "state.json"
    status, out = audit(live_server.url, state, "--witness", process.vkey, "--quorum", "1")
    assert status == 0, out
    assert "1 witness cosignature(s) (quorum 1)" in out

    # The server presents a fork to the witness: the last entry rewritten, re-signed.
    size = latest.size
    rewrite_log(lambda p, data: _other_signature(data) if p == size - 2 else data)
    configured = witness.witness_named("witness.test")
    with pytest.raises(witness.WitnessError, match=r"witness.test answered 409"):
        witness.cosign_latest(configured)
    # Publication goes on without the witness.
    site.batches(1)
    grown = LogCheckpoint.objects.latest("size")
    assert grown.size > size and not grown.cosignatures.exists()
    with pytest.raises(witness.WitnessError, match=r"witness.test answered 422"):
        witness.cosign_latest(configured)
    # And auditors who require the witness see why.
    line = fails(live_server.url, tmp_path / "fresh.json", "--witness", process.vkey)
    assert line == "FAILED: only 0 of the 1 witness cosignatures needed"


def _other_signature(data: bytes) -> bytes:
    """The same entry with another (invalid) last byte: the fork differs in one entry."""
    return data[:-1] + bytes([data[-1] ^ 1])


# ---- d. an independent verifier ---------------------------------------------------------------


def test_go_accepts_the_live_servers_checkpoint_tiles_and_proofs(
    csverify,  # noqa: F811
    witnessed,
    live_server,
):
    """tests/audit_tool/go/csverify.go (golang.org/x/mod's note and tlog) gets every file
    the checkpoint implies downloaded from the live server, and the server's own proofs."""
    site, process = witnessed
    for _ in range(3):
        site.batches(1)
        witness_cosign("witness.test")
    # 300 more, past the first full tile, so that level 1 has tiles too. The test client
    # signs these with the petition's key directly (tests/signing_client.py's `mint`, what
    # the credential endpoint does) to spare 300 credential requests.
    for _ in range(300):
        assert site.post("signatures", mint(site.petition).payload()).status_code == 201
    for _ in range(20):  # the pool mix publishes some of the waiting ones at each slot
        site.publish()
        if not PendingSignature.objects.exists():
            break
    witness_cosign("witness.test")
    note = http_get(f"{live_server.url}/log/checkpoint").decode()
    size = LogHead.objects.get().size
    assert size > 256
    files = {}
    for level, index, width in tiles_for_size(size):
        paths = [tile_path(level, index, width)]
        if level == 0:
            paths.append(bundle_path(index, width))
        for path in paths:
            files[path] = base64.b64encode(http_get(f"{live_server.url}/log/{path}")).decode()
    roots = dict(LogCheckpoint.objects.values_list("size", "root"))
    root = bytes(roots[size])
    payload = {
        "vkey": services.log_identity()["vkey"],
        "cosigner": process.vkey,
        "note": note,
        "files": files,
        "inclusion": [
            {
                "index": i,
                "size": size,
                "root": b64std(root),
                "proof": [b64std(h) for h in services.inclusion_proof(i, size)],
            }
            for i in sorted({*range(0, size, 7), size - 1})
        ],
        "consistency": [
            {
                "old": old,
                "new": size,
                "old_root": b64std(bytes(old_root)),
                "new_root": b64std(root),
                "proof": [b64std(h) for h in services.consistency_proof(old, size)],
            }
            for old, old_root in roots.items()
            if old < size
        ],
    }
    assert len(payload["consistency"]) == len(roots) - 1 >= 7
    result = subprocess.run(
        [str(csverify)], input=json.dumps(payload), capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.startswith(f"OK size {size}, ")
    assert "tile/1/000.p/1" in files and "tile/0/000" in files
    inclusions = len(payload["inclusion"])
    assert f"{inclusions} inclusion and {len(roots) - 1} consistency proofs" in result.stdout

    # It does reject what the server serves once an entry is edited in its bundle.
    files = dict(files)
    path = bundle_path(1, size - 256)
    raw = bytearray(base64.b64decode(files[path]))
    raw[-1] ^= 1
    files[path] = base64.b64encode(bytes(raw)).decode()
    bad = subprocess.run(
        [str(csverify)],
        input=json.dumps(dict(payload, files=files)),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert bad.returncode == 1 and bad.stdout.startswith("FAIL"), bad.stdout


def b64std(data: bytes) -> str:
    return base64.b64encode(data).decode()
