"""Posters that work on a wall (review O7, O8): type large enough to read across a corridor,
no empty stretch on the page, who is behind the petition and until when, and tear-off tabs
that say what they are and use their whole height. Read back from the PDF the way a reader
would see it: words and their boxes (pdftotext), pixels (pdftoppm), QR codes (zbarimg)."""

from __future__ import annotations

import datetime
import re
from io import StringIO

import pytest
from django.core.management import call_command

from .helpers import PAGE_POINTS, decode_qr_codes, page_pixels, pdf_text, word_boxes

pytestmark = pytest.mark.django_db

POINTS_PER_MM = 72 / 25.4
DPI = 100
MM = DPI / 25.4
HEADLINE = "Ask us before AI tools watch our work"
SUMMARY = "No new AI monitoring or “productivity scoring” tools without asking the staff first."
BODY = "Acme plans to roll out AI tools that score how fast we type. We want a say first."


def make(petition, tmp_path, design, paper="letter", copies=1, **text):
    out = tmp_path / f"{design}-{paper}.pdf"
    args = [petition.slug, "--design", design, "--paper", paper, "--copies", str(copies)]
    for name, value in text.items():
        args += [f"--{name.replace('_', '-')}", value]
    call_command("flyers", *args, "-o", str(out), stdout=StringIO())
    return out


@pytest.fixture
def wall_petition(open_petition):
    open_petition.title = HEADLINE
    open_petition.summary = SUMMARY
    open_petition.deadline = datetime.date(2027, 3, 31)
    open_petition.save()
    open_petition.campaign.name = "Warehouse & Office Staff for Fair AI"
    open_petition.campaign.save()
    return open_petition


def words_between(words, top_pt, bottom_pt):
    return [w for w in words if top_pt <= w[2] and w[4] <= bottom_pt]


def box_height(word) -> float:
    return word[4] - word[2]


@pytest.mark.parametrize("paper", ["letter", "a4"])
def test_a_poster_prints_its_headline_and_text_large(wall_petition, tmp_path, paper):
    pdf = make(wall_petition, tmp_path, "poster", paper, body=BODY)
    words = word_boxes(pdf)
    band_bottom = 0.36 * PAGE_POINTS[paper][1]
    headline = [w for w in words if w[4] < band_bottom and box_height(w) > 30]
    assert [w[0] for w in headline] == HEADLINE.split()
    body = [w for w in words if w[0] in ("roll", "score", "type.")]
    # A box is the font's ascent plus descent: about 1.16 times the type size (DejaVu).
    assert min(box_height(w) for w in headline) / 1.16 >= 44, headline
    assert min(box_height(w) for w in body) / 1.16 >= 14.5, body
    cta = [w for w in words if w[0] in ("anonymously.",)]
    assert cta and box_height(cta[0]) / 1.16 >= 20


def test_a_poster_says_who_is_behind_it_and_until_when(wall_petition, tmp_path):
    text = pdf_text(make(wall_petition, tmp_path, "poster").read_bytes())
    assert "OrganizedbyWarehouse&OfficeStaffforFairAI" in text
    assert "SignbyMarch31,2027" in text


def test_the_lines_for_organizer_and_deadline_can_be_changed_or_left_out(wall_petition, tmp_path):
    pdf = make(wall_petition, tmp_path, "poster", organized_by="The night shift", deadline_line="")
    text = pdf_text(pdf.read_bytes())
    assert "Thenightshift" in text and "Signby" not in text and "Warehouse" not in text


def blank_stretches_mm(pdf, top_fraction: float, bottom_fraction: float) -> list[float]:
    """The heights of the runs of rows with no ink (between the given fractions of the
    page height), in millimetres."""
    width, height, pixels = page_pixels(pdf, DPI)
    stretches, run = [], 0
    for y in range(int(top_fraction * height), int(bottom_fraction * height)):
        row = pixels[y * width : (y + 1) * width]
        if min(row) > 200:  # paper only
            run += 1
        else:
            if run:
                stretches.append(run / MM)
            run = 0
    if run:
        stretches.append(run / MM)
    return stretches


@pytest.mark.parametrize("body", [BODY, ""])
@pytest.mark.parametrize("paper", ["letter", "a4"])
def test_a_poster_leaves_no_empty_stretch_below_its_band(wall_petition, tmp_path, paper, body):
    """The review measured a band half empty and a wide gap above the QR code. Below the
    band, no run of blank rows may be taller than 25 mm (the QR code's own white margin
    included), with or without a body text."""
    pdf = make(wall_petition, tmp_path, "poster", paper, body=body)
    stretches = blank_stretches_mm(pdf, 0.36, 1.0)
    assert max(stretches) < 25, stretches
    assert "Sign" in pdf_text(pdf.read_bytes())  # the poster is there at all


def test_the_headline_is_centred_in_the_band_and_fills_it(wall_petition, tmp_path):
    pdf = make(wall_petition, tmp_path, "poster", "letter")
    words = word_boxes(pdf)
    band_bottom = 0.36 * PAGE_POINTS["letter"][1]
    in_band = [w for w in words if w[4] <= band_bottom]
    top, bottom = min(w[2] for w in in_band), max(w[4] for w in in_band)
    # Text from the top to the bottom of the band, with margins of similar size.
    assert bottom - top > 0.55 * band_bottom
    assert abs(top - (band_bottom - bottom)) < 12 * POINTS_PER_MM


def tab_columns(pdf, paper):
    width, height = PAGE_POINTS[paper]
    tabs_top = 0.71 * height + 5 * POINTS_PER_MM
    columns: list[list] = [[] for _ in range(10)]
    for word in word_boxes(pdf):
        if word[2] > tabs_top:
            columns[int((word[1] + word[3]) / 2 // (width / 10))].append(word)
    return columns


@pytest.mark.parametrize("paper", ["letter", "a4"])
def test_each_tear_off_tab_says_what_it_is_and_fills_its_height(wall_petition, tmp_path, paper):
    pdf = make(wall_petition, tmp_path, "tearoff", paper)
    page_height = PAGE_POINTS[paper][1]
    codes = {url.split("#code=")[1][:10] for url in decode_qr_codes(pdf) if "#code=" in url}
    assert len(codes) == 10
    found = set()
    for column in tab_columns(pdf, paper):
        text = " ".join(w[0] for w in sorted(column, key=lambda w: (round(w[2]), w[1])))
        assert re.search(r"Sign: scan, or type the address and this code", text), text
        assert "Ask us before AI tools" in text and "Sign by March 31, 2027" in text, text
        code = re.search(r"\b([0-9A-Z]{5}) ([0-9A-Z]{5})\b", text)
        found.add(code[1] + code[2])
        # The tab's text reaches its foot: no blank lower half (review O8).
        assert page_height - max(w[4] for w in column) < 8 * POINTS_PER_MM, text
        # The code is printed large enough to type from.
        assert min(box_height(w) for w in column if w[0] in code.groups()) / 1.16 >= 10
    assert found == codes  # each tab's printed code is the one its QR code carries
