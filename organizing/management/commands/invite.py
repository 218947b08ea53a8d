"""`manage.py invite`: the way in for the first organizer; creates an invitation through
organizing/services.py, mails the link and prints it."""

from django.core.management.base import BaseCommand, CommandError
from django.urls import reverse

from organizing.models import Campaign, Role, User
from organizing.services import invitation_create, invitation_token
from petition.links import absolute_url


class Command(BaseCommand):
    help = (
        "Invite an address to create a staff account (the way in for the first organizer). "
        "Mails the link and prints it. --site-organizer gives the right to create campaigns "
        "(to an existing account at once, otherwise when the invitation is accepted)."
    )

    def add_arguments(self, parser):
        parser.add_argument("email")
        parser.add_argument("--campaign", help="campaign slug to join")
        parser.add_argument("--role", choices=Role.values, default=Role.ORGANIZER)
        parser.add_argument(
            "--site-organizer",
            action="store_true",
            help="may create campaigns on this installation",
        )

    def handle(self, *args, email, campaign, role, site_organizer, **options):
        target = None
        if campaign:
            target = Campaign.objects.filter(slug=campaign).first()
            if target is None:
                raise CommandError(f"No campaign with slug {campaign!r}.")
        existing = User.objects.filter(email__iexact=email.strip()).first()
        if existing is not None and site_organizer:
            User.objects.filter(pk=existing.pk).update(is_site_organizer=True)
            self.stdout.write(f"{existing.email} may now create campaigns.")
            if target is None:
                return
        invitation = invitation_create(
            email=email,
            role=role,
            campaign=target,
            invited_by=None,
            site_organizer=site_organizer and existing is None,
        )
        path = reverse("organizing:invitation", kwargs={"token": invitation_token(invitation)})
        self.stdout.write(absolute_url(path))
