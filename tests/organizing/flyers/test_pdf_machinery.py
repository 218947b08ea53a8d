"""The reusable PDF machinery (organizing/flyers/pdf.py, pdfjoin.py): shipped fonts, nothing
fetched from anywhere else, overlays drawn where the layout put them, chunks joined into one
valid PDF in flat memory."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import warnings
from pathlib import Path

import pytest
from pypdf import PdfReader
from weasyprint.urls import FatalURLFetchingError

from organizing.flyers.pdf import render_pdf, render_pdf_chunked
from organizing.flyers.rendering import qr_overlay
from petition.qr import qr_svg

from .helpers import decode_qr_codes, page_sizes, pdf_text


def test_it_prints_with_the_fonts_shipped_in_static():
    pdf = render_pdf('<p class="print-document">Bonjour, collègues</p>')
    assert len(page_sizes(pdf)) == 1
    assert "Bonjour,collègues" in pdf_text(pdf)
    reader = PdfReader(io.BytesIO(pdf))
    fonts = reader.pages[0]["/Resources"]["/Font"].values()
    names = {str(font.get_object()["/BaseFont"]).split("+", 1)[1] for font in fonts}
    assert names == {"Countersign-Sans"}  # the @font-face of static/css/print.css


@pytest.mark.parametrize(
    "html",
    [
        '<img src="https://tracker.example.org/pixel.png">',
        '<img src="file:///etc/passwd">',
        '<link rel="stylesheet" href="https://fonts.example.org/font.css">',
    ],
)
def test_it_refuses_to_load_anything_but_our_static_files(html):
    with pytest.raises(FatalURLFetchingError):
        render_pdf(html)


def test_an_overlay_draws_a_qr_code_into_the_box_of_its_link():
    url = "https://petition.example.org/f/k7q2m9"
    html = f'<a href="{url}" style="display:block;width:40mm;height:40mm;margin:20mm"></a>'
    pdf = render_pdf(html, page_overlay=qr_overlay({url: qr_svg(url, "H")}))
    assert decode_qr_codes(pdf) == [url]
    assert decode_qr_codes(render_pdf(html)) == []  # the link alone draws nothing


# --- joining chunks: a valid PDF, written as it goes, in flat memory ------------------------

ROOT = Path(__file__).resolve().parents[3]


class WriteOnly:
    """An output that can only be written to, like a pipe: no tell(), no seek()."""

    def __init__(self):
        self.parts: list[bytes] = []

    def write(self, data) -> int:
        self.parts.append(bytes(data))
        return len(data)


def chunked_pdf(out, urls_per_chunk: list[list[str]]) -> int:
    symbols = {url: qr_svg(url, "H") for urls in urls_per_chunk for url in urls}
    chunks = [
        '<html lang="fr"><title>Affiche</title>'
        + "".join(
            f'<a href="{url}" style="display:block;width:40mm;height:40mm;margin:20mm;'
            f'break-after:page"></a>'
            for url in urls
        )
        + "</html>"
        for urls in urls_per_chunk
    ]
    return render_pdf_chunked(chunks, out, page_overlay=qr_overlay(symbols))


def test_chunks_join_into_one_valid_pdf_whose_overlays_decode(caplog, tmp_path):
    urls = [[f"https://petition.example.org/f/k7q2m{c}{p}" for p in range(2)] for c in range(3)]
    out = WriteOnly()
    assert chunked_pdf(out, urls) == 6
    pdf = b"".join(out.parts)
    assert sorted(decode_qr_codes(pdf)) == sorted(u for chunk in urls for u in chunk)
    # pypdf in strict mode: any repair it would have to make is an error or a warning.
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        reader = PdfReader(io.BytesIO(pdf), strict=True)
        assert len(reader.pages) == 6
        assert {p.get_object()["/Parent"].indirect_reference for p in reader.pages} == {
            reader.trailer["/Root"].raw_get("/Pages")
        }
        assert reader.trailer["/Root"]["/Pages"]["/Count"] == 6
        assert reader.trailer["/Root"]["/Lang"] == "fr"
        assert reader.metadata.title == "Affiche"
        for page in reader.pages:
            page.get_contents().get_data()  # every content stream decodes
    assert not [r for r in caplog.records if r.name.startswith("pypdf")]
    assert page_sizes(pdf) == [pytest.approx((595.28, 841.89), abs=0.01)] * 6
    path = tmp_path / "joined.pdf"
    path.write_bytes(pdf)
    check = subprocess.run(["qpdf", "--check", str(path)], capture_output=True, text=True)
    assert check.returncode == 0, check.stdout + check.stderr
    assert "No syntax or stream encoding errors" in check.stdout
    assert "WARNING" not in check.stdout + check.stderr


def test_joining_keeps_no_page_in_memory():
    """Peak memory (a child process's ru_maxrss) after 150 pages and after 750: pypdf's
    PdfWriter, which held the joined pages until the end, grew by 48 MiB here; this joiner by 2."""
    result = subprocess.run(
        [sys.executable, "-m", "tests.organizing.flyers.pdf_join_memory", "6"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.base"},
    )
    assert result.returncode == 0, result.stderr
    measured = json.loads(result.stdout.strip().splitlines()[-1])
    assert measured["pages"] == 750
    growth = measured["peak_mib_all"] - measured["peak_mib_first"]
    # 600 more pages of 3.6 KB each would be 2 MiB of PDF alone, several times that as
    # pypdf objects; what stays is one integer per object and page.
    assert growth < 15, measured
