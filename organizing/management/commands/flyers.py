"""Print-ready flyer PDFs without the browser, for print shops and scripts."""

from __future__ import annotations

from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from organizing.flyers import services
from organizing.flyers.designs import DESIGNS, PAPERS, codes_needed
from organizing.flyers.forms import HEX_COLOUR, MIN_CONTRAST, contrast_with_white
from organizing.flyers.rendering import default_text, flyer_pdf, petition_target_url
from petition.codes import code_batch_create, code_batch_revoke
from petition.keys import key_id_prefix
from petition.models import Petition


class Command(BaseCommand):
    help = (
        "Write a print-ready PDF of a petition's flyers. Designs that carry single-use codes "
        "(tearoff, cards) make them now: they exist only in the PDF."
    )

    def add_arguments(self, parser):
        parser.add_argument("petition", help="the petition's short name")
        parser.add_argument("--design", choices=list(DESIGNS), required=True)
        parser.add_argument("--paper", choices=list(PAPERS), default="letter")
        parser.add_argument(
            "--copies",
            type=int,
            default=1,
            help="posters, half-page flyers, stickers or cards (default 1)",
        )
        parser.add_argument(
            "--batch",
            metavar="LABEL",
            default="",
            help="make a flyer batch with this label; its QR codes count scans",
        )
        parser.add_argument("-o", "--output", required=True, help="the PDF file to write")
        parser.add_argument("--headline")
        parser.add_argument("--subheadline")
        parser.add_argument("--body")
        parser.add_argument("--call-to-action")
        parser.add_argument("--privacy-line")
        parser.add_argument("--language", default="en")
        parser.add_argument("--accent")

    def handle(self, *args, **opts):
        petition = Petition.objects.filter(slug=opts["petition"]).first()
        if petition is None:
            raise CommandError(f"No petition with the short name {opts['petition']!r}.")
        design = DESIGNS[opts["design"]]
        copies = opts["copies"]
        if not 1 <= copies <= 5000 or design.sheets_for(copies) > 500:
            raise CommandError("--copies must be between 1 and 5000, at most 500 sheets.")
        accent = opts["accent"]
        if accent and (not HEX_COLOUR.match(accent) or contrast_with_white(accent) < MIN_CONTRAST):
            raise CommandError("--accent must be a #rrggbb colour dark enough for white text.")
        text = default_text(petition)
        overrides = {
            name: opts[name]
            for name in (
                "headline",
                "subheadline",
                "body",
                "call_to_action",
                "privacy_line",
                "accent",
            )
            if opts[name] is not None
        }
        text = type(text)(**{**text.as_dict(), **overrides, "language": opts["language"]})
        try:
            services.print_run_check(petition=petition, design=design.name)
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from exc

        batch = None
        if opts["batch"]:
            batch = services.flyer_batch_create(
                petition=petition,
                label=opts["batch"],
                design=design.name,
                paper=opts["paper"],
                copies=copies,
            )
        codes: list[str] = []
        code_batch = None
        key_prefix = ""
        needed = codes_needed(design, copies)
        if needed:
            with transaction.atomic():
                code_batch, codes = code_batch_create(
                    petition=petition,
                    level=design.code_level,
                    size=needed,
                    label=opts["batch"] or f"{design.name} (command line)",
                )
            key = petition.keys.get(level=design.code_level)
            key_prefix = key_id_prefix(bytes(key.key_id))
        output = Path(opts["output"])
        try:
            with output.open("wb") as out:
                pages = flyer_pdf(
                    petition=petition,
                    design=design.name,
                    paper=opts["paper"],
                    copies=copies,
                    text=text,
                    out=out,
                    target_url=petition_target_url(petition, batch),
                    codes=codes,
                    key_prefix=key_prefix,
                    code_level=design.code_level or "",
                )
        except BaseException:
            if code_batch is not None:
                code_batch_revoke(batch=code_batch)  # never printed: no code may stay valid
            output.unlink(missing_ok=True)
            raise
        self.stdout.write(f"Wrote {output} ({pages} pages, {len(codes)} single-use codes).")
        if batch is not None:
            self.stdout.write(f"Its QR codes lead through {petition_target_url(petition, batch)}")
