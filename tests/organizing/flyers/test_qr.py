"""The vector QR symbol: its outline path covers exactly the dark modules, and the
error-correction level and version are what the designs promise."""

from __future__ import annotations

import re

import pytest

from organizing.flyers.designs import DESIGNS, code_url
from petition.qr import QUIET_ZONE, qr_matrix, qr_svg

TAB_URL = code_url("https://petition.example.org/f/k7q2m9", "K7Q2M-9XW4H", "AbCdEfGh", "flyer")


def filled(path: str, size: int) -> list[list[bool]]:
    """Which unit squares the path fills under the nonzero rule (winding of vertical edges
    to the left of each square's centre)."""
    edges = []
    for sub in re.findall(r"M[^M]*", path):
        x, y = map(int, re.match(r"M(-?\d+) (-?\d+)", sub).groups())
        points = [(x, y)]
        for op, value in re.findall(r"([hv])(-?\d+)", sub):
            x, y = (x + int(value), y) if op == "h" else (x, y + int(value))
            points.append((x, y))
        for (x1, y1), (x2, y2) in zip(points, points[1:] + points[:1], strict=True):
            if x1 == x2 and y1 != y2:
                edges.append((x1, min(y1, y2), max(y1, y2), 1 if y2 > y1 else -1))
    return [
        [sum(d for ex, y0, y1, d in edges if y0 <= yy < y1 and ex <= xx) != 0 for xx in range(size)]
        for yy in range(size)
    ]


@pytest.mark.parametrize("data", [TAB_URL, "https://petition.example.org/f/k7q2m9", "x"])
def test_the_outline_path_fills_exactly_the_dark_modules(data):
    matrix, _version = qr_matrix(data, "Q")
    path = re.search(r' d="([^"]+)"', qr_svg(data, "Q").svg).group(1)
    size = len(matrix) + 2 * QUIET_ZONE
    grid = filled(path, size)
    expected = [[False] * size for _ in range(size)]
    for y, row in enumerate(matrix):
        for x, dark in enumerate(row):
            expected[y + QUIET_ZONE][x + QUIET_ZONE] = dark
    assert grid == expected


def test_codes_use_quartile_and_flyers_high_error_correction():
    assert DESIGNS["tearoff"].code_ec == "Q" and DESIGNS["cards"].code_ec == "Q"
    assert all(design.main_ec == "H" for design in DESIGNS.values())
    assert qr_svg(TAB_URL, "Q").version == 7  # 76 characters, the typical tab
    assert qr_svg("https://petition.example.org/f/k7q2m9", "H").version == 5
