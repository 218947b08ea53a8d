from __future__ import annotations

import pytest
from django.db import IntegrityError, transaction
from django.urls import reverse

from organizing.models import Campaign, Membership, Role
from tests.factories import form_key

pytestmark = pytest.mark.django_db


def test_creator_of_a_campaign_becomes_its_organizer(client, outsider):
    client.force_login(outsider)
    response = client.post(
        reverse("staff:campaign_create"),
        {
            "form_key": form_key(),
            "name": "Night shift",
            "slug": "night-shift",
            "employer_name": "Example Corp",
            "email_domains_text": "Example.com\n@corp.example.org",
            "employer_networks_text": "198.51.100.7/24\n2001:db8::/32",
        },
    )
    assert response.status_code == 302
    campaign = Campaign.objects.get(slug="night-shift")
    assert campaign.email_domains == ["example.com", "corp.example.org"]
    assert campaign.employer_networks == ["198.51.100.0/24", "2001:db8::/32"]
    assert Membership.objects.get(campaign=campaign, user=outsider).role == Role.ORGANIZER


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("employer_networks_text", "not-a-network"),
        ("email_domains_text", "no spaces allowed.com"),
        ("slug", "Has Spaces"),
        ("name", ""),
    ],
)
def test_campaign_form_rejects_bad_input(client, outsider, field, value):
    client.force_login(outsider)
    data = {"form_key": form_key(), "name": "N", "slug": "n", "employer_name": "E", field: value}
    before = Campaign.objects.count()
    response = client.post(reverse("staff:campaign_create"), data)
    assert response.status_code == 200
    assert field in response.context["form"].errors
    assert Campaign.objects.count() == before


def test_database_keeps_one_membership_per_campaign(organizer, campaign):
    with pytest.raises(IntegrityError), transaction.atomic():
        Membership.objects.create(user=organizer, campaign=campaign, role=Role.MODERATOR)
