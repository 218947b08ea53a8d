"""Every code link the server prints carries the level and the key-id prefix (`&k=`), so the
browser client can refuse a key other than the one the code was made for (the server could otherwise
hand one signer a key of its own and recognise their signature)."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from organizing.demo import demo_codes, seed_demo
from organizing.models import PrintRun, User
from petition.keys import key_id_prefix
from petition.services import petition_publish
from tests.factories import form_key

from .flyers.helpers import decode_qr_codes

pytestmark = pytest.mark.django_db


def test_code_cards_link_to_the_code_with_its_key_prefix(client, moderator, draft_petition):
    petition = petition_publish(petition=draft_petition)
    prefix = key_id_prefix(bytes(petition.keys.get(level="in_person").key_id))
    client.force_login(moderator)
    response = client.post(
        reverse("staff:code_batches", kwargs={"slug": petition.slug}),
        {"level": "in_person", "size": "10", "form_key": form_key()},
    )
    run = PrintRun.objects.get()
    assert response["Location"].endswith(f"/prints/{run.pk}/")
    links = decode_qr_codes(run.file.read())  # the cards' QR codes, read from pixels
    base = re.escape(f"http://127.0.0.1:8000/p/{petition.slug}/")
    pattern = base + r"#code=[0-9A-Z]{10}&level=in_person&k=" + re.escape(prefix)
    assert len(links) == 10
    assert all(re.fullmatch(pattern, link) for link in links)


def test_demo_code_links_carry_the_key_prefix_and_its_organizer_may_create_campaigns():
    petition, _accounts = seed_demo()
    prefix = key_id_prefix(bytes(petition.keys.get(level="in_person").key_id))
    for code, fragment in demo_codes(petition):
        assert fragment == f"#code={code}&level=in_person&k={prefix}"
    assert User.objects.get(email="organizer@acme.example").is_site_organizer
    assert not User.objects.get(email="moderator@acme.example").is_site_organizer
