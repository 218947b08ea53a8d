"""Staff forms start from what the program knows, and safe (review O3, O4, M7).

A new petition's form shows the safe publication policy (not the embedded demo's "each
signature at once"), warns on the form and on the publish confirmation, ticks work email
when the campaign has a domain and suggests the employer as the addressee; the campaign
form folds the mail-server question away; a moderator is told to ask an organizer instead
of to use an Edit page they cannot open.
"""

from __future__ import annotations

import html
import re

import pytest
from django.urls import reverse

from petition.models import Petition
from tests.factories import CampaignFactory, MembershipFactory, form_key

pytestmark = pytest.mark.django_db


def _text(response) -> str:
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", response.content.decode())).split())


def _input(response, name: str) -> str:
    return re.search(rf'<(?:input|textarea)[^>]*name="{name}"[^>]*>', response.content.decode())[0]


def test_a_new_petition_starts_from_the_safe_policy_and_what_the_campaign_knows(
    client, organizer, campaign
):
    client.force_login(organizer)
    page = client.get(reverse("staff:petition_create", kwargs={"slug": campaign.slug}))
    assert 'value="60"' in _input(page, "publish_interval")
    assert 'value="5"' in _input(page, "publish_min_batch")
    assert 'value="24"' in _input(page, "publish_max_wait")
    assert "checked" in _input(page, "accepts_work_email")  # the campaign has example.com
    assert f'value="{campaign.employer_name}"' in _input(page, "addressed_to")
    assert "The form starts from safe settings" in _text(page)


def test_without_a_work_email_domain_work_email_is_not_ticked(client, organizer):
    campaign = CampaignFactory(email_domains=[], employer_name="")
    MembershipFactory(user=organizer, campaign=campaign)
    client.force_login(organizer)
    page = client.get(reverse("staff:petition_create", kwargs={"slug": campaign.slug}))
    assert "checked" not in _input(page, "accepts_work_email")
    assert "value=" not in _input(page, "addressed_to")


def test_saving_the_form_as_shown_stores_a_safe_policy(client, organizer, campaign):
    """The embedded and test settings publish at once; the form as shown does not."""
    client.force_login(organizer)
    response = client.post(
        reverse("staff:petition_create", kwargs={"slug": campaign.slug}),
        {
            "title": "Breaks",
            "summary": "Short.",
            "demands": "Two breaks.",
            "addressed_to": campaign.employer_name,
            "goal": "25",
            "accepts_work_email": "on",
            "publish_interval": "60",
            "publish_min_batch": "5",
            "publish_max_wait": "24",
            "form_key": form_key(),
        },
    )
    assert response.status_code == 302
    petition = Petition.objects.get(title="Breaks")
    assert (petition.publish_interval, petition.publish_min_batch, petition.publish_max_wait) == (
        3600,
        5,
        86400,
    )
    assert not petition.publication_is_unsafe


def test_the_publish_confirmation_warns_about_an_unsafe_policy(client, organizer, draft_petition):
    client.force_login(organizer)
    url = reverse("staff:petition_publish", kwargs={"slug": draft_petition.slug})
    assert draft_petition.publication_is_unsafe  # the test settings' defaults
    assert "below the safe minimum" in _text(client.get(url))
    Petition.objects.filter(pk=draft_petition.pk).update(
        publish_interval=3600, publish_min_batch=5, publish_max_wait=86400
    )
    assert "below the safe minimum" not in _text(client.get(url))


def test_the_edit_form_of_an_unsafe_petition_warns(client, organizer, draft_petition):
    client.force_login(organizer)
    page = client.get(reverse("staff:petition_edit", kwargs={"slug": draft_petition.slug}))
    assert "These publication settings are below the safe minimum." in _text(page)


def test_a_moderator_is_told_to_ask_an_organizer_not_to_use_edit(
    client, organizer, moderator, draft_petition
):
    assert draft_petition.publishes_immediately
    url = reverse("staff:petition", kwargs={"slug": draft_petition.slug})
    client.force_login(moderator)
    text = _text(client.get(url))
    assert "Ask an organizer of the campaign to set a smallest batch" in text
    assert "under Edit" not in text
    client.force_login(organizer)
    assert "under Edit before real people sign" in _text(client.get(url))


def test_the_mail_server_question_is_folded_under_advanced(client, organizer, campaign):
    client.force_login(organizer)
    page = client.get(reverse("staff:campaign_edit", kwargs={"slug": campaign.slug}))
    content = page.content.decode()
    advanced = re.search(r'<details class="advanced">(.*?)</details>', content, re.S)
    assert advanced and 'name="email_subaddress_separator"' in advanced[1]
    assert content.count('name="email_subaddress_separator"') == 1


def test_field_errors_alone_open_no_empty_error_box(client, organizer, campaign):
    """Review O3: an empty red bar showed above forms with only field errors."""
    client.force_login(organizer)
    page = client.post(
        reverse("staff:campaign_edit", kwargs={"slug": campaign.slug}),
        {"name": "", "email_domains_text": "not a domain"},
    )
    assert page.status_code in (200, 400)
    assert "Not a domain name" in _text(page)
    assert 'class="form-errors"' not in page.content.decode()
