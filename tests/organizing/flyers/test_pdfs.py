"""Every design in both paper sizes: exact page size and count, and QR codes that decode
from pixels to the expected URLs; tear-off and card codes redeem exactly once."""

from __future__ import annotations

import json
import re
from io import StringIO

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command

from organizing.models import FlyerBatch
from petition.codes import code_hash
from petition.keys import key_id_prefix
from petition.models import SigningCode
from petition.tlog.services import log_identity
from tests.signing_client import b64, start

from .helpers import PAGE_POINTS, decode_qr_codes, page_sizes, pdf_text

pytestmark = pytest.mark.django_db

# copies -> pages: each design fills its sheets and starts a new one when full.
CASES = {
    "poster": (2, 2),
    "halves": (3, 2),
    "tearoff": (2, 2),
    "stickers": (12, 2),
    "cards": (11, 2),
}


def make(petition, tmp_path, design, paper, copies, batch="Lobby, 2nd floor"):
    out = tmp_path / f"{design}-{paper}.pdf"
    args = [petition.slug, "--design", design, "--paper", paper, "--copies", str(copies)]
    if batch:
        args += ["--batch", batch]
    call_command("flyers", *args, "-o", str(out), stdout=StringIO())
    return out


# Flyers on one sheet of each design.
PER_SHEET = {"poster": 1, "halves": 2, "tearoff": 1, "stickers": 10, "cards": 10}


def redeem(client, petition, level, code):
    pending = start(client, petition, level)
    return client.post(
        f"/api/v1/petitions/{petition.slug}/credentials",
        json.dumps({"level": level, "blinded_msg": b64(pending.blinded), "code": code}),
        content_type="application/json",
    )


@pytest.mark.parametrize("paper", ["letter", "a4"])
@pytest.mark.parametrize("design", list(CASES))
def test_each_design_prints_exact_pages_whose_qr_codes_decode(
    client, open_petition, tmp_path, design, paper
):
    copies, pages = CASES[design]
    out = make(open_petition, tmp_path, design, paper, copies)

    sizes = page_sizes(out)
    assert len(sizes) == pages
    for width, height in sizes:
        assert width == pytest.approx(PAGE_POINTS[paper][0], abs=0.5)
        assert height == pytest.approx(PAGE_POINTS[paper][1], abs=0.5)

    batch = FlyerBatch.objects.get()
    target = f"{settings.COUNTERSIGN_BASE_URL.rstrip('/')}/f/{batch.code}"
    decoded = decode_qr_codes(out)
    plain = [url for url in decoded if "#" not in url]
    coded = [url for url in decoded if "#" in url]
    if design in ("poster", "halves", "stickers"):
        assert decoded == [target] * copies
    elif design == "tearoff":
        assert plain == [target] * pages  # the poster's own code, once per sheet
    else:
        assert plain == []

    if design in ("tearoff", "cards"):
        level = "flyer" if design == "tearoff" else "in_person"
        prefix = key_id_prefix(bytes(open_petition.keys.get(level=level).key_id))
        # The fragment names the level whose key starts with the prefix, so the
        # browser client can refuse any other key.
        fragment = rf"#code=([0-9A-Z]{{10}})&level={level}&k={re.escape(prefix)}"
        pattern = re.compile(re.escape(target) + fragment)
        codes = [pattern.fullmatch(url).group(1) for url in coded]
        expected = copies * 10 if design == "tearoff" else copies
        assert len(set(codes)) == len(codes) == expected
        stored = set(
            SigningCode.objects.filter(batch__level=level).values_list("code_hash", flat=True)
        )
        assert {code_hash(c) for c in codes} == {bytes(h) for h in stored}
        # Each printed code gives exactly one credential.
        for code in codes[:3] if paper == "a4" else codes:
            assert redeem(client, open_petition, level, code).status_code == 200
            assert redeem(client, open_petition, level, code).status_code == 409


def test_without_a_batch_the_codes_lead_straight_to_the_petition(open_petition, tmp_path):
    out = make(open_petition, tmp_path, "poster", "a4", 1, batch="")
    assert decode_qr_codes(out) == [
        settings.COUNTERSIGN_BASE_URL.rstrip("/") + open_petition.get_absolute_url()
    ]
    assert not FlyerBatch.objects.exists()


def test_flyers_help_lists_the_designs_as_choices(capsys):
    with pytest.raises(SystemExit):
        call_command("flyers", "--help")
    out = capsys.readouterr().out
    assert "{poster,halves,tearoff,stickers,cards}" in out and "{letter,a4}" in out


@pytest.mark.parametrize(
    "args, message",
    [
        (["--design", "tearoff", "--copies", "501"], "500 sheets"),
        (["--design", "poster", "--copies", "0"], "between 1 and 5000"),
        (["--design", "poster", "--accent", "#ffff00"], "too light"),
    ],
)
def test_flyers_command_refuses_bad_options_and_makes_nothing(
    open_petition, tmp_path, args, message
):
    with pytest.raises(CommandError, match=message):
        call_command("flyers", open_petition.slug, *args, "-o", str(tmp_path / "x.pdf"))
    assert not SigningCode.objects.exists() and not FlyerBatch.objects.exists()
    assert not (tmp_path / "x.pdf").exists()


def test_tear_off_tabs_need_a_petition_that_takes_flyer_codes(draft_petition, tmp_path):
    from petition.services import petition_publish

    petition = petition_publish(petition=draft_petition)  # in-person codes only
    with pytest.raises(CommandError, match="does not take"):
        call_command("flyers", petition.slug, "--design", "tearoff", "-o", str(tmp_path / "x.pdf"))
    assert not SigningCode.objects.exists()


@pytest.mark.parametrize("design", list(PER_SHEET))
def test_every_flyer_of_every_design_prints_the_log_verifier_key(open_petition, tmp_path, design):
    """Issue 16: the log's verifier key is on printed matter, whole (not only its id), so a
    reader can compare it with the key on the audit page; once on each flyer of a sheet."""
    out = make(open_petition, tmp_path, design, "a4", PER_SHEET[design])
    vkey = log_identity()["vkey"]
    assert pdf_text(out.read_bytes()).count(vkey) == PER_SHEET[design]
    assert len(page_sizes(out)) == 1  # the key's box did not push anything onto a page
