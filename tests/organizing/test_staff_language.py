"""Staff choose their language in their account; their pages and every mail to them use it.
The signer's work-email code mail is in the language of the page that asked (issue 18, item 2).
"""

from __future__ import annotations

import json
import re

import pytest
from django.core import mail
from django.test import override_settings
from django.utils import translation

from organizing.models import Invitation, Role
from organizing.notices.alerts import moderation_alert_mail
from organizing.services import invitation_create
from tests.catalogues import compile_catalogue

pytestmark = pytest.mark.django_db


@pytest.fixture
def spanish(tmp_path):
    """A Spanish catalogue with the few messages these tests read."""
    compile_catalogue(
        tmp_path,
        "es",
        [
            ("Your Countersign code", "Tu código de Countersign"),
            ("You are invited to help organize %(name)s", "Te invitan a organizar %(name)s"),
            ("Waiting for moderation in %(name)s", "Esperando moderación en %(name)s"),
            ("Language saved.", "Idioma guardado."),
            ("My account", "Mi cuenta"),
        ],
    )
    with override_settings(LOCALE_PATHS=[tmp_path]):
        yield
    translation.activate("en")


def html_lang(response) -> str:
    return re.search(r'<html lang="([^"]+)"', response.content.decode()).group(1)


def test_the_account_page_saves_a_language_and_shows_the_next_page_in_it(
    client, organizer, spanish
):
    client.force_login(organizer)
    assert client.get("/staff/account/").status_code == 200
    response = client.post("/staff/account/", {"language": "es"})
    assert (response.status_code, response["Location"]) == (302, "/es/staff/account/")
    organizer.refresh_from_db()
    assert organizer.language == "es"
    page = client.get(response["Location"])
    assert "Idioma guardado." in page.content.decode()
    assert "<h1>Mi cuenta</h1>" in page.content.decode()


def test_the_browsers_language_is_a_choice_too(client, organizer):
    organizer.language = "ar"
    organizer.save()
    client.force_login(organizer)
    response = client.post("/ar/staff/account/", {"language": ""})
    assert (response.status_code, response["Location"]) == (302, "/staff/account/")
    organizer.refresh_from_db()
    assert organizer.language == ""


def test_a_language_not_shipped_is_refused_and_changes_nothing(client, organizer):
    client.force_login(organizer)
    response = client.post("/staff/account/", {"language": "fr"})
    assert response.status_code == 400
    organizer.refresh_from_db()
    assert organizer.language == ""


def test_unprefixed_staff_pages_follow_the_account_not_the_browser(client, organizer):
    organizer.language = "ar"
    organizer.save()
    client.force_login(organizer)
    response = client.get("/staff/", HTTP_ACCEPT_LANGUAGE="es")
    assert html_lang(response) == "ar"
    assert 'dir="rtl"' in response.content.decode()
    # An address with a prefix still wins: the switcher works for staff too.
    assert html_lang(client.get("/es/staff/")) == "es"


def test_an_invitation_is_written_in_the_inviters_language(
    campaign, organizer, spanish, django_capture_on_commit_callbacks
):
    organizer.language = "es"
    organizer.save()
    with django_capture_on_commit_callbacks(execute=True):
        invitation_create(
            email="new@example.org", role=Role.MODERATOR, campaign=campaign, invited_by=organizer
        )
    assert mail.outbox[-1].subject.endswith(f"Te invitan a organizar {campaign.name}")
    assert "/es/invitations/" in mail.outbox[-1].body
    assert Invitation.objects.get().email == "new@example.org"


def test_an_invitation_to_an_existing_account_uses_that_accounts_language(
    campaign, organizer, outsider, spanish, django_capture_on_commit_callbacks
):
    outsider.language = "es"
    outsider.save()
    with django_capture_on_commit_callbacks(execute=True):
        invitation_create(
            email=outsider.email, role=Role.MODERATOR, campaign=campaign, invited_by=organizer
        )
    assert "Te invitan a organizar" in mail.outbox[-1].subject


def test_moderation_alerts_are_written_in_each_recipients_language(
    campaign, organizer, moderator, spanish
):
    from organizing.models import ModerationAlert

    moderator.language = "es"
    moderator.save()
    alert = ModerationAlert.objects.create(
        campaign=campaign, sent_on=campaign.created_at.date(), entries=2, batches=0
    )
    with translation.override("ar"):  # whatever the worker's language
        assert moderation_alert_mail(alert_id=alert.pk)
    subjects = {m.to[0]: m.subject for m in mail.outbox}
    assert subjects[moderator.email] == f"Esperando moderación en {campaign.name}"


@pytest.mark.parametrize(("page_language", "expected"), [("es", "Tu código"), ("en", "Your")])
def test_the_code_mail_is_in_the_language_of_the_page_that_asked(
    client, open_petition, spanish, django_capture_on_commit_callbacks, page_language, expected
):
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            f"/api/v1/petitions/{open_petition.slug}/email-codes",
            json.dumps({"email": "ada@example.com"}),
            content_type="application/json",
            HTTP_ACCEPT_LANGUAGE=page_language,  # what static/js/sign.js sends: the page's
        )
    assert response.status_code == 202
    assert not response.cookies
    assert mail.outbox[-1].subject.split("] ")[-1].startswith(expected)
