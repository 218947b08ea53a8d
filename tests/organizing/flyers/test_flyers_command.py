"""`manage.py flyers`: the designer's door for scripts. Every design works with its
defaults, a run goes through the same service (a PrintRun, audited), and every bad input
ends in one line, with nothing made."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from organizing.flyers.designs import DESIGNS
from organizing.flyers.services import INLINE_SHEETS
from organizing.models import AuditEntry, FlyerBatch, PrintRun
from petition.models import CODE_BATCH_MIN_SIZE, CodeBatch, SigningCode
from petition.services import petition_close

from .helpers import page_sizes

pytestmark = pytest.mark.django_db


def flyers(petition_slug: str, out, *args: str) -> str:
    stdout = StringIO()
    call_command("flyers", petition_slug, *args, "-o", str(out), stdout=stdout)
    return stdout.getvalue()


@pytest.mark.parametrize("design", list(DESIGNS))
def test_every_design_prints_with_its_defaults(open_petition, tmp_path, design):
    out = tmp_path / f"{design}.pdf"
    said = flyers(open_petition.slug, out, "--design", design)

    run = PrintRun.objects.get()
    assert run.status == PrintRun.Status.DONE and run.design == design
    assert len(page_sizes(out)) == run.pages_total == 1
    assert said.startswith(f"Wrote {out} (1 pages,")
    if DESIGNS[design].code_level:
        batch = CodeBatch.objects.get()
        assert batch.size >= CODE_BATCH_MIN_SIZE and run.code_batch == batch
        assert SigningCode.objects.filter(batch=batch).count() == batch.size
    else:
        assert not CodeBatch.objects.exists()
    assert AuditEntry.objects.filter(action="code_batch_create").count() == (
        1 if DESIGNS[design].code_level else 0
    )


def test_a_long_run_is_made_by_the_command_itself_without_a_worker(open_petition, tmp_path):
    # Beyond INLINE_SHEETS the designer hands a run to the worker after commit; the test's
    # transaction never commits, so only a command that renders by itself gets a file.
    copies = INLINE_SHEETS + 1
    out = tmp_path / "posters.pdf"
    flyers(open_petition.slug, out, "--design", "poster", "--copies", str(copies))
    assert PrintRun.objects.get().status == PrintRun.Status.DONE
    assert len(page_sizes(out)) == copies


def test_a_flyer_batch_label_makes_a_batch_whose_codes_count_scans(open_petition, tmp_path):
    said = flyers(open_petition.slug, tmp_path / "x.pdf", "--design", "halves", "--batch", "Lobby")
    batch = FlyerBatch.objects.get()
    assert PrintRun.objects.get().flyer_batch == batch and batch.label == "Lobby"
    assert f"/f/{batch.code}" in said


@pytest.mark.parametrize(
    "args, message",
    [
        (["--design", "poster", "--copies", "0"], "--copies: Make between 1 and 5000 copies."),
        (["--design", "poster", "--copies", "5001"], "--copies: Make between 1 and 5000"),
        (["--design", "tearoff", "--copies", "501"], "--copies: That is more than 500 sheets"),
        (["--design", "cards", "--copies", "3"], "--copies: "),  # under the code-batch minimum
        (["--design", "poster", "--headline", "pay \u202egnivom"], "--headline: Remove the invis"),
        (["--design", "poster", "--body", "raise \U0001f4aa"], "--body: These characters cannot"),
        (["--design", "poster", "--call-to-action", "签名"], "--call-to-action: These characters"),
        (["--design", "poster", "--accent", "#ffff00"], "--accent: This colour is too light"),
        (["--design", "poster", "--accent", "red"], "--accent: Pick a colour"),
        (["--design", "poster", "--language", "zh"], "--language: Flyers can be printed in"),
    ],
)
def test_bad_options_end_in_one_line_and_make_nothing(open_petition, tmp_path, args, message):
    out = tmp_path / "x.pdf"
    with pytest.raises(CommandError) as refused:
        flyers(open_petition.slug, out, *args)
    assert str(refused.value).startswith(message)
    assert "\n" not in str(refused.value)
    assert not PrintRun.objects.exists() and not SigningCode.objects.exists()
    assert not FlyerBatch.objects.exists() and not out.exists()


def test_an_unknown_petition_is_one_line(db, tmp_path):
    with pytest.raises(CommandError, match=r"^No petition with the short name 'nope'\.$"):
        flyers("nope", tmp_path / "x.pdf", "--design", "poster")
    assert not (tmp_path / "x.pdf").exists()


def test_a_closed_petition_gets_no_flyers(open_petition, tmp_path):
    petition_close(petition=open_petition)
    with pytest.raises(CommandError, match=r"^Flyers and codes can be made only while the pet"):
        flyers(open_petition.slug, tmp_path / "x.pdf", "--design", "tearoff")
    assert not PrintRun.objects.exists() and not SigningCode.objects.exists()


def test_an_unwritable_output_is_one_line_and_costs_no_codes(open_petition, tmp_path):
    out = tmp_path / "no-such-folder" / "x.pdf"
    with pytest.raises(CommandError) as refused:
        flyers(open_petition.slug, out, "--design", "cards")
    assert str(refused.value) == f"Cannot write {out}: No such file or directory."
    assert not PrintRun.objects.exists() and not SigningCode.objects.exists()
