"""`manage.py seed_demo`: the demo campaign, petition and staff accounts of organizing/demo.py,
for development only (it prints passwords, so it refuses to run without DEBUG)."""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.urls import reverse

from organizing.demo import demo_codes, seed_demo
from petition.links import absolute_url


class Command(BaseCommand):
    help = "Create the demo campaign, petition and staff accounts (development only; idempotent)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--reset-accounts",
            action="store_true",
            help="delete and recreate the demo staff accounts, printing fresh secrets",
        )

    def handle(self, *args, reset_accounts=False, **options):
        if not settings.DEBUG:
            raise CommandError(
                "seed_demo prints passwords and TOTP secrets; it runs only with DJANGO_DEBUG=1."
            )
        petition, accounts = seed_demo(reset_accounts=reset_accounts)
        public = absolute_url(petition.get_absolute_url())
        self.stdout.write(self.style.SUCCESS(f"Demo petition: {public}"))
        self.stdout.write(
            "In-person codes (each signs once; open the link on a phone or type the code):"
        )
        for code, fragment in demo_codes(petition):
            self.stdout.write(f"  {code}   {public}{fragment}")
        self.stdout.write(
            "Work email: any address @acme.example; the code appears in the worker's output."
        )
        slug = {"slug": petition.slug}
        flyers = absolute_url(reverse("staff:flyers", kwargs=slug))
        codes = absolute_url(reverse("staff:code_batches", kwargs=slug))
        self.stdout.write(
            "Flyers (poster, halves, tear-off tabs, stickers; Letter or A4): "
            f"{flyers}  Code cards (PDF): {codes}"
        )
        for account in accounts:
            if not account.created:
                self.stdout.write(
                    f"{account.role}: {account.email} (exists; its secrets were shown once. "
                    "New ones: make reset-demo-accounts)"
                )
                continue
            self.stdout.write(
                self.style.WARNING(f"\n{account.role}: {account.email}\n")
                + f"  password:        {account.password}\n"
                + f"  TOTP secret:     {account.totp_secret}\n"
                + f"  TOTP URL:        {account.totp_url}\n"
                + f"  recovery codes:  {' '.join(account.recovery_codes)}\n"
                + "  (shown once: add the secret to an authenticator app now)"
            )
