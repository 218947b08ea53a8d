"""`manage.py confirm_member`: the operator confirms a campaign member for the two-person rules
(docs/roles.md), through `membership_confirm` in organizing/services.py."""

from django.core.management.base import BaseCommand, CommandError

from organizing.models import Membership
from organizing.services import TeamError, membership_confirm


class Command(BaseCommand):
    help = (
        "Confirm a campaign member for two-person rules (docs/roles.md), as the operator. "
        "For a campaign whose only confirmed organizer added the person: they may not "
        "confirm their own addition. Check that the person is who they say first."
    )

    def add_arguments(self, parser):
        parser.add_argument("campaign", help="campaign slug")
        parser.add_argument("email", help="the member's account address")

    def handle(self, *args, campaign, email, **options):
        membership = Membership.objects.filter(
            campaign__slug=campaign, user__email__iexact=email.strip()
        ).first()
        if membership is None:
            raise CommandError(f"{email} is not a member of {campaign!r}.")
        try:
            membership_confirm(membership=membership, actor=None)
        except TeamError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(f"{membership.user.email} is confirmed in {campaign}.")
