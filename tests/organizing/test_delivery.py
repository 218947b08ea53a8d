"""The delivery document: demands, counts by level, approved names and comments, key
fingerprints and how to check the log; only approved text, organizers only, recorded."""

from __future__ import annotations

import pytest
from django.urls import reverse

from organizing.models import AuditEntry
from petition.review import entry_approve, entry_hide
from petition.services import petition_close
from petition.tlog.services import log_identity
from tests.organizing.test_moderation import sign

pytestmark = pytest.mark.django_db


def _url(petition) -> str:
    return reverse("staff:delivery", kwargs={"slug": petition.slug})


def test_the_document_holds_what_the_recipient_needs(client, organizer, moderator, open_petition):
    shown = sign(open_petition, display_name="Ada", comment="Proud to sign")
    hidden = sign(open_petition, comment="My boss is Bob")
    sign(open_petition, comment="Never reviewed")
    entry_approve(signature=shown, actor=moderator)
    entry_hide(signature=hidden, actor=moderator, reason="identifies")
    petition_close(petition=open_petition)
    client.force_login(organizer)
    response = client.get(_url(open_petition))
    assert response.status_code == 200
    text = response.content.decode()
    assert "<strong>Stop</strong> the tracking" in text  # the demands, as markdown
    assert "3 verified signatures" in text
    assert "Proud to sign" in text and "Ada" in text
    assert "Bob" not in text and "Never reviewed" not in text
    for key in open_petition.keys.all():
        assert key.fingerprint in text
    assert f"/api/v1/petitions/{open_petition.slug}/log" in text
    entry = AuditEntry.objects.get(action="delivery_download")
    assert entry.actor_id == organizer.pk


def test_no_document_while_signing_is_open(client, organizer, open_petition):
    client.force_login(organizer)
    response = client.get(_url(open_petition))
    assert "once signing is closed" in response.content.decode()
    assert not AuditEntry.objects.filter(action="delivery_download").exists()


def test_moderators_cannot_download_it(client, moderator, open_petition):
    petition_close(petition=open_petition)
    client.force_login(moderator)
    assert client.get(_url(open_petition)).status_code == 403


def test_the_document_downloads_as_a_pdf_with_the_same_content(
    client, organizer, moderator, open_petition
):
    import io

    from pypdf import PdfReader

    shown = sign(open_petition, display_name="Ada", comment="Proud to sign")
    entry_approve(signature=shown, actor=moderator)
    petition_close(petition=open_petition)
    client.force_login(organizer)
    response = client.get(_url(open_petition) + "?format=pdf")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert "attachment" in response["Content-Disposition"]
    reader = PdfReader(io.BytesIO(response.content))
    text = " ".join(page.extract_text() for page in reader.pages)
    assert open_petition.title in text
    assert "1 verified signature" in text
    assert "Proud to sign" in text
    assert "Download as PDF" not in text
    # The transparency log's whole verifier key (the line wraps, so spaces are ignored).
    assert log_identity()["vkey"] in "".join(text.split())
    assert AuditEntry.objects.filter(action="delivery_download").count() == 1
