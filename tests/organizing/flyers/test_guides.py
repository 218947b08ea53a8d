"""Cut and tear guides print where the scissors go: the dashed line between half-page flyers
runs on white paper (not hidden by the colour band below it), and the text on a tear-off tab
stays clear of the tear lines."""

from __future__ import annotations

import pytest

from .helpers import PAGE_POINTS, page_pixels, word_boxes
from .test_pdfs import make

pytestmark = pytest.mark.django_db

DPI = 150
MM = DPI / 25.4  # pixels per millimetre
POINTS_PER_MM = 72 / 25.4


def runs(values: list[bool]) -> int:
    """How many runs of True values."""
    return sum(1 for i, v in enumerate(values) if v and (i == 0 or not values[i - 1]))


@pytest.mark.parametrize("paper", ["letter", "a4"])
def test_the_cut_line_between_half_page_flyers_is_dashed_on_white(open_petition, tmp_path, paper):
    width, height, pixels = page_pixels(make(open_petition, tmp_path, "halves", paper, 2, ""), DPI)

    def row(y: int) -> bytes:
        # The middle 90 %: the line's dashes, without the page's edges.
        return pixels[y * width + width // 20 : y * width + width - width // 20]

    def dark_runs(y: int) -> int:
        return runs([value < 170 for value in row(y)])

    def paper_share(y: int) -> float:
        return sum(value > 225 for value in row(y)) / len(row(y))

    middle = height // 2
    window = range(middle - round(2 * MM), middle + round(2 * MM))
    cut = max(window, key=dark_runs)
    # A dashed line: many dashes, with the paper (not a band's colour) between them.
    assert dark_runs(cut) >= 40, (cut, dark_runs(cut), paper_share(cut))
    assert 0.25 < paper_share(cut) < 0.75, paper_share(cut)
    # White on both sides, so the line stands out and cutting a little off it shows no band.
    for offset in (-2, 2):
        y = cut + round(offset * MM)
        assert paper_share(y) > 0.98, (offset, paper_share(y))


@pytest.mark.parametrize("paper", ["letter", "a4"])
def test_tear_off_tab_text_keeps_clear_of_the_tear_lines(open_petition, tmp_path, settings, paper):
    # A host of typical length (the test default, testserver, is short enough to hide it).
    settings.COUNTERSIGN_BASE_URL = "https://petition.example.org"
    pdf = make(open_petition, tmp_path, "tearoff", paper, 1)
    page_width, page_height = PAGE_POINTS[paper]
    tab = page_width / 10  # ten tabs side by side, tear lines between them
    # The tabs start at 71 % of the page; their text comes 10 mm further down (under the QR).
    tabs_top = 0.71 * page_height + 10 * POINTS_PER_MM
    on_tabs = [word for word in word_boxes(pdf) if word[2] > tabs_top]
    assert len(on_tabs) >= 40  # two code halves and two URL lines on each of ten tabs
    clearance = 0.8 * POINTS_PER_MM
    for text, x0, _y0, x1, _y1 in on_tabs:
        column = int((x0 + x1) / 2 // tab)
        assert x0 - column * tab > clearance, (text, x0, column)
        assert (column + 1) * tab - x1 > clearance, (text, x1, column)
