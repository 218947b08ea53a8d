from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.urls import reverse

from organizing.models import Campaign, Role
from organizing.services import invitation_create, invitation_token


class Command(BaseCommand):
    help = (
        "Invite an address to create a staff account (the way in for the first organizer). "
        "Mails the link and prints it."
    )

    def add_arguments(self, parser):
        parser.add_argument("email")
        parser.add_argument("--campaign", help="campaign slug to join")
        parser.add_argument("--role", choices=Role.values, default=Role.ORGANIZER)

    def handle(self, *args, email, campaign, role, **options):
        target = None
        if campaign:
            target = Campaign.objects.filter(slug=campaign).first()
            if target is None:
                raise CommandError(f"No campaign with slug {campaign!r}.")
        invitation = invitation_create(email=email, role=role, campaign=target, invited_by=None)
        path = reverse("organizing:invitation", kwargs={"token": invitation_token(invitation)})
        self.stdout.write(f"{settings.COUNTERSIGN_BASE_URL.rstrip('/')}{path}")
