"""A compromised key is invalidated by two organizers: then nothing signed with it counts,
it issues and accepts nothing, and the public keys and page say so."""

from __future__ import annotations

import json

import pytest
from django.db import IntegrityError, transaction
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from organizing.models import AuditEntry, Role
from petition.invalidation import (
    InvalidationError,
    key_invalidation_confirm,
    key_invalidation_request,
)
from petition.models import KeyInvalidation
from petition.selectors import petition_count_history, petition_counts
from tests.factories import MembershipFactory
from tests.organizing.test_moderation import sign
from tests.signing_client import mint

pytestmark = pytest.mark.django_db


@pytest.fixture
def second_organizer(campaign):
    return MembershipFactory(campaign=campaign, role=Role.ORGANIZER).user


def _urls(petition, key):
    kwargs = {"slug": petition.slug, "key_id": key.pk}
    return (
        reverse("staff:key_invalidation_request", kwargs=kwargs),
        reverse("staff:key_invalidation_confirm", kwargs=kwargs),
    )


def test_two_organizers_invalidate_a_key_and_its_signatures_stop_counting(
    client, organizer, second_organizer, open_petition
):
    for _ in range(2):
        sign(open_petition)
    key = open_petition.keys.get(level="in_person")
    assert petition_counts(open_petition)["in_person"] == 2
    assert petition_count_history(open_petition)[-1][1] == 2
    ask, confirm = _urls(open_petition, key)

    client.force_login(organizer)
    client.post(ask, {"reason": "a laptop with the key backup was stolen"})
    assert petition_counts(open_petition)["in_person"] == 2  # one organizer changes nothing
    client.post(confirm)  # nor can they confirm their own request
    key.refresh_from_db()
    assert key.invalidated_at is None

    client.force_login(second_organizer)
    client.post(confirm)
    key.refresh_from_db()
    assert key.invalidated_at is not None
    counts = petition_counts(open_petition)
    assert counts["in_person"] == 0 and counts["total"] == 0
    # The growth charts draw the same count: no line ending above the page's total.
    assert [total for _day, total in petition_count_history(open_petition)] in ([], [0])
    entries = AuditEntry.objects.filter(action__startswith="key_inv").order_by("id")
    actions = list(entries.values_list("action", "actor_id"))
    assert actions == [
        ("key_invalidate_request", organizer.pk),
        ("key_invalidate", second_organizer.pk),
    ]

    client.logout()
    keys = client.get(f"/api/v1/petitions/{open_petition.slug}/keys").json()["keys"]
    entry = next(k for k in keys if k["level"] == "in_person")
    assert entry["invalidated_at"] and "stolen" in entry["invalidation_reason"]
    page = client.get(open_petition.get_absolute_url()).content.decode()
    assert "Invalidated on" in page and "stolen" in page


def test_an_invalidated_key_issues_and_accepts_nothing(organizer, second_organizer, open_petition):
    credential = mint(open_petition)  # minted before the invalidation
    key = open_petition.keys.get(level="in_person")
    pending = key_invalidation_request(key=key, actor=organizer, reason="leaked")
    key_invalidation_confirm(invalidation=pending, actor=second_organizer)
    response = Client().post(
        f"/api/v1/petitions/{open_petition.slug}/signatures",
        json.dumps(credential.payload()),
        content_type="application/json",
    )
    assert (response.status_code, response.json()["error"]["code"]) == (403, "key_invalidated")
    response = Client().post(
        f"/api/v1/petitions/{open_petition.slug}/credentials",
        json.dumps({"level": "in_person", "blinded_msg": "AA", "code": "x"}),
        content_type="application/json",
    )
    assert (response.status_code, response.json()["error"]["code"]) == (403, "key_invalidated")


def test_the_requester_cannot_confirm_through_the_service_or_the_database(organizer, open_petition):
    key = open_petition.keys.get(level="in_person")
    pending = key_invalidation_request(key=key, actor=organizer, reason="leaked")
    with pytest.raises(InvalidationError):
        key_invalidation_confirm(invalidation=pending, actor=organizer)
    with pytest.raises(IntegrityError), transaction.atomic():
        KeyInvalidation.objects.filter(pk=pending.pk).update(
            confirmed_by=organizer, confirmed_at=timezone.now()
        )
    key.refresh_from_db()
    assert key.invalidated_at is None


def test_moderators_can_neither_ask_nor_confirm(client, moderator, organizer, open_petition):
    key = open_petition.keys.get(level="in_person")
    ask, confirm = _urls(open_petition, key)
    client.force_login(moderator)
    assert client.post(ask, {"reason": "x"}).status_code == 403
    key_invalidation_request(key=key, actor=organizer, reason="leaked")
    assert client.post(confirm).status_code == 403
    with pytest.raises(InvalidationError):
        key_invalidation_confirm(invalidation=key.invalidation, actor=moderator)
    key.refresh_from_db()
    assert key.invalidated_at is None


def test_a_reason_is_required_and_one_request_per_key(organizer, open_petition):
    key = open_petition.keys.get(level="in_person")
    with pytest.raises(InvalidationError):
        key_invalidation_request(key=key, actor=organizer, reason="  ")
    key_invalidation_request(key=key, actor=organizer, reason="leaked")
    with pytest.raises(InvalidationError):
        key_invalidation_request(key=key, actor=organizer, reason="again")
    assert KeyInvalidation.objects.count() == 1
