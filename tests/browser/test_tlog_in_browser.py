"""The transparency log in Chromium on a 390x844 phone (issue 16, item 6): the audit page
verifies the signed checkpoint and a witness's cosignature against the keys printed on it,
proves a receipt's inclusion from whole tiles and entry bundles (the only log requests it
makes, so the server cannot tell which entry was looked for), saves the receipt with its
proof and checks that file again with no request at all; a checkpoint with a wrong
signature shows a warning. axe-core checks each state."""

from __future__ import annotations

import base64
import json
import re
import uuid
from pathlib import Path

import pytest
from django.db import transaction
from django.test import Client
from playwright.sync_api import expect

from petition import blindrsa
from petition.models import LogCheckpoint, LogEntry
from petition.services import petition_publish
from petition.tlog import entries, merkle, services, witness
from tests.browser.axe import assert_accessible
from tests.factories import PetitionFactory
from tests.petition.test_publication import sign, withdraw
from tests.petition.test_tlog_witness import Witness
from tests.signing_client import mint

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SHOTS = Path("/work/lead/shots")
OTHER_PETITION = uuid.UUID("00112233-4455-6677-8899-aabbccddeeff")
b64 = blindrsa.b64url_encode
TILE_REQUEST = re.compile(r"/log/tile/(entries|\d+)/(x\d{3}/)*\d{3}(\.p/\d{1,3})?")


def _receipt(petition, credential) -> str:
    """The receipt file the signing page downloads (static/js/receipt.js receiptFile)."""
    return json.dumps(
        {
            "format": "countersign-receipt",
            "version": 1,
            "petition": petition.slug,
            "level": "in_person",
            "keyId": b64(credential.key_id),
            "token": b64(credential.token),
            "preparedMsg": b64(credential.prepared),
            "sig": b64(credential.sig),
        }
    )


def _position(petition, kind: int, credential) -> int:
    wanted = blindrsa.nullifier(credential.token)
    for row in LogEntry.objects.filter(petition_id=petition.id, kind=kind):
        if entries.decode(bytes(row.data)).nullifier == wanted:
            return row.position
    raise AssertionError("no such entry")


@pytest.fixture
def signed_log(settings):
    """300 entries of another petition first (full tiles at level 0, a level-1 tile), then
    this petition's signatures, one of them withdrawn, and a witness's cosignature on the
    latest checkpoint."""
    with transaction.atomic():
        services.append_entries(
            [
                (OTHER_PETITION, entries.withdrawal_entry(OTHER_PETITION, "flyer", i.to_bytes(32)))
                for i in range(300)
            ]
        )
    petition = petition_publish(petition=PetitionFactory(goal=100))
    client = Client()
    credentials = [mint(petition) for _ in range(4)]
    for credential in credentials:
        assert sign(client, petition, credential).status_code in (200, 201)
    assert withdraw(client, petition, credentials[1]).status_code == 200
    server = Witness(services.log_identity()["vkey"])
    settings.COUNTERSIGN_WITNESSES = [
        {"name": "witness.example", "url": server.url, "vkey": server.vkey}
    ]
    settings.COUNTERSIGN_WITNESS_TIMEOUT = 2
    assert witness.cosign_latest(witness.configured_witnesses()[0]) is not None
    yield petition, credentials
    server.server.shutdown()


def _log_requests(requests: list[str]) -> list[str]:
    return [url.split("/log/", 1)[1] for url in requests if "/log/" in url]


def test_the_audit_page_proves_a_receipt_from_whole_tiles_and_checks_it_offline(
    live_server, page, signed_log
):
    petition, credentials = signed_log
    latest = LogCheckpoint.objects.order_by("-size").first()
    size = latest.size
    identity = services.log_identity()
    requests: list[str] = []
    page.on("request", lambda r: requests.append(r.url))
    page.goto(f"{live_server.url}/p/{petition.slug}/audit/")

    status = page.locator("#tlog-status")
    key_id = identity["vkey"].split("+")[1]
    expect(status).to_have_text(
        f"Checkpoint verified: {size} entries, signed by {identity['origin']}, key {key_id}."
    )
    expect(page.locator("#tlog-witnesses li")).to_contain_text("cosignature verified, made")
    assert_accessible(page, "audit page, checkpoint verified")
    status.scroll_into_view_if_needed()
    page.screenshot(path=str(SHOTS / "tlogweb-checkpoint.png"))

    # A published receipt: found at its position, proved on the device.
    page.locator("#audit-receipt").fill(_receipt(petition, credentials[0]))
    page.get_by_role("button", name="Check on this device").click()
    result = page.locator("#audit-result")
    position = _position(petition, entries.KIND_SIGNATURE, credentials[0])
    expect(result).to_have_text(
        f"Found: your signature is in the signed log at position {position} of {size}; "
        "inclusion proved on this device."
    )
    expect(page.locator("#audit-progress-box")).to_be_hidden()
    # Only the checkpoint and every tile and bundle of the signed tree, each whole: no
    # per-entry proof, no old JSON page, nothing naming the receipt.
    log_paths = _log_requests(requests)
    tiles = [p for p in log_paths if p != "checkpoint"]
    expected = {
        f"tile/{level}/{merkle.encode_index(index)}" + (f".p/{width}" if width < 256 else "")
        for level, index, width in merkle.tile_widths(size)
    } | {
        f"tile/entries/{merkle.encode_index(index)}" + (f".p/{width}" if width < 256 else "")
        for level, index, width in merkle.tile_widths(size)
        if level == 0
    }
    assert set(tiles) == expected and len(tiles) == len(expected)
    assert all(TILE_REQUEST.fullmatch(f"/log/{p}") for p in tiles)
    assert not [url for url in requests if "/api/v1/" in url]
    token = b64(credentials[0].token)
    assert all(token not in url for url in requests)
    assert_accessible(page, "audit page, inclusion proved")
    page.locator("#audit-result").scroll_into_view_if_needed()
    page.screenshot(path=str(SHOTS / "tlogweb-result.png"))

    # Save it with its proof; the file holds the checkpoint, the position and the proof.
    with page.expect_download() as download:
        page.get_by_role("link", name="Save receipt with proof").click()
    saved = Path(download.value.path())
    assert download.value.suggested_filename.endswith(".tlog-proof")
    proof = json.loads(saved.read_text())
    assert proof["format"] == "countersign-tlog-proof" and proof["index"] == position
    assert proof["size"] == size and proof["checkpoint"] == witness.cosigned_note(latest)
    assert 1 <= len(proof["proof"]) <= 9

    # The withdrawn receipt: both entries proved.
    page.locator("#audit-receipt").fill(_receipt(petition, credentials[1]))
    page.get_by_role("button", name="Check on this device").click()
    expect(result).to_contain_text("Found, marked as withdrawn: your signature is in the")
    # Someone else's receipt code: absent.
    page.locator("#audit-receipt").fill("A" * 43)
    page.get_by_role("button", name="Check on this device").click()
    expect(result).to_have_text(re.compile(rf"^Not in the public log \({size} entries read"))

    # Offline: the saved file is checked with no request at all.
    requests.clear()
    page.context.set_offline(True)
    page.locator("#audit-file").set_input_files(str(saved))
    expect(result).to_have_text(
        f"Checked from the saved file, without the network: your signature is at position "
        f"{position} of the log signed at {size} entries; inclusion proved on this device. "
        "Witnesses whose cosignature on that checkpoint verified: witness.example."
    )
    assert requests == []
    assert_accessible(page, "audit page, proof file checked offline")
    page.screenshot(path=str(SHOTS / "tlogweb-offline.png"))
    page.context.set_offline(False)

    # An edited file (another position) is refused, still offline and without a request.
    proof["index"] = position - 1
    edited = saved.with_name("edited.tlog-proof")
    edited.write_text(json.dumps(proof))
    page.locator("#audit-file").set_input_files(str(edited))
    expect(result).to_have_attribute("data-state", re.compile("proof|invalid"))
    assert page.problems == []


def test_a_checkpoint_with_a_wrong_signature_shows_a_warning(live_server, page, signed_log):
    petition, credentials = signed_log
    note = witness.cosigned_note(LogCheckpoint.objects.order_by("-size").first())
    root = note.split("\n")[2]
    # The same note with another root: its signature no longer matches (a forked log).
    forged = note.replace(f"\n{root}\n", f"\n{base64.b64encode(bytes(32)).decode()}\n", 1)
    assert forged != note
    page.route(
        "**/log/checkpoint",
        lambda route: route.fulfill(body=forged, content_type="text/plain; charset=utf-8"),
    )
    page.goto(f"{live_server.url}/p/{petition.slug}/audit/")
    status = page.locator("#tlog-status")
    expect(status).to_contain_text("Warning: the log's checkpoint is not signed by the log key")
    expect(status).to_have_class(re.compile("audit-warning"))
    page.locator("#audit-receipt").fill(_receipt(petition, credentials[0]))
    page.get_by_role("button", name="Check on this device").click()
    result = page.locator("#audit-result")
    expect(result).to_contain_text("Warning: the checkpoint is not signed by the log key")
    expect(result).to_have_class(re.compile("audit-warning"))
    assert_accessible(page, "audit page, forged checkpoint")
    page.screenshot(path=str(SHOTS / "tlogweb-forged.png"))
    assert page.problems == []
