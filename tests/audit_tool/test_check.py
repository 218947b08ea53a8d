"""`check` against a small static log served on 127.0.0.1, honest and tampered with."""

import dataclasses
import json

import pytest
from countersign_audit import entries as E
from countersign_audit.check import MAX_CHECKPOINT, Audit, AuditFailure, Options
from countersign_audit.cli import main
from countersign_audit.fetch import FetchError
from countersign_audit.merkle import leaf_hash
from countersign_audit.note import TYPE_COSIGNATURE_V1, Signer
from countersign_audit.tiles import TILE_WIDTH, encode_bundle

from .static_site import Petition, Site


@pytest.fixture
def site():
    s = Site()
    pet = Petition("union-now")
    s.petitions.append(pet)
    s.batch(pet, "flyer", new=6, issued_extra=4)
    s.batch(pet, "work_email", new=5)
    s.batch(pet, "flyer", new=5, withdraw=2)
    s.batch(pet, "flyer", withdraw=1)
    yield s
    s.close()


def audit(site, tmp_path, **kw):
    return Audit(Options(site.url, state_path=str(tmp_path / "state.json"), **kw)).run()


def fails(site, tmp_path, match, **kw):
    with pytest.raises(AuditFailure, match=match) as info:
        audit(site, tmp_path, **kw)
    assert "\n" not in str(info.value)
    return str(info.value)


def test_honest_log_passes_and_is_pinned(site, tmp_path):
    lines = audit(site, tmp_path)
    assert lines[0].startswith(f"OK: log {site.origin} size {len(site.writer.entries)} ")
    assert "16 RSA signatures" in lines[0]
    assert any("trusted on first use" in line for line in lines)
    assert "petition union-now: work_email 5 (issued 5); in_person 0" not in lines  # level absent
    assert any(
        line.startswith("petition union-now: work_email 5 (issued 5); flyer 8") for line in lines
    )
    state = json.loads((tmp_path / "state.json").read_text())
    assert state["size"] == len(site.writer.entries) and state["vkey"] == site.signer.verifier.vkey
    # The next run proves consistency with the pinned state.
    site.batch(site.petitions[0], "work_email", new=3)
    lines = audit(site, tmp_path)
    assert any(f"consistent with the {state['size']} entries" in line for line in lines)


def test_more_than_one_tile_level(tmp_path):
    s = Site()
    try:
        pet = Petition("big", levels=("flyer",))
        s.petitions.append(pet)
        for _ in range(3):
            s.batch(pet, "flyer", new=120)
        assert len(s.writer.entries) > TILE_WIDTH
        assert "/log/tile/1/000.p/1" in s.files
        lines = audit(s, tmp_path)
        assert lines[0].startswith("OK:")
    finally:
        s.close()


def test_entry_dropped(site, tmp_path):
    entries = list(site.writer.entries)
    del entries[2]  # a flyer signature of the first batch; the summary still counts it
    site.rewrite(entries)
    fails(site, tmp_path, r"entry 5: batch summary says 6 signatures, the log holds 5")


def test_entries_dropped_after_an_earlier_check_is_a_fork(site, tmp_path):
    audit(site, tmp_path)
    old_size = len(site.writer.entries)
    entries = list(site.writer.entries)
    del entries[7:13]  # the whole work_email batch: the rest still adds up
    site.rewrite(entries)
    site.batch(site.petitions[0], "flyer", new=9)
    assert len(site.writer.entries) > old_size
    fails(
        site,
        tmp_path,
        rf"^fork: the first {old_size} entries no longer hash to the root verified on ",
    )


def _withdrawal_index(site):
    return next(i for i, e in enumerate(site.writer.entries) if e[1] == E.KIND_WITHDRAWAL)


def test_withdrawal_flipped_in_the_bundle_only(site, tmp_path):
    i = _withdrawal_index(site)
    entry = site.writer.entries[i]
    flipped = entry[:1] + bytes([E.KIND_SIGNATURE]) + entry[2:]
    path = f"/log/tile/entries/000.p/{len(site.writer.entries)}"
    site.files[path] = site.files[path].replace(entry, flipped)
    fails(site, tmp_path, rf"tile mismatch: entry {i} does not hash to hash {i} of tile/0/000.p/")


def test_withdrawal_flipped_and_the_log_re_signed(site, tmp_path):
    audit(site, tmp_path)
    entries = list(site.writer.entries)
    i = _withdrawal_index(site)
    # The operator turns the withdrawal into a withdrawal of another signature.
    withdrawn = {E.decode(e).nullifier for e in entries if e[1] == E.KIND_WITHDRAWAL}
    other = next(
        E.decode(e)
        for e in entries
        if e[1] == E.KIND_SIGNATURE
        and e[18] == entries[i][18]
        and E.decode(e).nullifier not in withdrawn
    )
    entries[i] = E.encode(E.WithdrawalEntry(other.petition_id, other.level, other.nullifier))
    site.rewrite(entries)
    fails(site, tmp_path, r"fork: a different root for size")


def test_tile_edited_together_with_its_bundle(site, tmp_path):
    entries = list(site.writer.entries)
    n = len(entries)
    # The last summary claims more codes made: every rule between entries still holds.
    entries[-1] = E.encode(dataclasses.replace(E.decode(entries[-1]), codes_made=5000))

    site.files[f"/log/tile/entries/000.p/{n}"] = encode_bundle(entries)
    site.files[f"/log/tile/0/000.p/{n}"] = b"".join(leaf_hash(e) for e in entries)
    fails(site, tmp_path, r"tile mismatch: the entries do not hash to the checkpoint's root")


def test_forked_checkpoint_for_a_size_already_seen(site, tmp_path):
    audit(site, tmp_path)
    entries = list(site.writer.entries)
    entries[-1] = entries[-1][:-1] + b"\x07"  # keys_invalidated of the last summary
    site.rewrite(entries)
    fails(site, tmp_path, r"^fork: a different root for size \d+ than verified before$")


def test_size_went_down(site, tmp_path):
    audit(site, tmp_path)
    n = len(site.writer.entries)
    site.rewrite(site.writer.entries[: n - 3])
    fails(site, tmp_path, rf"^size went down: {n} entries verified before, now {n - 3}$")


def test_bad_rsa_signature_in_a_consistent_log(site, tmp_path):
    entries = list(site.writer.entries)
    s = E.decode(entries[0])
    entries[0] = E.encode(
        E.SignatureEntry(
            s.petition_id, s.level, s.key_id, s.nullifier, s.prepared_msg, s.sig[:-1] + b"\0"
        )
    )
    site.rewrite(entries)
    fails(site, tmp_path, r"^entry 0: bad RSA blind signature$")


def test_count_mismatch_with_the_api(site, tmp_path):
    path = "/api/v1/petitions/union-now"
    data = json.loads(site.files[path])
    data["counts"]["flyer"] += 1
    site.files[path] = json.dumps(data).encode()
    fails(
        site,
        tmp_path,
        r"^count mismatch: petition union-now flyer: the API says 9, the log gives 8$",
    )


def test_invalidated_key_counts_zero(site, tmp_path):
    pet = site.petitions[0]
    pet.invalidated.add("flyer")
    site.batch(pet, "flyer", new=5)
    lines = audit(site, tmp_path)
    assert any("flyer 0 (" in line and "INVALIDATED" in line for line in lines)
    data = json.loads(site.files["/api/v1/petitions/union-now"])
    data["counts"]["flyer"] = 13
    site.files["/api/v1/petitions/union-now"] = json.dumps(data).encode()
    fails(
        site,
        tmp_path,
        r"count mismatch: petition union-now flyer: the API says 13, the log gives 0",
    )


def test_more_signatures_than_credentials(tmp_path):
    s = Site()
    try:
        pet = Petition("minted", levels=("flyer",))
        s.petitions.append(pet)
        s.batch(pet, "flyer", new=6, issued_extra=-5)
        fails(s, tmp_path, r"^petition minted flyer: 6 signatures but only 1 credentials issued$")
        # Once the key is invalidated its signatures do not count, and nothing is claimed.
        pet.invalidated.add("flyer")
        s.batch(pet, "flyer", new=1)
        assert audit(s, tmp_path)[0].startswith("OK")
    finally:
        s.close()


def test_log_key_changed_after_first_use(site, tmp_path):
    audit(site, tmp_path)
    site.signer = Signer.generate(site.origin)
    site.rewrite(list(site.writer.entries))
    fails(site, tmp_path, r"publishes another log key")


def test_witness_quorum(site, tmp_path):
    w1 = Signer.generate("w1.example", TYPE_COSIGNATURE_V1)
    w2 = Signer.generate("w2.example", TYPE_COSIGNATURE_V1)
    site.cosigners = [w1]
    site.batch(site.petitions[0], "work_email", new=2)
    lines = audit(site, tmp_path, witnesses=[w1.verifier.vkey])
    assert "1 witness cosignature(s) (quorum 1)" in lines[0]
    fails(
        site,
        tmp_path,
        r"only 1 of the 2 witness cosignatures needed",
        witnesses=[w1.verifier.vkey, w2.verifier.vkey],
    )
    assert audit(site, tmp_path, witnesses=[w1.verifier.vkey, w2.verifier.vkey], quorum=1)[
        0
    ].startswith("OK")


def test_cli_prints_one_line_and_exit_status(site, tmp_path, capsys):
    state = str(tmp_path / "s.json")
    assert main(["check", site.url, "--state", state]) == 0
    site.files["/log/checkpoint"] = site.files["/log/checkpoint"].replace(b"\n\n", b"\n\nX", 1)
    assert main(["check", site.url, "--state", state]) == 1
    out = capsys.readouterr().out.strip().splitlines()
    assert out[-1].startswith("FAILED: bad checkpoint")
    assert main(["check", "http://127.0.0.1:9", "--state", state, "--timeout", "2"]) == 3
    assert capsys.readouterr().out.startswith("COULD NOT CHECK:")


def test_missing_tile_is_a_gap(site, tmp_path):
    del site.files[f"/log/tile/0/000.p/{len(site.writer.entries)}"]
    fails(site, tmp_path, r"^gap: /log/tile/0/000.p/\d+ is missing$")


def test_a_listed_petition_without_keys_fails(site, tmp_path):
    del site.files["/api/v1/petitions/union-now/keys"]
    fails(site, tmp_path, r"^/api/v1/petitions/union-now/keys answers 404 Not Found$")


def test_an_oversized_answer_stops_the_check(site, tmp_path):
    site.files["/log/checkpoint"] = b"x" * (MAX_CHECKPOINT + 1)
    with pytest.raises(FetchError, match="answer larger than 65536 bytes"):
        audit(site, tmp_path)
