"""The public petition page and `GET /api/v1/petitions/<slug>` kept rendered between the
writes that change them (petition/pagecache.py, issue 19 item 1): a kept answer is served
without touching the database, changes right after each such write commits, is never served
in another language or to a visitor on the employer's network, sets no cookie, and answers a
conditional GET with 304."""

from __future__ import annotations

import datetime
import json
import random
import re
import time

import pytest
from django.core.cache import cache
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from organizing.models import Campaign
from organizing.services import campaign_update
from petition import pagecache, publication, publication_policy
from petition.models import Petition
from petition.review import entry_approve
from petition.services import petition_close, petition_publish, petition_update
from tests.signing_client import b64, mint

pytestmark = pytest.mark.django_db


@pytest.fixture
def page_cache(settings):
    settings.COUNTERSIGN_PAGE_CACHE = True
    # As in production: each process also serves what it kept for a moment. Every write
    # below goes through this process, so each must still show at once.
    settings.COUNTERSIGN_PAGE_MEMORY_SECONDS = 1
    cache.clear()
    pagecache.forget_in_process()
    yield
    cache.clear()
    pagecache.forget_in_process()


@pytest.fixture
def batched_petition(draft_petition):
    """The production policy: at most one batch an hour, of at least 5 new signatures."""
    draft_petition.publish_interval = 3600
    draft_petition.publish_min_batch = 5
    draft_petition.publish_max_wait = 86400
    draft_petition.save()
    return petition_publish(petition=draft_petition)


def slot(hours: int) -> datetime.datetime:
    """Half a minute past the hour boundary `hours` after the current one."""
    start = publication_policy.slot_start(timezone.now(), 3600)
    return start + datetime.timedelta(hours=hours, seconds=30)


def page_count(response) -> int:
    found = re.search(rb"<strong data-count>([\d,]+)</strong>", response.content)
    assert found, response.content[:300]
    return int(found.group(1).replace(b",", b""))


def api_total(client, petition) -> int:
    response = client.get(f"/api/v1/petitions/{petition.slug}")
    assert response.status_code == 200
    return response.json()["counts"]["total"]


def sign(client, petition, credential, **extra):
    response = client.post(
        f"/api/v1/petitions/{petition.slug}/signatures",
        json.dumps(credential.payload(**extra)),
        content_type="application/json",
    )
    assert response.status_code == 201, response.content
    return response


def test_a_kept_page_is_served_without_the_database_and_changes_after_a_batch_commits(
    page_cache, batched_petition, django_capture_on_commit_callbacks
):
    client = Client()
    path = f"/p/{batched_petition.slug}/"
    assert page_count(client.get(path)) == 0 and api_total(client, batched_petition) == 0
    with CaptureQueriesContext(connection) as queries:
        assert page_count(client.get(path)) == 0
        assert api_total(client, batched_petition) == 0
    assert len(queries) == 0, [q["sql"] for q in queries]

    # Signatures wait for their batch: the kept answers are still right.
    credentials = [mint(batched_petition) for _ in range(5)]
    for credential in credentials:
        with django_capture_on_commit_callbacks(execute=True):
            sign(client, batched_petition, credential)
    assert page_count(client.get(path)) == 0 and api_total(client, batched_petition) == 0

    with django_capture_on_commit_callbacks(execute=True):
        batches = publication.petition_publish_pending(
            petition_id=batched_petition.id, now=slot(1), rng=random.Random(0)
        )
    assert sum(batch.added for batch in batches) == 5
    assert page_count(client.get(path)) == 5
    assert api_total(client, batched_petition) == 5

    # A published withdrawal: the count drops with its batch, not before.
    with django_capture_on_commit_callbacks(execute=True):
        withdrawn = client.post(
            f"/api/v1/petitions/{batched_petition.slug}/withdrawals",
            json.dumps({"token": b64(credentials[0].token)}),
            content_type="application/json",
        )
    assert withdrawn.status_code == 200, withdrawn.content
    assert page_count(client.get(path)) == 5
    with django_capture_on_commit_callbacks(execute=True):
        # Closing publishes what waits: the withdrawal goes out with the closing batch.
        petition_close(petition=batched_petition)
    closed = client.get(path)
    assert page_count(closed) == 4
    assert b'id="closed-on"' in closed.content
    assert client.get(f"/api/v1/petitions/{batched_petition.slug}").json()["status"] == "closed"


def test_an_edit_of_the_petition_or_its_campaign_shows_at_once(
    page_cache, open_petition, django_capture_on_commit_callbacks
):
    client = Client()
    path = f"/p/{open_petition.slug}/"
    assert b"A new summary" not in client.get(path).content
    with django_capture_on_commit_callbacks(execute=True):
        petition_update(petition=open_petition, summary="A new summary")
    assert b"A new summary" in client.get(path).content
    with django_capture_on_commit_callbacks(execute=True):
        campaign_update(campaign=open_petition.campaign, name="Renamed campaign")
    assert b"Renamed campaign" in client.get(path).content
    goal = client.get(f"/api/v1/petitions/{open_petition.slug}").json()["goal"]
    with django_capture_on_commit_callbacks(execute=True):
        petition_update(petition=open_petition, goal=goal + 100)
    assert client.get(f"/api/v1/petitions/{open_petition.slug}").json()["goal"] == goal + 100


def test_a_moderation_decision_shows_at_once(
    page_cache, open_petition, moderator, django_capture_on_commit_callbacks
):
    client = Client()
    path = f"/p/{open_petition.slug}/"
    with django_capture_on_commit_callbacks(execute=True):
        sign(client, open_petition, mint(open_petition), display_name="Ada from Shipping")
    assert b"Ada from Shipping" not in client.get(path).content  # waits for review
    signature = open_petition.signatures.get()
    with django_capture_on_commit_callbacks(execute=True):
        entry_approve(signature=signature, actor=moderator)
    assert b"Ada from Shipping" in client.get(path).content


def test_one_language_is_never_served_for_another(page_cache, open_petition):
    client = Client()
    path = f"/p/{open_petition.slug}/"
    english = client.get(path)
    assert b'<html lang="en"' in english.content
    assert "Accept-Language" in english["Vary"]
    spanish = client.get(path, HTTP_ACCEPT_LANGUAGE="es")
    assert b'<html lang="es"' in spanish.content
    assert client.get(f"/ar/p/{open_petition.slug}/").content.count(b'<html lang="ar"') == 1
    prefixed = client.get(f"/es/p/{open_petition.slug}/", HTTP_ACCEPT_LANGUAGE="ar")
    assert b'<html lang="es"' in prefixed.content
    assert "Accept-Language" not in prefixed.get("Vary", "")
    assert b'<html lang="en"' in client.get(path, HTTP_ACCEPT_LANGUAGE="en").content
    assert b'<html lang="ar"' in client.get(path, HTTP_ACCEPT_LANGUAGE="ar").content


def no_networks(petition) -> None:
    """The factory's campaign lists an employer network; most deployments list none."""
    Campaign.objects.filter(pk=petition.campaign_id).update(employer_networks=[])


def test_no_cookie_an_etag_and_a_304(page_cache, open_petition):
    no_networks(open_petition)
    client = Client()
    for path in (f"/p/{open_petition.slug}/", f"/api/v1/petitions/{open_petition.slug}"):
        first = client.get(path)
        assert first.status_code == 200
        assert not first.cookies and "Set-Cookie" not in first
        assert first["Cache-Control"] == "public, max-age=60"
        etag = first["ETag"]
        again = client.get(path, HTTP_IF_NONE_MATCH=etag)
        assert again.status_code == 304 and again.content == b""
        assert again["ETag"] == etag and not again.cookies
        other = client.get(path, HTTP_IF_NONE_MATCH='"something-else"')
        assert other.status_code == 200 and other.content == first.content


def test_the_employer_network_warning_is_per_visitor_and_never_shared(
    page_cache, open_petition, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        campaign_update(campaign=open_petition.campaign, employer_networks=["203.0.113.0/24"])
    path = f"/p/{open_petition.slug}/"
    warning = b"network-warning"
    for _round in range(2):  # rendered, then kept
        inside = Client(REMOTE_ADDR="203.0.113.9").get(path)
        outside = Client(REMOTE_ADDR="198.51.100.4").get(path)
        assert warning in inside.content and warning not in outside.content
        assert inside["Cache-Control"] == outside["Cache-Control"] == "private, no-cache"
        assert inside["ETag"] != outside["ETag"]


def test_an_unknown_slug_is_a_clean_404_and_leaves_nothing_kept(page_cache, db):
    client = Client()
    assert client.get("/p/no-such-petition/").status_code == 404
    response = client.get("/api/v1/petitions/no-such-petition")
    assert response.status_code == 404 and response.json()["error"]["code"] == "not_found"
    assert cache.get("pages:generation:no-such-petition") is None


def test_headers_without_the_app_cache(open_petition):
    """Tests run with the app cache off: the HTTP caching headers are there anyway."""
    no_networks(open_petition)
    response = Client().get(f"/p/{open_petition.slug}/")
    assert response.status_code == 200 and response["ETag"]
    assert response["Cache-Control"] == "public, max-age=60"


def test_a_change_made_through_another_process_shows_once_the_memory_moment_is_over(
    page_cache, settings, open_petition
):
    settings.COUNTERSIGN_PAGE_MEMORY_SECONDS = 0.5
    client = Client()
    path = f"/p/{open_petition.slug}/"
    assert b"Changed elsewhere" not in client.get(path).content
    # Another worker edits the petition: the rows change and the generation in Redis is
    # replaced, but nothing runs in this process.
    Petition.objects.filter(pk=open_petition.pk).update(summary="Changed elsewhere")
    cache.set(
        pagecache._generation_key(open_petition.slug),
        "another-worker",
        pagecache.GENERATION_SECONDS,
    )
    with CaptureQueriesContext(connection) as queries:
        kept = client.get(path)
    assert b"Changed elsewhere" not in kept.content and len(queries) == 0
    deadline = time.monotonic() + 5
    while b"Changed elsewhere" not in client.get(path).content:
        assert time.monotonic() < deadline, "the change never showed"
        time.sleep(0.1)
