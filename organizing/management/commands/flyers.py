"""Print-ready flyer PDFs without the browser, for print shops and scripts.

The same door as the designer: `print_run_create` checks the run against every rule
(organizing/flyers/rules.py and the code-batch rules), records it (a PrintRun, audited like
the designer's) and makes its codes and PDF; the command then copies the PDF to -o. It renders
in this process whatever the size, so it works without a Celery worker (docs/operations.md).
Bad input ends in one line on stderr, never a traceback.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from organizing.flyers.designs import DESIGNS, PAPERS
from organizing.flyers.rendering import flyer_text_for, petition_target_url
from organizing.flyers.rules import smallest_run
from organizing.flyers.services import print_run_create
from organizing.models import PrintRun
from petition.codes import code_batch_revoke
from petition.models import Petition

TEXT_OPTIONS = (
    "headline",
    "subheadline",
    "body",
    "call_to_action",
    "privacy_line",
    "organized_by",
    "deadline_line",
    "accent",
)
# The rules' field names that are not this command's options (the code batch's size).
OPTION_FOR_FIELD = {"size": "copies"}


def one_line(messages) -> str:
    return " ".join(" ".join(str(m).split()) for m in messages)


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
            help="posters, half-page flyers, stickers or cards (default: one sheet; code "
            "cards: enough for the smallest code batch)",
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
        parser.add_argument("--organized-by", help="who is behind the petition, on the poster")
        parser.add_argument("--deadline-line", help="e.g. 'Sign by March 31', on the poster")
        parser.add_argument(
            "--language", default="en", help="the flyer's language; its QR codes lead there"
        )
        parser.add_argument(
            "--second-language",
            default="",
            help="print a second language too (under the first, or one flyer or sticker "
            "per language on half-page flyers and sticker sheets)",
        )
        parser.add_argument("--accent")

    def handle(self, *args, **opts):
        petition = Petition.objects.filter(slug=opts["petition"]).first()
        if petition is None:
            raise CommandError(f"No petition with the short name {opts['petition']!r}.")
        design = DESIGNS[opts["design"]]
        copies = opts["copies"] if opts["copies"] is not None else smallest_run(design)
        text = flyer_text_for(petition, opts["language"])
        overrides = {name: opts[name] for name in TEXT_OPTIONS if opts[name] is not None}
        overrides["second_language"] = opts["second_language"]
        text = type(text)(**{**text.as_dict(), **overrides})
        output = Path(opts["output"])
        try:
            # Opened before anything is made: an unwritable path must not cost codes.
            out = output.open("wb")
        except OSError as exc:
            raise CommandError(f"Cannot write {output}: {exc.strerror}.") from exc
        with out:
            try:
                run = print_run_create(
                    petition=petition,
                    design=design.name,
                    paper=opts["paper"],
                    copies=copies,
                    text=text,
                    batch_label=opts["batch"],
                    code_label=opts["batch"] or f"{design.name} (command line)",
                    in_process=True,
                )
            except ValidationError as exc:
                output.unlink(missing_ok=True)
                raise CommandError(_field_messages(exc)) from exc
            run.refresh_from_db()
            if run.status != PrintRun.Status.DONE:
                output.unlink(missing_ok=True)
                raise CommandError(one_line([run.error or "The PDF was not made."]))
            try:
                with run.file.open("rb") as made:
                    shutil.copyfileobj(made, out)
            except OSError as exc:
                if run.code_batch_id is not None:
                    code_batch_revoke(batch=run.code_batch)  # never printed: none may work
                output.unlink(missing_ok=True)
                raise CommandError(f"Cannot write {output}: {exc.strerror}.") from exc
        codes = run.code_batch.size if run.code_batch_id else 0
        self.stdout.write(f"Wrote {output} ({run.pages_total} pages, {codes} single-use codes).")
        if run.flyer_batch_id is not None:
            url = petition_target_url(petition, run.flyer_batch, text.language)
            self.stdout.write(f"Its QR codes lead through {url}")


def _field_messages(exc: ValidationError) -> str:
    """The refusal in one line, naming the option each message is about."""
    if not hasattr(exc, "error_dict"):
        return one_line(exc.messages)
    parts = []
    for field, errors in exc.error_dict.items():
        messages = [m for error in errors for m in error.messages]
        field = OPTION_FOR_FIELD.get(field, field)
        option = "" if field == "__all__" else f"--{field.replace('_', '-')}: "
        parts.append(option + one_line(messages))
    return " ".join(parts)
