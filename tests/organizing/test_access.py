"""Every staff URL, tried by every member of the cast."""

from __future__ import annotations

import pytest
from django.urls import reverse

from tests.staff_urls import STAFF_URLS, staff_url_names

pytestmark = pytest.mark.django_db

CAMPAIGN_SCOPED = [u for u in STAFF_URLS if u.kwarg]


def _call(client, url, campaign, petition):
    path = url.path(campaign, petition)
    return getattr(client, url.method)(path)


def test_every_staff_url_is_listed_for_the_access_tests():
    assert staff_url_names() == {u.name for u in STAFF_URLS}


@pytest.mark.parametrize("url", STAFF_URLS, ids=lambda u: u.name)
def test_signer_without_account_is_sent_to_login(client, url, campaign, draft_petition):
    response = _call(client, url, campaign, draft_petition)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))


@pytest.mark.parametrize("url", STAFF_URLS, ids=lambda u: u.name)
def test_staff_without_mfa_is_sent_to_mfa_setup(
    client, url, campaign, draft_petition, organizer_without_mfa
):
    client.force_login(organizer_without_mfa)
    response = _call(client, url, campaign, draft_petition)
    assert response.status_code == 302
    assert response["Location"] == reverse("mfa_index")


@pytest.mark.parametrize("url", CAMPAIGN_SCOPED, ids=lambda u: u.name)
def test_outsider_gets_not_found(client, url, campaign, draft_petition, outsider):
    client.force_login(outsider)
    response = _call(client, url, campaign, draft_petition)
    assert response.status_code == 404


@pytest.mark.parametrize("url", CAMPAIGN_SCOPED, ids=lambda u: u.name)
def test_moderator_may_read_but_not_change(client, url, campaign, draft_petition, moderator):
    client.force_login(moderator)
    response = _call(client, url, campaign, draft_petition)
    if url.organizer_only:
        assert response.status_code == 403
    elif url.method == "get":
        assert response.status_code == 200
    else:
        assert response.status_code in (302, 400)


@pytest.mark.parametrize("url", STAFF_URLS, ids=lambda u: u.name)
def test_organizer_gets_through(client, url, campaign, draft_petition, organizer):
    client.force_login(organizer)
    response = _call(client, url, campaign, draft_petition)
    if url.site_organizer_only:
        assert response.status_code == 403
    elif url.method == "get":
        assert response.status_code == 200
    else:
        # Actions with an empty body answer with a form error (400) or a redirect back to the
        # petition (302), never with a refusal.
        assert response.status_code in (302, 400)


SITE_WIDE = [u for u in STAFF_URLS if u.site_organizer_only]


@pytest.mark.parametrize("url", SITE_WIDE, ids=lambda u: u.name)
def test_only_site_organizers_reach_site_wide_pages(
    client, url, campaign, draft_petition, moderator, outsider, site_organizer
):
    for member in (moderator, outsider):
        client.force_login(member)
        assert _call(client, url, campaign, draft_petition).status_code == 403
    client.force_login(site_organizer)
    assert _call(client, url, campaign, draft_petition).status_code == 200
