"""Run as a child process by test_pdf_machinery: the peak memory of joining many chunks.

    python -m tests.organizing.flyers.pdf_join_memory CHUNKS

Lays out one chunk of 25 pages (10 links each) with WeasyPrint once, then joins it
CHUNKS times, and 5 x CHUNKS times in all, through StreamingPdfJoiner, with a QR overlay of 10
codes on every page (as tear-off posters have), writing to /dev/null. Prints the peak RSS
(ru_maxrss, MiB) after CHUNKS chunks and after all of them, as JSON. A joiner that keeps
pages (pypdf's PdfWriter) grows by the size of 4 x CHUNKS chunks; ours by next to nothing.
"""

from __future__ import annotations

import json
import os
import resource
import sys
import time


def peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main(chunks: int) -> dict:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.base")
    import django

    django.setup()
    from organizing.flyers.pdf import PX_TO_POINTS, render_pdf
    from organizing.flyers.pdfjoin import StreamingPdfJoiner
    from petition.qr import qr_svg

    urls = [
        f"https://petition.example.org/f/k7q2m9#code=ABCDE{n:05d}&level=flyer&k=AbCdEfGh"
        for n in range(10)
    ]
    links = "".join(
        f'<a href="{url}" style="display:inline-block;width:20mm;height:20mm;margin:2mm"></a>'
        for url in urls
    )
    page = f'<section style="break-after:page">{links}<p>A page of the chunk.</p></section>'
    chunk = render_pdf(page * 25)
    # 10 codes of 20 mm per page: the tear-off tabs' share of the drawing.
    codes = " ".join(qr_svg(url, "Q").pdf_ops(10 + 80 * n, 10, 75) for n, url in enumerate(urls))
    overlay = f"{PX_TO_POINTS} {codes}"
    start = time.process_time()
    with open(os.devnull, "wb") as out:
        joiner = StreamingPdfJoiner(out)
        for _ in range(chunks):
            joiner.append(chunk, [overlay] * 25)
        first = peak_mib()
        for _ in range(4 * chunks):
            joiner.append(chunk, [overlay] * 25)
        joiner.close()
    return {
        "pages": joiner.page_count,
        "peak_mib_first": first,
        "peak_mib_all": peak_mib(),
        "chunk_bytes": len(chunk),
        "seconds": time.process_time() - start,
    }


if __name__ == "__main__":
    print(json.dumps(main(int(sys.argv[1]))))
