"""Tear-off poster PDFs against the bare QR generation of the same codes (the floor).

    .venv/bin/python benchmarks/flyers.py              # quick: 100 pages (and 20)
    .venv/bin/python benchmarks/flyers.py --pages 1000 # the full measurement

Each phase runs in its own child process, so that its peak memory (ru_maxrss) is its own:
  qr    make the QR symbols (qrcode: segments, Reed-Solomon, mask choice) that the PDF needs:
        10 tab codes per page and the poster's own code once. The floor.
  pdf   make the whole PDF of the same pages (codes, QR outlines, HTML, WeasyPrint layout,
        chunks joined as they come by organizing/flyers/pdfjoin.py) at 1/5 of the pages and
        at all of them: time should grow linearly, peak memory should not.
No database: the codes are random strings shaped like real ones.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import secrets
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from types import SimpleNamespace

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
TARGET = "https://petition.example.org/f/k7q2m9"
KEY_PREFIX = "AbCdEfGh"


def setup_django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.base")
    import django

    django.setup()


def codes_for(pages: int) -> list[str]:
    from petition.codes import CODE_ALPHABET, CODE_LENGTH, format_code

    return [
        format_code("".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH)))
        for _ in range(pages * 10)
    ]


def phase_qr(pages: int) -> dict:
    from organizing.flyers.designs import DESIGNS, code_url
    from petition.qr import qr_matrix

    design = DESIGNS["tearoff"]
    codes = codes_for(pages)
    start = time.process_time()
    qr_matrix(TARGET, design.main_ec)  # the poster's own code: the same on every sheet
    for page in range(pages):
        for code in codes[page * 10 : (page + 1) * 10]:
            qr_matrix(code_url(TARGET, code, KEY_PREFIX, "flyer"), design.code_ec)
    return {"seconds": time.process_time() - start}


def phase_pdf(pages: int) -> dict:
    from organizing.flyers.rendering import FlyerText, flyer_pdf

    petition = SimpleNamespace(
        title="Stop the Employee Data Extraction Factory",
        summary="",
        levels=["in_person", "flyer"],  # both: the tabs' URLs name their level (longest case)
        get_absolute_url=lambda: "/p/stop-the-extraction-factory/",
    )
    text = FlyerText(
        headline="Don't want to work at the Employee Data Extraction Factory?",
        subheadline="Switch off the software that records our keystrokes and clicks.",
        body="Management installed input tracking on every laptop. We ask them to switch it "
        "off, delete the recordings and consult us first.",
        call_to_action="Scan to read the petition and sign it anonymously.",
        privacy_line="Scan with your personal phone, not a work device.",
    )
    codes = codes_for(pages)
    with tempfile.TemporaryFile() as out:
        start = time.process_time()
        made = flyer_pdf(
            petition=petition,
            design="tearoff",
            paper="letter",
            copies=pages,
            text=text,
            out=out,
            target_url=TARGET,
            codes=codes,
            key_prefix=KEY_PREFIX,
            code_level="flyer",
        )
        seconds = time.process_time() - start
        size = out.tell()
    assert made == pages, (made, pages)
    return {"seconds": seconds, "bytes": size}


def child(phase: str, pages: int) -> dict:
    result = subprocess.run(
        [sys.executable, __file__, "--child", phase, "--pages", str(pages)],
        capture_output=True,
        text=True,
        check=True,
        timeout=3600,
    )
    return json.loads(result.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--pages", type=int, default=100)
    parser.add_argument("--child", choices=["qr", "pdf"])
    args = parser.parse_args()
    if args.child:
        setup_django()
        # Import what both phases import before measuring, so both pay the same start-up.
        import organizing.flyers.rendering  # noqa: F401

        result = phase_qr(args.pages) if args.child == "qr" else phase_pdf(args.pages)
        result["peak_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(json.dumps(result))
        return

    small = max(1, args.pages // 5)
    rows = [
        ("qr", args.pages, child("qr", args.pages)),
        ("pdf", small, child("pdf", small)),
        ("pdf", args.pages, child("pdf", args.pages)),
    ]
    floor = rows[0][2]["seconds"]
    print(
        "tear-off posters, Letter, 10 tab codes per page + the poster's own code; "
        f"floor = bare QR of {args.pages} pages"
    )
    print(f"{'phase':5} {'pages':>6} {'seconds':>9} {'ms/page':>8} {'peak MiB':>9} {'MB out':>7}")
    for phase, pages, r in rows:
        size = f"{r['bytes'] / 1e6:7.1f}" if "bytes" in r else " " * 7
        print(
            f"{phase:5} {pages:6d} {r['seconds']:9.2f} {1000 * r['seconds'] / pages:8.1f} "
            f"{r['peak_mib']:9.1f} {size}"
        )
    full = rows[2][2]
    print(f"PDF / bare QR, same {args.pages} pages: {full['seconds'] / floor:.2f}x")
    per_small = rows[1][2]["seconds"] / small
    print(
        f"time per page, {args.pages} vs {small} pages: {1000 * full['seconds'] / args.pages:.1f} "
        f"vs {1000 * per_small:.1f} ms; peak memory {full['peak_mib']:.0f} vs "
        f"{rows[1][2]['peak_mib']:.0f} MiB"
    )


if __name__ == "__main__":
    main()
