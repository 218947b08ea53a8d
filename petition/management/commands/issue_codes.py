from django.core.management.base import BaseCommand, CommandError

from petition.credentials import code_batch_create
from petition.models import Level, Petition


class Command(BaseCommand):
    help = (
        "Print N fresh single-use codes for a petition, one per line, and record the batch "
        "(as the moderators' page does). The codes are shown only now."
    )

    def add_arguments(self, parser):
        parser.add_argument("petition_slug")
        parser.add_argument("--level", choices=[Level.IN_PERSON, Level.FLYER], required=True)
        parser.add_argument("--count", type=int, required=True)
        parser.add_argument("--label", default="", help="a note for the batch, e.g. 'floor 3'")

    def handle(self, *args, petition_slug, level, count, label, **options):
        if not 1 <= count <= 5000:
            raise CommandError("--count must be between 1 and 5000.")
        petition = Petition.objects.filter(slug=petition_slug).first()
        if petition is None:
            raise CommandError(f"No petition with slug {petition_slug!r}.")
        if petition.status != Petition.Status.PUBLISHED:
            raise CommandError("Codes can be issued only while the petition is open.")
        if level not in petition.levels:
            raise CommandError(f"This petition does not accept {level} codes.")
        _batch, codes = code_batch_create(petition=petition, level=level, size=count, label=label)
        self.stdout.write("\n".join(codes))
