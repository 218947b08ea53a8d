from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse

from organizing.models import Campaign, Membership, Role
from organizing.services import campaign_create, campaign_update
from petition.services import petition_close
from tests.factories import form_key

pytestmark = pytest.mark.django_db


def test_creator_of_a_campaign_becomes_its_organizer(client, site_organizer):
    client.force_login(site_organizer)
    response = client.post(
        reverse("staff:campaign_create"),
        {
            "form_key": form_key(),
            "name": "Night shift",
            "slug": "night-shift",
            "employer_name": "Example Corp",
            "email_domains_text": "Example.com\n@corp.example.org",
            "employer_networks_text": "198.51.100.7/24\n2001:db8::/32",
            "retention_days": "30",
        },
    )
    assert response.status_code == 302
    campaign = Campaign.objects.get(slug="night-shift")
    assert campaign.email_domains == ["example.com", "corp.example.org"]
    assert campaign.employer_networks == ["198.51.100.0/24", "2001:db8::/32"]
    assert Membership.objects.get(campaign=campaign, user=site_organizer).role == Role.ORGANIZER


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("employer_networks_text", "not-a-network"),
        ("email_domains_text", "no spaces allowed.com"),
        ("slug", "Has Spaces"),
        ("name", ""),
    ],
)
def test_campaign_form_rejects_bad_input(client, site_organizer, field, value):
    client.force_login(site_organizer)
    data = {"form_key": form_key(), "name": "N", "slug": "n", "employer_name": "E", field: value}
    before = Campaign.objects.count()
    response = client.post(reverse("staff:campaign_create"), data)
    assert response.status_code == 200
    assert field in response.context["form"].errors
    assert Campaign.objects.count() == before


def test_database_keeps_one_membership_per_campaign(organizer, campaign):
    with pytest.raises(IntegrityError), transaction.atomic():
        Membership.objects.create(user=organizer, campaign=campaign, role=Role.MODERATOR)


def _edit(client, campaign, **changes):
    data = {
        "name": campaign.name,
        "slug": campaign.slug,
        "employer_name": campaign.employer_name,
        "email_domains_text": "\n".join(campaign.email_domains),
        "employer_networks_text": "\n".join(campaign.employer_networks),
        "email_subaddress_separator": campaign.email_subaddress_separator,
        **changes,
    }
    return client.post(reverse("staff:campaign_edit", kwargs={"slug": campaign.slug}), data)


def test_work_email_domains_are_locked_while_such_a_petition_is_open(
    client, organizer, campaign, open_petition
):
    """Adding gmail.com to an open petition would mint "verified" signatures."""
    client.force_login(organizer)
    for field, value in [
        ("email_domains_text", "example.com\ngmail.com"),
        ("email_subaddress_separator", "-"),
    ]:
        response = _edit(client, campaign, **{field: value})
        assert response.status_code == 200
        errors = response.context["form"].errors[field]
        assert "cannot change while a petition that accepts work email is open" in errors[0]
    campaign.refresh_from_db()
    assert campaign.email_domains == ["example.com"]
    assert campaign.email_subaddress_separator == ""
    # Other fields still change.
    assert _edit(client, campaign, name="Renamed").status_code == 302
    # The service refuses too, whoever calls it.
    with pytest.raises(ValidationError) as refused:
        campaign_update(campaign=campaign, email_domains=["example.com", "gmail.com"])
    assert "email_domains" in refused.value.error_dict


def test_work_email_domains_change_once_no_such_petition_is_open(
    client, organizer, campaign, open_petition
):
    client.force_login(organizer)
    petition_close(petition=open_petition)
    assert _edit(client, campaign, email_domains_text="example.com\nexample.net").status_code == 302
    campaign.refresh_from_db()
    assert campaign.email_domains == ["example.com", "example.net"]


def test_domains_are_checked_by_djangos_validator_and_stored_in_idna_form(client, site_organizer):
    client.force_login(site_organizer)
    data = {"name": "N", "slug": "n", "employer_name": "E"}
    ok = client.post(
        reverse("staff:campaign_create"),
        {**data, "form_key": form_key(), "email_domains_text": "Bücher.example"},
    )
    assert ok.status_code == 302
    assert Campaign.objects.get(slug="n").email_domains == ["xn--bcher-kva.example"]
    for bad in ("-leading.example", "under_score.example", "a..b.example", "x" * 64 + ".example"):
        response = client.post(
            reverse("staff:campaign_create"),
            {**data, "form_key": form_key(), "slug": "m", "email_domains_text": bad},
        )
        assert "email_domains_text" in response.context["form"].errors, bad
    with pytest.raises(ValidationError):
        Campaign(name="N", slug="z", employer_name="E", email_domains=["not a domain"]).full_clean()


def test_only_site_organizers_create_campaigns(organizer, site_organizer):
    with pytest.raises(PermissionDenied):
        campaign_create(creator=organizer, name="N", slug="nope", employer_name="E")
    campaign = campaign_create(creator=site_organizer, name="N", slug="yes", employer_name="E")
    assert campaign.memberships.get().user == site_organizer


def test_the_dashboard_offers_new_campaigns_to_site_organizers_only(
    client, organizer, site_organizer
):
    new_campaign = reverse("staff:campaign_create").encode()
    client.force_login(organizer)
    assert new_campaign not in client.get(reverse("staff:dashboard")).content
    client.force_login(site_organizer)
    assert new_campaign in client.get(reverse("staff:dashboard")).content


@pytest.mark.parametrize(
    "email, suggested",
    [
        ("org@acme.example", "acme.example"),
        ("org@gmail.com", None),
        ("org@Sub.Acme.Example", "sub.acme.example"),
    ],
)
def test_the_new_campaign_form_suggests_the_domain_of_its_creators_own_address(
    client, email, suggested
):
    """Review O3: the creator's own work address gives the domain; a public mail service
    does not. Only the person filling in the form is looked at."""
    from organizing.forms import CampaignCreateForm
    from tests.factories import UserFactory

    creator = UserFactory(email=email)
    form = CampaignCreateForm(creator=creator)
    assert form["email_domains_text"].value() == suggested
    if suggested:
        assert f"{suggested} comes from your own address" in str(
            form.fields["email_domains_text"].help_text
        )
