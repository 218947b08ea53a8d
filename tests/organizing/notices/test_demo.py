"""`make run`: tasks in-process, the demo publishes each signature at once, so the first
signature prints a milestone mail (here: Django's test outbox stands in for the console)."""

from __future__ import annotations

import json

import pytest
from django.core import mail

from organizing.demo import DEMO_EMAILS, seed_demo
from tests.signing_client import mint

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_first_demo_signature_mails_the_organizer_a_milestone(client):
    petition, _accounts = seed_demo()
    assert petition.publishes_immediately
    response = client.post(
        f"/api/v1/petitions/{petition.slug}/signatures",
        json.dumps(mint(petition).payload()),
        content_type="application/json",
    )
    assert response.status_code == 201
    organizer = next(email for email, role in DEMO_EMAILS.items() if role == "organizer")
    milestone_mails = [m for m in mail.outbox if petition.title in m.subject]
    assert [m.to for m in milestone_mails] == [[organizer]]
    assert milestone_mails[0].subject == f"“{petition.title}” passed 1 signature"
