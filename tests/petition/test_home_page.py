"""The home page lists each campaign with its public petitions: one tap to a petition."""

from __future__ import annotations

import pytest
from django.urls import reverse

from tests.factories import PetitionFactory

pytestmark = pytest.mark.django_db


def test_home_links_straight_to_public_petitions_but_not_drafts(client, published_petition):
    draft = PetitionFactory(campaign=published_petition.campaign, title="Secret draft")
    page = client.get(reverse("petition:home")).content.decode()
    assert f'href="{published_petition.get_absolute_url()}"' in page
    assert published_petition.campaign.name in page
    assert draft.title not in page and draft.get_absolute_url() not in page
