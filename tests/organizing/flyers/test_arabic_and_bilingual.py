"""Arabic on paper and flyers in two languages: every design laid out right to left in
Noto Naskh Arabic (embedded, shaped by HarfBuzz), codes and addresses kept left to right,
QR codes leading to the first language's page, and the fonts covering every shipped
translation (the system check names a character they lack)."""

from __future__ import annotations

import io
import re
import subprocess
from io import StringIO
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from django.urls import reverse
from fontTools.ttLib import TTFont
from pypdf import PdfReader

from organizing.flyers import checks
from organizing.flyers.glyphs import ARABIC_RANGES, unprintable
from organizing.flyers.pdf import render_pdf
from organizing.flyers.rendering import FlyerText, flyer_text_for, petition_target_url
from organizing.models import FlyerBatch, PrintRun
from petition.services import petition_close, petition_translation_create
from tests.factories import form_key

from .helpers import PAGE_POINTS, decode_qr_codes, page_sizes

pytestmark = pytest.mark.django_db

DESIGNS = ["poster", "halves", "tearoff", "stickers", "cards"]
# An Arabic headline: "Sign the petition now" (a shadda, a lam-alef, final and medial forms).
ARABIC_HEADLINE = "وقّع العريضة الآن"
ARABIC_LETTERS = re.compile(r"[\u0600-\u06ff]")
BIDI_CONTROLS = re.compile("[\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def make(petition, tmp_path: Path, design: str, *extra: str) -> Path:
    tmp_path.mkdir(parents=True, exist_ok=True)
    out = tmp_path / f"{design}.pdf"
    call_command(
        "flyers", petition.slug, "--design", design, *extra, "-o", str(out), stdout=StringIO()
    )
    return out


def pdftotext(pdf: Path, *options: str) -> str:
    """The page's text as poppler reads it (`-layout` keeps each line where it prints; the
    default follows each block, so side-by-side columns do not interleave)."""
    return subprocess.run(
        ["pdftotext", *(options or ["-layout"]), str(pdf), "-"],
        capture_output=True,
        text=True,
        timeout=60,
    ).stdout


def flat(text: str) -> str:
    """The text without spaces, line breaks and the bidi controls pdftotext adds."""
    return BIDI_CONTROLS.sub("", "".join(text.split()))


def embedded_fonts(pdf: Path) -> dict[str, bytes]:
    """Each embedded font program by its PDF name (without the subset tag)."""
    fonts = {}
    for page in PdfReader(pdf).pages:
        for font in page["/Resources"]["/Font"].values():
            font = font.get_object()
            for descendant in font.get("/DescendantFonts", []):
                descriptor = descendant.get_object()["/FontDescriptor"]
                program = descriptor.get("/FontFile2")
                if program is not None:
                    name = str(font["/BaseFont"]).split("+", 1)[-1]
                    fonts[name] = program.get_object().get_data()
    return fonts


def link_boxes(pdf: Path) -> list[tuple[float, float, float, float]]:
    """The link rectangles of the first page (each QR code is drawn on its link's box)."""
    page = PdfReader(pdf).pages[0]
    return [
        tuple(float(v) for v in annot.get_object()["/Rect"]) for annot in page.get("/Annots", [])
    ]


@pytest.mark.parametrize("design", DESIGNS)
def test_every_design_prints_arabic_in_the_embedded_noto_naskh(open_petition, tmp_path, design):
    pdf = make(open_petition, tmp_path, design, "--language", "ar", "--headline", ARABIC_HEADLINE)
    fonts = embedded_fonts(pdf)
    naskh = [name for name in fonts if "Naskh" in name]
    assert naskh, f"no Naskh font embedded in the {design}: {sorted(fonts)}"
    # The program itself is Noto Naskh Arabic (its name table), not a system font.
    program = TTFont(io.BytesIO(fonts[naskh[0]]))
    assert "Noto Naskh Arabic" in program["name"].getDebugName(1)
    listing = subprocess.run(["pdffonts", str(pdf)], capture_output=True, text=True).stdout
    assert re.search(r"Countersign-Naskh\S*\s+CID TrueType\s+Identity-H\s+yes", listing)
    text = pdftotext(pdf)
    assert len(ARABIC_LETTERS.findall(text)) > 20, text
    # The address reads back whole and left to right, inside the right-to-left text.
    assert f"127.0.0.1:8000/ar/p/{open_petition.slug}/" in flat(text)


def test_an_arabic_poster_is_shaped_mirrored_and_keeps_its_address_left_to_right(
    open_petition, tmp_path
):
    pdf = make(open_petition, tmp_path, "poster", "--language", "ar", "--headline", ARABIC_HEADLINE)
    text = pdftotext(pdf)
    # Noto Naskh draws a letter's dots as marks of their own, so text extraction maps
    # dotted letters to their neighbours and reads them back garbled; a word of undotted
    # letters reads back whole, in reading order.
    assert "امسح" in text, text  # the call to action, "Scan …"
    assert f"127.0.0.1:8000/ar/p/{open_petition.slug}/" in text
    # Mirrored: the QR code on the right half of the page (on the left in English).
    width = float(PdfReader(pdf).pages[0].mediabox.width)
    (x1, _y1, _x2, _y2), *_ = link_boxes(pdf)
    assert x1 > width / 2, (x1, width)
    english = make(open_petition, tmp_path / "en", "poster", "--language", "en")
    (_ex1, _ey1, ex2, _ey2), *_ = link_boxes(english)
    assert ex2 < width / 2


def test_arabic_tear_off_tabs_carry_codes_left_to_right_and_lead_to_the_arabic_page(
    open_petition, tmp_path
):
    pdf = make(open_petition, tmp_path, "tearoff", "--language", "ar", "--second-language", "en")
    text = pdftotext(pdf)
    run = PrintRun.objects.get()
    assert run.text["second_language"] == "en"
    urls = decode_qr_codes(pdf)
    page = f"{settings.COUNTERSIGN_BASE_URL}/ar/p/{open_petition.slug}/"
    assert urls.count(page) == 1  # the poster's own QR code
    tabs = [url for url in urls if url.startswith(page + "#code=")]
    assert len(tabs) == 10
    for url in tabs:
        code = url.split("#code=")[1].split("&")[0]
        first, second = code[:5], code[5:]
        # Each half of the code reads back as printed, not reversed by the Arabic around it.
        assert first in text and second in text
    # Both words for "code" on every tab, and the English lines under the Arabic ones.
    assert text.count("code ·") == 10 or text.count("· code") == 10, text
    assert "Scan to read the petition and sign it anonymously." in text


def test_arabic_is_shaped_by_harfbuzz_in_noto_naskh(tmp_path):
    """Three beh in a row take three shapes (initial, medial, final) when the text is
    shaped; unshaped, all three would be the one isolated glyph."""
    pdf = tmp_path / "beh.pdf"
    pdf.write_bytes(render_pdf('<html dir="rtl"><body class="print-document">ببب</body></html>'))
    (program,) = [data for name, data in embedded_fonts(pdf).items() if "Naskh" in name]
    font = TTFont(io.BytesIO(program))
    drawn = [name for name in font.getGlyphOrder() if name != ".notdef"]
    assert len(drawn) >= 3, drawn


def test_the_second_language_follows_the_first_on_every_design(open_petition, tmp_path):
    english = str(flyer_text_for(open_petition, "en").call_to_action)
    spanish = str(flyer_text_for(open_petition, "es").call_to_action)
    assert english != spanish
    for design in ["poster", "halves", "tearoff", "stickers"]:
        pdf = make(
            open_petition, tmp_path / design, design, "--language", "es", "--second-language", "en"
        )
        joined = " ".join(pdftotext(pdf, "-raw").split())
        assert spanish in joined and english in joined, design
        assert page_sizes(pdf) == [PAGE_POINTS["letter"]]  # not A4: sizes unlocalized
        spanish_page = f"{settings.COUNTERSIGN_BASE_URL}/es/p/{open_petition.slug}/"
        assert all(url.startswith(spanish_page) for url in decode_qr_codes(pdf, dpis=(300,)))


def test_each_language_of_a_flyer_prints_the_petition_written_in_it(open_petition, tmp_path):
    petition_translation_create(
        petition=open_petition,
        language="es",
        title="Calefacción en el almacén",
        summary="Pedimos calefacción antes del invierno.",
        demands="Calefacción en la nave 3.",
        addressed_to="La dirección",
    )
    text = flyer_text_for(open_petition, "es")
    assert (text.headline, text.subheadline) == (
        "Calefacción en el almacén",
        "Pedimos calefacción antes del invierno.",
    )
    # No translation into Arabic: the original, whole, never a mix of the two.
    arabic = flyer_text_for(open_petition, "ar")
    assert (arabic.headline, arabic.subheadline) == (open_petition.title, open_petition.summary)
    pdf = make(open_petition, tmp_path, "poster", "--language", "en", "--second-language", "es")
    joined = " ".join(pdftotext(pdf, "-raw").split())
    assert open_petition.title in joined
    assert "Calefacción en el almacén" in joined


def test_a_batch_of_arabic_flyers_counts_its_scans_and_leads_to_the_arabic_page(
    client, open_petition, tmp_path
):
    pdf = make(open_petition, tmp_path, "poster", "--language", "ar", "--batch", "Lobby")
    batch = FlyerBatch.objects.get()
    (url,) = decode_qr_codes(pdf, dpis=(300,))
    assert url == f"{settings.COUNTERSIGN_BASE_URL}/f/{batch.code}?l=ar"
    response = client.get(url.split(settings.COUNTERSIGN_BASE_URL)[1])
    assert response.status_code == 302
    assert response["Location"] == f"/ar/p/{open_petition.slug}/"
    assert batch.scan_days.get().scans == 1
    # English stays as printed before: unprefixed, no parameter.
    assert petition_target_url(open_petition, batch, "en").endswith(f"/f/{batch.code}")
    response = client.get(f"/f/{batch.code}?l=xx")  # a language we do not ship: ignored
    assert response["Location"] == f"/p/{open_petition.slug}/"


def test_the_designer_previews_both_languages_and_prints_them(client, organizer, open_petition):
    client.force_login(organizer)
    url = reverse("staff:flyers", kwargs={"slug": open_petition.slug})
    form = {
        "design": "tearoff",
        "paper": "a4",
        "copies": "1",
        "batch_label": "",
        "headline": ARABIC_HEADLINE,
        "call_to_action": "امسح الرمز ووقّع",
        "privacy_line": "بهاتفك الشخصي",
        "language": "ar",
        "second_language": "es",
        "accent": "#1f5f8b",
    }
    response = client.post(url, {"form_key": form_key(), **form, "action": "preview"})
    assert response.status_code == 200
    assert not PrintRun.objects.exists()  # the preview makes nothing
    html = response.content.decode()
    assert 'data-design="tearoff" lang="ar" dir="rtl"' in html
    assert str(flyer_text_for(open_petition, "es").call_to_action) in html
    assert "/ar/p/" in html  # the preview's QR codes lead where the PDF's will
    response = client.post(url, {"form_key": form_key(), **form})
    assert response.status_code == 302
    run = PrintRun.objects.get()
    assert FlyerText.from_dict(run.text).second_language == "es"
    # The same language twice is refused, with a form error.
    response = client.post(url, {"form_key": form_key(), **form, "second_language": "ar"})
    assert response.status_code == 400
    assert "second_language" in response.context["form"].errors
    assert PrintRun.objects.count() == 1


def test_an_arabic_delivery_pdf_reads_right_to_left_in_noto_naskh(
    client, organizer, open_petition, tmp_path
):
    petition_close(petition=open_petition)
    organizer.language = "ar"
    organizer.save(update_fields=["language"])
    client.force_login(organizer)
    url = reverse("staff:delivery", kwargs={"slug": open_petition.slug})
    response = client.get(url + "?format=pdf&paper=a4")
    assert response.status_code == 200
    pdf = tmp_path / "delivery.pdf"
    pdf.write_bytes(response.content)
    assert any("Naskh" in name for name in embedded_fonts(pdf))
    text = pdftotext(pdf)
    assert len(ARABIC_LETTERS.findall(text)) > 100
    for key in open_petition.keys.all():
        assert key.fingerprint in text  # left to right, whole, its groups in order
    # Right to left: the Arabic headings end at the right margin. pdftotext -bbox gives
    # each word's box; the lines that hold Arabic end further right than they start on
    # the left (A4 is 595 pt wide; the margins are 16 mm, 45 pt).
    boxes = subprocess.run(
        ["pdftotext", "-bbox", "-f", "1", "-l", "1", str(pdf), "-"],
        capture_output=True,
        text=True,
    ).stdout
    arabic_words = [
        float(x_max)
        for x_max, word in re.findall(r'xMax="([\d.]+)"[^>]*>([^<]+)</word>', boxes)
        if ARABIC_LETTERS.search(word)
    ]
    assert arabic_words and max(arabic_words) > 595 - 45 - 5


def test_the_print_fonts_cover_every_shipped_translation():
    problems = checks.flyer_fonts()
    assert not [p for p in problems if p.is_serious()], problems
    for language in ("es", "ar"):
        assert checks.catalogue_messages(language), f"{language} is not compiled"
    assert unprintable(ARABIC_HEADLINE) == []


def test_the_font_check_names_a_character_no_shipped_font_has(monkeypatch):
    monkeypatch.setattr(checks, "catalogue_messages", lambda language: {"Sign": "签名 وقّع"})
    errors = [p for p in checks.flyer_fonts() if p.id == "countersign.E102"]
    assert errors
    assert "U+7B7E" in errors[0].msg and "U+540D" in errors[0].msg
    assert "U+0648" not in errors[0].msg  # the Arabic is printable: Noto Naskh has it


def test_print_css_gives_noto_naskh_the_ranges_the_check_counts():
    css = (Path(settings.BASE_DIR) / "static/css/print.css").read_text()
    declared = re.findall(r"unicode-range:\s*([^;]+);", css)
    assert len(declared) == 2  # regular and bold
    expected = ", ".join(f"U+{low:04X}-{high:04X}" for low, high in ARABIC_RANGES)
    assert all(value.strip() == expected for value in declared)
