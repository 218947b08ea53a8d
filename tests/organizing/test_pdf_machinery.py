"""The reusable PDF machinery (organizing/flyers/pdf.py): shipped fonts, nothing fetched
from anywhere else, overlays drawn where the layout put them."""

from __future__ import annotations

import io

import pytest
from pypdf import PdfReader
from weasyprint.urls import FatalURLFetchingError

from organizing.flyers.pdf import render_pdf

from .flyer_helpers import decode_qr_codes, page_sizes, pdf_text


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
    from organizing.flyers.qr import qr_svg
    from organizing.flyers.rendering import qr_overlay

    url = "https://petition.example.org/f/k7q2m9"
    html = f'<a href="{url}" style="display:block;width:40mm;height:40mm;margin:20mm"></a>'
    pdf = render_pdf(html, page_overlay=qr_overlay({url: qr_svg(url, "H")}))
    assert decode_qr_codes(pdf) == [url]
    assert decode_qr_codes(render_pdf(html)) == []  # the link alone draws nothing
