"""`manage.py audit_verify`: walks the audit log's hash chains (organizing/auditchain.py) and
names the first row that was changed, removed or inserted."""

from django.core.management.base import BaseCommand, CommandError

from organizing.auditchain import verify_chain
from organizing.models import AuditEntry, Campaign


class Command(BaseCommand):
    help = (
        "Walk the audit log's hash chains (one per campaign, one for rows without a "
        "campaign) and exit non-zero naming the first row that was changed, removed or "
        "inserted. --head checks that a head hash seen earlier (audit page, daily digest) is "
        "still in its chain: a chain rewritten or cut at its end verifies on its own, but "
        "loses the heads people saw."
    )

    def add_arguments(self, parser):
        parser.add_argument("--campaign", help="only this campaign's chain (slug)")
        parser.add_argument(
            "--head",
            action="append",
            default=[],
            metavar="HASH",
            help="a head hash seen earlier that must still be in the log (repeatable)",
        )

    def handle(self, *args, campaign, head, **options):
        if campaign:
            found = Campaign.objects.filter(slug=campaign).values_list("pk", flat=True).first()
            if found is None:
                raise CommandError(f"No campaign with slug {campaign!r}.")
            chains = [found]
        else:
            chains = sorted(
                set(AuditEntry.objects.values_list("campaign_id", flat=True).distinct()),
                key=lambda pk: (pk is not None, pk or 0),
            )
        slugs = dict(
            Campaign.objects.filter(pk__in=[c for c in chains if c]).values_list("pk", "slug")
        )
        for campaign_id in chains:
            name = f"campaign {slugs[campaign_id]!r}" if campaign_id else "rows without a campaign"
            rows = AuditEntry.objects.filter(campaign_id=campaign_id).order_by("seq", "id")
            broken = verify_chain(rows.iterator(chunk_size=1000))
            if broken is not None:
                raise CommandError(
                    f"Audit chain of {name} is broken at entry {broken.entry_id} "
                    f"(place {broken.seq}): {broken.problem}."
                )
            last = rows.values_list("seq", "hash").last()
            count, digest = last if last else (0, "(empty)")
            self.stdout.write(f"{name}: {count} entries, head {digest}")
        for digest in head:
            if not AuditEntry.objects.filter(hash=digest.strip().lower()).exists():
                raise CommandError(
                    f"Head {digest} is no longer in the audit log: rows were removed or the "
                    "chain was rewritten."
                )
            self.stdout.write(f"head {digest}: still in the log")
        self.stdout.write(self.style.SUCCESS("Audit log intact."))
