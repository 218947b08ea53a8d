"""Flyer batches: /f/<code> counts scans per batch and day only, exactly, even under load;
counts below 5 are never shown; a retired batch still leads to the petition, uncounted."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest
from django.apps import apps
from django.db import connection
from django.test import Client
from django.urls import reverse

from organizing.flyers import selectors
from organizing.flyers.services import flyer_batch_create, flyer_batch_retire
from organizing.models import FlyerBatch, FlyerScanDay

pytestmark = pytest.mark.django_db


@pytest.fixture
def batch(open_petition):
    return flyer_batch_create(
        petition=open_petition,
        label="Building 20, 2nd floor",
        design="poster",
        paper="a4",
        copies=40,
    )


def scans(batch) -> int:
    return sum(FlyerScanDay.objects.filter(batch=batch).values_list("scans", flat=True))


def row_counts() -> dict[str, int]:
    return {m._meta.label: m.objects.count() for m in apps.get_models()}


def test_a_scan_redirects_to_the_petition_and_counts_once(client, batch, open_petition):
    response = client.get(f"/f/{batch.code}")
    assert response.status_code == 302
    assert response["Location"] == open_petition.get_absolute_url()
    assert response["Referrer-Policy"] == "no-referrer"
    assert "no-store" in response["Cache-Control"]
    assert not response.cookies
    assert scans(batch) == 1


def test_a_scan_stores_nothing_but_the_days_counter(client, batch):
    client.get(f"/f/{batch.code}")
    before = row_counts()
    for _ in range(3):
        client.get(f"/f/{batch.code.upper()}")
    assert row_counts() == before  # no row per scan, anywhere
    (day,) = FlyerScanDay.objects.filter(batch=batch)
    assert day.scans == 4
    fields = {f.name for f in FlyerScanDay._meta.get_fields()}
    assert fields == {"id", "batch", "day", "scans"}  # a date, never a time or an address


def test_unknown_codes_and_draft_petitions_get_not_found(client, draft_petition):
    assert client.get("/f/zzzzzz").status_code == 404
    draft_batch = flyer_batch_create(
        petition=draft_petition, label="early", design="poster", paper="a4", copies=1
    )
    response = client.get(f"/f/{draft_batch.code}")
    assert response.status_code == 404
    assert not response.cookies
    assert not FlyerScanDay.objects.exists()


def test_a_retired_batch_redirects_without_counting(client, batch, open_petition):
    assert flyer_batch_retire(batch=batch)
    response = client.get(f"/f/{batch.code}")
    assert response.status_code == 302
    assert response["Location"] == open_petition.get_absolute_url()
    assert scans(batch) == 0


def test_a_head_request_from_a_link_preview_is_not_counted(client, batch):
    assert client.head(f"/f/{batch.code}").status_code == 302
    assert scans(batch) == 0


@pytest.mark.django_db(transaction=True)
def test_two_hundred_concurrent_scans_count_exactly(open_petition):
    assert connection.vendor == "postgresql"
    batch = flyer_batch_create(
        petition=open_petition, label="canteen", design="poster", paper="a4", copies=1
    )

    def scan(_):
        try:
            return Client().get(f"/f/{batch.code}").status_code
        finally:
            connection.close()

    # 32 threads at a time: the first scans of the day race to insert the counter row.
    with ThreadPoolExecutor(max_workers=32) as pool:
        statuses = list(pool.map(scan, range(200), timeout=300))
    assert statuses == [302] * 200
    assert FlyerScanDay.objects.filter(batch=batch).count() == 1
    assert scans(batch) == 200


@pytest.mark.parametrize("total, shown", [(0, None), (1, None), (4, None), (5, 5), (37, 37)])
def test_counts_below_five_are_never_shown(total, shown):
    assert selectors.shown_scans(total) == shown


def test_the_flyer_page_says_fewer_than_five_until_there_are_five(client, organizer, batch):
    client.force_login(organizer)
    url = reverse("staff:flyers", kwargs={"slug": batch.petition.slug})
    for _ in range(4):
        Client().get(f"/f/{batch.code}")
    row = _batch_row(client.get(url).content.decode(), batch)
    assert "fewer than 5" in row and 'data-label="Scans">4</td>' not in row
    Client().get(f"/f/{batch.code}")
    row = _batch_row(client.get(url).content.decode(), batch)
    assert 'data-label="Scans">5</td>' in row and "fewer than" not in row


def _batch_row(html: str, batch: FlyerBatch) -> str:
    start = html.index(f'data-label="Where">{batch.label}</td>')
    return html[start : html.index("</tr>", start)]


def test_organizer_retires_a_batch_from_the_flyer_page(client, organizer, batch):
    client.force_login(organizer)
    response = client.post(
        reverse(
            "staff:flyer_batch_retire", kwargs={"slug": batch.petition.slug, "batch_id": batch.pk}
        )
    )
    assert response.status_code == 302
    batch.refresh_from_db()
    assert batch.retired_at is not None


def test_the_digest_and_dashboard_see_petition_scans_only_from_five_up(
    client, batch, open_petition
):
    from organizing.milestones.selectors import flyer_scans

    other = flyer_batch_create(
        petition=open_petition, label="Canteen", design="halves", paper="a4", copies=10
    )
    for _ in range(2):
        client.get(f"/f/{batch.code}")
    client.get(f"/f/{other.code}")
    assert flyer_scans(open_petition) is None  # 3 scans: below the floor
    for _ in range(3):
        client.get(f"/f/{other.code}")
    assert flyer_scans(open_petition) == 6
