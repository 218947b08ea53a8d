"""Helpers for the flyer tests: read a PDF's pages and decode its QR codes the way a phone
would, from pixels (pdftoppm renders, zbarimg decodes)."""

from __future__ import annotations

import re
import subprocess
import tempfile
from collections import Counter
from html import unescape
from pathlib import Path

from pypdf import PdfReader

PAGE_POINTS = {"letter": (612.0, 792.0), "a4": (595.28, 841.89)}


def page_sizes(pdf: Path | bytes) -> list[tuple[float, float]]:
    import io

    reader = PdfReader(io.BytesIO(pdf) if isinstance(pdf, bytes) else pdf)
    return [(float(p.mediabox.width), float(p.mediabox.height)) for p in reader.pages]


def pdf_text(pdf: bytes) -> str:
    """The printed text with every space and line break removed (lines wrap anywhere)."""
    import io

    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)
    return "".join(text.split())


def decode_qr_codes(pdf: Path | bytes, dpis: tuple[int, ...] = (300, 450)) -> list[str]:
    """Every QR code on every page, decoded from rasters of the page. Like a phone taking
    several frames, each page is read at a few resolutions and each URL counted as often as
    the best frame saw it (zbar misses the odd code at one particular scale)."""
    with tempfile.TemporaryDirectory() as tmp:
        source = Path(tmp) / "in.pdf"
        source.write_bytes(pdf if isinstance(pdf, bytes) else Path(pdf).read_bytes())
        pages: dict[str, Counter] = {}
        for dpi in dpis:
            subprocess.run(
                ["pdftoppm", "-r", str(dpi), "-gray", "-png", str(source), f"{tmp}/p{dpi}"],
                check=True,
                timeout=120,
            )
            for image in sorted(Path(tmp).glob(f"p{dpi}-*.png")):
                result = subprocess.run(
                    ["zbarimg", "-q", "--raw", "-Sdisable", "-Sqrcode.enable", str(image)],
                    capture_output=True,
                    text=True,
                    timeout=120,
                )
                seen = Counter(line for line in result.stdout.splitlines() if line)
                page = pages.setdefault(image.name.split("-", 1)[1], Counter())
                for url, count in seen.items():
                    page[url] = max(page[url], count)
                image.unlink()
    return [url for page in pages.values() for url in page.elements()]


def page_pixels(pdf: Path, dpi: int = 150) -> tuple[int, int, bytes]:
    """The first page in grey levels (0 black, 255 white): width, height, one byte a pixel."""
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run(
            [
                "pdftoppm",
                "-r",
                str(dpi),
                "-gray",
                "-singlefile",
                "-f",
                "1",
                "-l",
                "1",
                str(pdf),
                f"{tmp}/page",
            ],
            check=True,
            timeout=120,
        )
        data = Path(f"{tmp}/page.pgm").read_bytes()
    # Binary PGM: "P5", width, height, maximum value, one whitespace, then the pixels.
    header = re.match(rb"P5\s+(\d+)\s+(\d+)\s+255\s", data)
    assert header, data[:20]
    return int(header[1]), int(header[2]), data[header.end() :]


def word_boxes(pdf: Path) -> list[tuple[str, float, float, float, float]]:
    """Every word of the first page with its box in points (x0, y0, x1, y1, y downwards)."""
    html = subprocess.run(
        ["pdftotext", "-bbox", "-f", "1", "-l", "1", str(pdf), "-"],
        check=True,
        capture_output=True,
        text=True,
        timeout=60,
    ).stdout
    pattern = r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">([^<]*)<'
    return [
        (unescape(text), float(x0), float(y0), float(x1), float(y1))
        for x0, y0, x1, y1, text in re.findall(pattern, html)
    ]
