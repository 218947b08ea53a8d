"""Flyer batches: /f/<code> counts scans per batch and day only, exactly, even under load;
counts are shown as of yesterday in steps of 5; a retired batch, and a scan past the
per-address limit, still lead to the petition, uncounted."""

from __future__ import annotations

import re
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from django.apps import apps
from django.db import connection
from django.db.models import F
from django.test import Client
from django.urls import reverse
from django.utils import timezone

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


@pytest.mark.parametrize(
    "total, shown", [(0, None), (1, None), (4, None), (5, 5), (6, 5), (9, 5), (10, 10), (37, 35)]
)
def test_counts_are_shown_in_steps_of_five_and_never_below_five(total, shown):
    assert selectors.shown_scans(total) == shown


def midnight_passes() -> None:
    """What the clock does to the counters: today's counts become yesterday's."""
    FlyerScanDay.objects.update(day=F("day") - timedelta(days=1))


def test_the_flyer_page_says_fewer_than_five_until_there_were_five_yesterday(
    client, organizer, batch
):
    client.force_login(organizer)
    url = reverse("staff:flyers", kwargs={"slug": batch.petition.slug})
    for _ in range(4):
        Client().get(f"/f/{batch.code}")
    midnight_passes()
    row = _batch_row(client.get(url).content.decode(), batch)
    assert "fewer than 5" in row and 'data-label="Scans">4</td>' not in row
    Client().get(f"/f/{batch.code}")
    row = _batch_row(client.get(url).content.decode(), batch)
    assert "fewer than 5" in row  # the fifth scan is today's: not shown before tomorrow
    midnight_passes()
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


def test_the_digest_and_dashboard_see_the_sum_of_the_rounded_batch_figures(
    client, batch, open_petition
):
    from organizing.notices.selectors import flyer_scans

    other = flyer_batch_create(
        petition=open_petition, label="Canteen", design="halves", paper="a4", copies=10
    )
    for _ in range(2):
        client.get(f"/f/{batch.code}")
    client.get(f"/f/{other.code}")
    midnight_passes()
    assert flyer_scans(open_petition) is None  # 3 scans: no batch reaches a step
    for _ in range(6):
        client.get(f"/f/{other.code}")
    assert flyer_scans(open_petition) is None  # today's scans wait for tomorrow
    midnight_passes()
    assert flyer_scans(open_petition) == 5  # 2 → hidden, 7 → 5: never 9


# --- an organizer who scans his own batch must not see a colleague's scan ------------------


def _staff_pages(client, petition) -> tuple[str, str]:
    designer = client.get(reverse("staff:flyers", kwargs={"slug": petition.slug}))
    staff = client.get(reverse("staff:petition", kwargs={"slug": petition.slug}))
    assert designer.status_code == staff.status_code == 200
    return designer.content.decode(), staff.content.decode()


def _figures(html: str) -> list[str]:
    """Every number shown as a scan figure: the designer's cells and the dashboard's line."""
    cells = re.findall(r'data-label="Scans">([^<]*)</td>', html)
    total = re.findall(r"<dt>Flyer scans</dt><dd>([\d,]+)", html)
    return cells + total


def test_one_more_scan_never_moves_a_figure_and_a_small_batch_stays_hidden(
    client, organizer, batch, open_petition, django_capture_on_commit_callbacks
):
    from organizing.models import Delivery, Notice
    from organizing.notices.messages import email_message
    from organizing.notices.services import digest_record

    client.force_login(organizer)
    # The organizer scans his own batch 5 times: nothing shows today.
    for _ in range(5):
        Client().get(f"/f/{batch.code}")
    designer, staff = _staff_pages(client, open_petition)
    assert "fewer than 5" in _batch_row(designer, batch)
    assert "Flyer scans" not in staff
    midnight_passes()
    designer, staff = _staff_pages(client, open_petition)
    assert 'data-label="Scans">5</td>' in _batch_row(designer, batch)
    before = (_figures(designer), _figures(staff))
    assert before == (["5"], ["5"])

    # A colleague scans once; the organizer reloads: no figure moves today.
    Client().get(f"/f/{batch.code}")
    designer, staff = _staff_pages(client, open_petition)
    assert (_figures(designer), _figures(staff)) == before
    assert "as of yesterday, in steps of 5" in staff

    # Tomorrow still: 6 is shown as 5.
    midnight_passes()
    designer, staff = _staff_pages(client, open_petition)
    assert (_figures(designer), _figures(staff)) == before

    # A second batch in a small room, scanned twice: no page reveals those two scans, not
    # even the petition total minus the first batch.
    small = flyer_batch_create(
        petition=open_petition, label="Small room 3B", design="poster", paper="a4", copies=2
    )
    for _ in range(2):
        Client().get(f"/f/{small.code}")
    midnight_passes()
    designer, staff = _staff_pages(client, open_petition)
    assert "fewer than 5" in _batch_row(designer, small)
    assert sorted(_figures(designer)) == ["5", "fewer than 5"]
    assert _figures(staff) == ["5"]  # not 8, and not 6 + 2

    # The digest mails the same rounded figure, and no day-to-day change of it.
    with django_capture_on_commit_callbacks(execute=False):
        notice = digest_record(petition=open_petition, day=timezone.now().date())
    assert notice.data["flyer_scans"] == 5
    assert "flyer_scans_change" not in notice.data
    delivery = Delivery.objects.filter(notice=notice).first() or Delivery(
        notice=Notice.objects.get(pk=notice.pk)
    )
    _subject, body = email_message(delivery)
    assert "Flyer scans: 5 (as of yesterday, in steps of 5)" in body
    assert "8" not in body.split("Flyer scans")[1].splitlines()[0]


# --- /f/<code> fetched repeatedly must not count every GET ----------------------------------


OFFICE, HOME = "198.51.100.7", "203.0.113.9"


def test_scans_past_the_per_address_limit_still_redirect_but_are_not_counted(
    client, batch, open_petition, settings
):
    import redis
    from django.core.cache import cache

    # The limit as declared (60 per address and 10 minutes), not the tests' raised one.
    settings.COUNTERSIGN_RATE_LIMITS = {}
    cache.clear()
    statuses = {client.get(f"/f/{batch.code}", REMOTE_ADDR=OFFICE).status_code for _ in range(65)}
    assert statuses == {302}  # never a 429: a reader always reaches the petition
    assert scans(batch) == 60
    # Another address still counts; the limit is per address, not per batch.
    response = client.get(f"/f/{batch.code}", REMOTE_ADDR=HOME)
    assert response.status_code == 302
    assert response["Location"] == open_petition.get_absolute_url()
    assert not response.cookies
    assert scans(batch) == 61
    # Redis holds keyed hashes that expire with the window, never the address.
    r = redis.Redis.from_url(settings.REDIS_URL)
    ours = settings.CACHES["default"]["KEY_PREFIX"]  # other workers share this Redis
    keys = [k for k in r.keys(f"{ours}:*") if b":rl:flyer_scans:" in k]
    assert len(keys) == 2
    for key in keys:
        assert OFFICE.encode() not in key and HOME.encode() not in key
        assert 0 < r.ttl(key) <= 600


def test_a_scan_still_reaches_the_petition_when_the_cache_is_down(
    client, batch, open_petition, settings
):
    # A real Redis client against a port where nothing listens.
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",
        }
    }
    response = client.get(f"/f/{batch.code}")
    assert response.status_code == 302
    assert response["Location"] == open_petition.get_absolute_url()
    assert scans(batch) == 0
