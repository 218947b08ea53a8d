"""`manage.py issue_codes`: a code batch from the command line, through `code_batch_create` in
petition/codes.py, so the same rules apply as on the staff page."""

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from petition.codes import code_batch_create
from petition.models import CODE_BATCH_MAX_SIZE, CODE_BATCH_MIN_SIZE, CODE_LEVELS, Petition


class Command(BaseCommand):
    help = (
        "Print N fresh single-use codes for a petition, one per line, and record the batch "
        "(as the moderators' page does, with the same rules). The codes are shown only now."
    )

    def add_arguments(self, parser):
        parser.add_argument("petition_slug")
        parser.add_argument("--level", choices=CODE_LEVELS, required=True)
        parser.add_argument(
            "--count",
            type=int,
            required=True,
            help=f"{CODE_BATCH_MIN_SIZE} to {CODE_BATCH_MAX_SIZE}",
        )
        parser.add_argument("--label", default="", help="a note for the batch, e.g. 'floor 3'")

    def handle(self, *args, petition_slug, level, count, label, **options):
        petition = Petition.objects.filter(slug=petition_slug).first()
        if petition is None:
            raise CommandError(f"No petition with slug {petition_slug!r}.")
        try:
            batch, codes = code_batch_create(
                petition=petition, level=level, size=count, label=label, actor=None
            )
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from exc
        self.stdout.write("\n".join(codes))
        if batch.approved_at is None:
            self.stderr.write(
                "This campaign wants a second person on every batch: the codes work once "
                "a moderator approves the batch on its codes page."
            )
