"""Factories for the cast: organizer, moderator, outsider (staff elsewhere), signer (no account)."""

from __future__ import annotations

import uuid

import factory
from allauth.account.models import EmailAddress
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret

from organizing.models import Campaign, Membership, Role, User
from petition.models import Petition

PASSWORD = "correct horse battery staple 42"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"staff{n}@organizers.example")
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @factory.post_generation
    def verified(self, create, extracted, **kwargs):
        if create:
            self.save()
            EmailAddress.objects.create(user=self, email=self.email, primary=True, verified=True)

    @factory.post_generation
    def totp(self, create, extracted, **kwargs):
        """Pass totp=False for a user who has not set up MFA yet."""
        if create and extracted is not False:
            self.totp_secret = generate_totp_secret()
            TOTP.activate(self, self.totp_secret)


class CampaignFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Campaign

    name = factory.Sequence(lambda n: f"Workers of Example {n}")
    slug = factory.Sequence(lambda n: f"example-workers-{n}")
    employer_name = "Example Corp"
    email_domains = ["example.com"]
    employer_networks = ["198.51.100.0/24"]


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    user = factory.SubFactory(UserFactory)
    campaign = factory.SubFactory(CampaignFactory)
    role = Role.ORGANIZER


class PetitionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Petition

    campaign = factory.SubFactory(CampaignFactory)
    slug = factory.Sequence(lambda n: f"petition-{n}")
    title = factory.Sequence(lambda n: f"Petition number {n}")
    summary = "A short summary."
    demands = "1. **Stop** the tracking.\n2. Delete the recordings."
    addressed_to = "The executive team"
    goal = 100
    status = Petition.Status.DRAFT

    class Params:
        published = factory.Trait(
            status=Petition.Status.PUBLISHED, published_at=factory.Faker("date_time", tzinfo=None)
        )


def form_key() -> str:
    """A fresh key for a staff form that creates something (organizing/idempotency.py)."""
    return str(uuid.uuid4())
