"""Organizers choose how a petition publishes (issue 6 part 3): on the petition form, with
the trade-off explained; once open only stricter; a warning when publication is immediate.
The public page says how publication works and what the total counts (part 6)."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from organizing.models import AuditEntry
from petition.models import Petition
from petition.services import petition_publish

pytestmark = pytest.mark.django_db


def _form_data(petition: Petition, **changes) -> dict:
    data = {
        "title": petition.title,
        "slug": petition.slug,
        "summary": petition.summary,
        "demands": petition.demands,
        "addressed_to": petition.addressed_to,
        "goal": petition.goal,
        "accepts_in_person": "on",
        "publish_interval": petition.publish_interval // 60,
        "publish_min_batch": petition.publish_min_batch,
        "publish_max_wait": petition.publish_max_wait // 3600,
    }
    data.update(changes)
    return data


def test_the_form_explains_the_trade_off_and_stores_seconds(client, organizer, draft_petition):
    client.force_login(organizer)
    url = reverse("staff:petition_edit", args=[draft_petition.slug])
    page = client.get(url).content.decode()
    assert "Publish at most every (minutes)" in page
    assert "withdrawals never count towards it" in page
    assert "hides among" not in page  # no promise the code cannot keep
    response = client.post(
        url,
        _form_data(draft_petition, publish_interval=90, publish_min_batch=8, publish_max_wait=36),
    )
    assert response.status_code == 302
    draft_petition.refresh_from_db()
    assert (
        draft_petition.publish_interval,
        draft_petition.publish_min_batch,
        draft_petition.publish_max_wait,
    ) == (5400, 8, 36 * 3600)


@pytest.mark.parametrize(
    ("field", "value"),
    [("publish_interval", -1), ("publish_min_batch", 0), ("publish_max_wait", 0)],
)
def test_the_form_refuses_values_out_of_range(client, organizer, draft_petition, field, value):
    client.force_login(organizer)
    url = reverse("staff:petition_edit", args=[draft_petition.slug])
    response = client.post(url, _form_data(draft_petition, **{field: value}))
    assert response.status_code == 200
    assert field in response.context["form"].errors


def test_an_open_petition_can_only_get_stricter(client, organizer, draft_petition):
    draft_petition.publish_interval, draft_petition.publish_min_batch = 3600, 5
    draft_petition.save()
    petition = petition_publish(petition=draft_petition)
    client.force_login(organizer)
    url = reverse("staff:petition_edit", args=[petition.slug])

    response = client.post(url, _form_data(petition, publish_min_batch=1, publish_interval=0))
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert errors["publish_min_batch"] == [
        "Once the petition is open, batches can only get larger."
    ]
    assert "publish_interval" in errors
    petition.refresh_from_db()
    assert (petition.publish_min_batch, petition.publish_interval) == (5, 3600)

    response = client.post(url, _form_data(petition, publish_min_batch=10, publish_interval=120))
    assert response.status_code == 302
    petition.refresh_from_db()
    assert (petition.publish_min_batch, petition.publish_interval) == (10, 7200)
    entry = AuditEntry.objects.filter(action="petition_update").latest("created_at")
    assert "publish_min_batch" in str(entry.details)


def test_the_staff_page_warns_when_publication_is_immediate(client, organizer, draft_petition):
    client.force_login(organizer)
    url = reverse("staff:petition", args=[draft_petition.slug])
    draft_petition.publish_interval, draft_petition.publish_min_batch = 0, 1
    draft_petition.save()
    assert "published the moment it is made" in client.get(url).content.decode()
    draft_petition.publish_interval, draft_petition.publish_min_batch = 3600, 5
    draft_petition.save()
    page = client.get(url).content.decode()
    assert "published the moment it is made" not in page
    assert "batches of at least 5 new signatures of one kind, at most every 1 hour" in page
    assert "(unsafe)" not in page


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def test_the_public_page_says_how_signatures_are_published(client, draft_petition):
    draft_petition.publish_interval, draft_petition.publish_min_batch = 3600, 5
    draft_petition.save()
    petition = petition_publish(petition=draft_petition)
    page = _text(client.get(petition.get_absolute_url()).content.decode())
    assert "only at the start of each 1 hour (by the clock)" in page
    assert "only if at least 5 new signatures of that kind go out at once" in page
    assert "once at least 5 people have signed the same way" in page
    assert "as soon as it is made" not in page

    petition.publish_interval, petition.publish_min_batch = 0, 1
    petition.save()
    page = _text(client.get(petition.get_absolute_url()).content.decode())
    assert "shows each new signature here as soon as it is made" in page


def test_the_public_page_says_the_total_counts_signatures_not_people(client, open_petition):
    page = _text(client.get(open_petition.get_absolute_url()).content.decode())
    assert "one person may sign once with each of them" in page
    assert "The total counts signatures, not people." in page


def test_a_single_method_petition_has_no_overlap_to_explain(client, draft_petition):
    petition = petition_publish(petition=draft_petition)  # in person only
    page = _text(client.get(petition.get_absolute_url()).content.decode())
    assert "signatures, not people" not in page


def test_the_dashboard_trend_is_the_published_gain_of_the_last_seven_days(draft_petition):
    import datetime

    from organizing.selectors import petition_week_gain
    from petition.models import PublicationBatch

    today = datetime.date(2026, 11, 27)
    for number, (days_ago, added, withdrawn, total_added, total_withdrawn) in enumerate(
        [(10, 6, 0, 6, 0), (3, 5, 1, 11, 1), (0, 5, 0, 16, 1)], start=1
    ):
        PublicationBatch.objects.create(
            petition=draft_petition,
            level="in_person",
            number=number,
            published_on=today - datetime.timedelta(days=days_ago),
            added=added,
            withdrawn=withdrawn,
            total_added=total_added,
            total_withdrawn=total_withdrawn,
        )
    assert petition_week_gain(draft_petition, today=today) == 9  # 15 now, 6 a week ago
