"""The safe floor of publication policies: outside DEBUG a policy with k < 5 or a longest wait
under a day is refused unless the operator overrides it; any policy below the floor is
called unsafe on the public page, the staff page and the API, and no page promises that
nobody can tell when one person signed."""

from __future__ import annotations

import re

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from petition.models import Petition
from petition.services import petition_publish

pytestmark = pytest.mark.django_db

PROMISE = "nobody can tell when one person signed"


@pytest.fixture
def floor_on(settings):
    """Production-like: DEBUG off and no override (test settings set the override)."""
    settings.DEBUG = False
    settings.COUNTERSIGN_ALLOW_UNSAFE_PUBLICATION = False


def _form_data(petition: Petition, **changes) -> dict:
    data = {
        "title": petition.title,
        "slug": petition.slug,
        "summary": petition.summary,
        "demands": petition.demands,
        "addressed_to": petition.addressed_to,
        "goal": petition.goal,
        "accepts_in_person": "on",
        "publish_interval": 60,
        "publish_min_batch": 5,
        "publish_max_wait": 24,
    }
    data.update(changes)
    return data


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def test_the_staff_form_refuses_k1_with_a_60_second_interval(
    floor_on, client, organizer, draft_petition
):
    """As first reproduced: `beta-k1`, k = 1 and interval 60 s, set on a draft."""
    client.force_login(organizer)
    url = reverse("staff:petition_edit", args=[draft_petition.slug])
    before = (draft_petition.publish_min_batch, draft_petition.publish_interval)
    response = client.post(url, _form_data(draft_petition, publish_interval=1, publish_min_batch=1))
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert "Choose 5 or more" in errors["publish_min_batch"][0]
    draft_petition.refresh_from_db()
    assert (draft_petition.publish_min_batch, draft_petition.publish_interval) == before

    response = client.post(url, _form_data(draft_petition, publish_max_wait=23))
    assert response.status_code == 200
    assert "24 hours or more" in response.context["form"].errors["publish_max_wait"][0]

    response = client.post(url, _form_data(draft_petition))  # at the floor: accepted
    assert response.status_code == 302


def test_the_model_refuses_a_policy_below_the_floor_unless_overridden(
    floor_on, settings, draft_petition
):
    draft_petition.publish_min_batch, draft_petition.publish_interval = 1, 60
    with pytest.raises(ValidationError) as refused:
        draft_petition.full_clean()
    assert set(refused.value.message_dict) == {"publish_min_batch"}
    draft_petition.publish_min_batch, draft_petition.publish_max_wait = 5, 3600
    with pytest.raises(ValidationError) as refused:
        draft_petition.full_clean()
    assert set(refused.value.message_dict) == {"publish_max_wait"}

    settings.COUNTERSIGN_ALLOW_UNSAFE_PUBLICATION = True  # the operator's explicit override
    draft_petition.full_clean()
    settings.COUNTERSIGN_ALLOW_UNSAFE_PUBLICATION = False
    settings.DEBUG = True  # the demo
    draft_petition.full_clean()


def test_a_policy_below_the_floor_is_called_unsafe_everywhere(client, organizer, draft_petition):
    """With the override on, `beta-k1` exists; no page calls it safe."""
    draft_petition.publish_min_batch, draft_petition.publish_interval = 1, 60
    draft_petition.save()
    petition = petition_publish(petition=draft_petition)

    api = client.get(f"/api/v1/petitions/{petition.slug}").json()["publication"]
    assert (api["immediate"], api["unsafe"]) == (False, True)
    page = _text(client.get(petition.get_absolute_url()).content.decode())
    assert PROMISE not in page
    assert "below the safe minimum" in page and "as few as 1 new signature" in page
    client.force_login(organizer)
    staff = _text(client.get(reverse("staff:petition", args=[petition.slug])).content.decode())
    assert "below the safe minimum" in staff and "(unsafe)" in staff


def test_a_safe_policy_says_what_it_gives_and_nothing_more(client, draft_petition):
    draft_petition.publish_min_batch, draft_petition.publish_interval = 5, 3600
    draft_petition.save()
    petition = petition_publish(petition=draft_petition)
    assert client.get(f"/api/v1/petitions/{petition.slug}").json()["publication"]["unsafe"] is False
    page = _text(client.get(petition.get_absolute_url()).content.decode())
    assert PROMISE not in page and "below the safe minimum" not in page
    assert "once at least 5 people have signed the same way" in page
    assert "otherwise when the petition closes" in page
    assert "one of at least 5 new ones in its batch, unless the others" in page


def test_a_draft_saved_below_the_floor_cannot_be_published(
    floor_on, client, organizer, draft_petition
):
    """A draft stored with k = 1 (before the floor, or while DEBUG was on) stays a draft."""
    Petition.objects.filter(pk=draft_petition.pk).update(publish_min_batch=1)
    client.force_login(organizer)
    response = client.post(reverse("staff:petition_publish", args=[draft_petition.slug]))
    assert response.status_code == 302
    draft_petition.refresh_from_db()
    assert draft_petition.status == Petition.Status.DRAFT
    assert not draft_petition.keys.exists()
    page = client.get(response.url).content.decode()
    assert "Choose 5 or more" in page
