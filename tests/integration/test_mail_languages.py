"""Every mail read back in English, Spanish and Arabic (issue 18): sent through Django's SMTP
backend to an SMTP server on loopback, parsed from the bytes it received with the `email`
library, subject and body decoded.

Each mail must be in its reader's language: the work-email code mail in the language of the
page that asked (the API call carries it as sign.js sends it, in Accept-Language), staff mail
in the staff member's account language whatever page or task sent it. Each one holds phrases
the catalogue gives for that language, no English left over, and a Content-Language header
naming the language (plain-text mail has no lang attribute to carry it)."""

from __future__ import annotations

import email
import json
import re
from email import policy

import pytest
from django.urls import reverse
from django.utils import translation

from organizing.models import ModerationAlert, Role
from organizing.notices.alerts import moderation_alert_mail
from organizing.services import invitation_create
from petition.services import petition_publish
from tests.factories import CampaignFactory, MembershipFactory, PetitionFactory
from tests.organizing.notices.helpers import sign_and_publish

pytestmark = pytest.mark.django_db

# What the organizers wrote, in each language: then any English word is the interface's.
CONTENT = {
    "en": {"campaign": "Night shift of the warehouse", "petition": "Two paid breaks a night"},
    "es": {"campaign": "Turno de noche del almacén", "petition": "Dos descansos pagados"},
    "ar": {"campaign": "الوردية الليلية في المستودع", "petition": "استراحتان مدفوعتان كل ليلة"},
}
# Words of the English messages that no Spanish sentence uses (tests/browser/test_spanish.py).
ENGLISH = re.compile(
    r"\b(the|your|you|and|with|this|of|to|is|code|sign|signature|signatures|petition|"
    r"receipt|link|here|hello|works|reset|password|invited|waits|minutes|days)\b",
    re.IGNORECASE,
)
# Same in every language: the product, addresses and links, the site's domain.
SAME_EVERYWHERE = re.compile(r"Countersign|\S+@\S+|https?://\S+|\S+\.example\S*|testserver")
LATIN_WORD = re.compile(r"[A-Za-z]{2,}")


def tr(language: str, message: str, **values) -> str:
    """`message` as the catalogue has it in `language`, with its placeholders filled."""
    with translation.override(language):
        text = translation.gettext(message)
    return text % values if values else text


@pytest.fixture
def smtp(smtp_server, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", smtp_server.port
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    yield smtp_server.mailbox
    translation.activate("en")


def received(mailbox, count: int = 1) -> list[email.message.EmailMessage]:
    """The last `count` messages the server took, parsed from the bytes on the wire."""
    # Django's SMTP backend returns once the server answered 250, after it stored the mail.
    messages = mailbox.messages
    assert len(messages) >= count, "the SMTP server received too few messages"
    # The mailbox kept the bytes decoded as UTF-8: encoding them again gives those bytes.
    return [
        email.message_from_bytes(content.encode(), policy=policy.default)
        for _rcpt, content in messages[-count:]
    ]


def read(message) -> tuple[str, str]:
    """(subject, text) decoded; every text part is read, an HTML one checked for lang/dir."""
    texts = []
    for part in message.walk():
        if part.get_content_maintype() == "multipart":
            continue
        assert part.get_content_type() in {"text/plain", "text/html"}, part.get_content_type()
        assert part.get_content_charset() == "utf-8"
        texts.append(part.get_content())
    # Python folds a long encoded subject onto a continuation line ("Subject:\r\n =?utf-8?…");
    # unfolded, it starts with that line's space, which mail clients drop too.
    return str(message["Subject"]).strip(), "\n".join(texts)


def assert_in_language(message, language: str, phrases: list[str]) -> None:
    subject, body = read(message)
    assert message["Content-Language"] == language
    for part in message.walk():
        if part.get_content_type() == "text/html":
            html = part.get_content()
            assert f'lang="{language}"' in html
            assert ('dir="rtl"' in html) == (language == "ar")
    for phrase in phrases:
        assert phrase in subject + "\n" + body, f"{phrase!r} missing from the {language} mail"
    text = SAME_EVERYWHERE.sub(" ", f"{subject}\n{body}")
    if language == "es":
        assert ENGLISH.findall(text) == [], text
    if language == "ar":
        assert LATIN_WORD.findall(text) == [], text
        assert re.search(r"[\u0600-\u06ff]", subject), subject


@pytest.fixture
def world():
    """A campaign, petition, organizer and moderator per language, the staff members'
    accounts set to that language."""
    made = {}
    for language, content in CONTENT.items():
        campaign = CampaignFactory(name=content["campaign"], entries_need_review=True)
        organizer = MembershipFactory(campaign=campaign, role=Role.ORGANIZER).user
        moderator = MembershipFactory(campaign=campaign, role=Role.MODERATOR).user
        for user in (organizer, moderator):
            user.language = language
            user.save(update_fields=["language"])
        petition = PetitionFactory(
            campaign=campaign, title=content["petition"], accepts_work_email=True
        )
        made[language] = (campaign, organizer, moderator, petition_publish(petition=petition))
    return made


LANGUAGES = ["en", "es", "ar"]


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_code_mail_is_in_the_language_of_the_page_that_asked(
    client, smtp, world, language, django_capture_on_commit_callbacks
):
    petition = world[language][3]
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("petition:api_email_codes", kwargs={"slug": petition.slug}),
            json.dumps({"email": "ada@example.com"}),
            content_type="application/json",
            HTTP_ACCEPT_LANGUAGE=language,  # what static/js/sign.js sends: the page's lang
        )
    assert response.status_code == 202
    (message,) = received(smtp)
    code = re.search(r"\b\d{6,8}\b", read(message)[1]).group(0)
    assert read(message)[0] == tr(language, "Your Countersign code")
    assert_in_language(message, language, [code])


@pytest.mark.parametrize("language", LANGUAGES)
def test_an_invitation_is_in_the_inviters_language(
    smtp, world, language, django_capture_on_commit_callbacks
):
    campaign, organizer, _moderator, _petition = world[language]
    with translation.override("en"), django_capture_on_commit_callbacks(execute=True):
        invitation_create(
            email="newcomer@organizers.example",
            role=Role.MODERATOR,
            campaign=campaign,
            invited_by=organizer,
        )
    (message,) = received(smtp)
    name = campaign.name
    assert read(message)[0] == tr(language, "You are invited to help organize %(name)s", name=name)
    prefix = "" if language == "en" else f"/{language}"
    assert re.search(rf"https?://\S+?{prefix}/invitations/\S+/", read(message)[1])
    assert_in_language(
        message, language, [tr(language, "Hello,"), tr(language, "Create your account here:")]
    )


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_milestone_notice_is_in_the_organizers_language(
    smtp, world, language, django_capture_on_commit_callbacks
):
    _campaign, organizer, _moderator, petition = world[language]
    with translation.override("en"), django_capture_on_commit_callbacks(execute=True):
        sign_and_publish(petition, 10)
    (message,) = received(smtp)
    assert message["To"] == organizer.email  # moderators hear only if they opt in
    assert petition.title in read(message)[0]
    assert_in_language(
        message, language, [tr(language, "Public page:"), tr(language, "Dashboard:")]
    )


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_moderation_alert_is_in_each_moderators_language(smtp, world, language):
    campaign, _organizer, moderator, _petition = world[language]
    alert = ModerationAlert.objects.create(
        campaign=campaign, sent_on=campaign.created_at.date(), entries=3, batches=0
    )
    with translation.override("en"):  # the worker's own language plays no part
        assert moderation_alert_mail(alert_id=alert.pk)
    messages = {m["To"]: m for m in received(smtp, len(smtp.messages))}
    message = messages[moderator.email]
    name = campaign.name
    assert read(message)[0] == tr(language, "Waiting for moderation in %(name)s", name=name)
    assert_in_language(
        message,
        language,
        [
            tr(language, "Hello,"),
            tr(language, "Open the moderation page (you will be asked to sign in):"),
        ],
    )


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("page", ["", "/es"])
def test_a_password_reset_mail_is_in_the_staff_members_language(
    client, smtp, world, language, page
):
    """Asked from an English page, or from a Spanish one: the account's language decides."""
    organizer = world[language][1]
    response = client.post(
        f"{page}{reverse('account_reset_password')}",
        {"email": organizer.email},
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert response.status_code == 302
    (message,) = received(smtp)
    subject, body = read(message)
    assert subject.startswith("[Countersign] ")
    expected = tr(language, "Password Reset Email")
    assert subject.endswith(expected)
    prefix = "" if language == "en" else f"/{language}"
    assert re.search(rf"https?://\S+?{prefix}/accounts/password/reset/key/\S+", body)
    assert_in_language(message, language, [expected])
