"""Mails are plain text: names with & < > " ' reach the reader as typed (review O15).

Django's templates escape HTML by default, which in a plain-text subject or body turns
"Warehouse & Office" into "Warehouse &amp; Office". Every mail template must render its
text inside `{% autoescape off %}`. Two layers of tests:

- a structural one that walks every mail template the project has (ours under
  templates/emails/, and any override of allauth's under templates/account/email/ or
  templates/mfa/email/): a new template that prints anything outside an autoescape-off
  block fails here without anyone writing a test for it;
- one test per mail the app sends, through the code that sends it, with a hostile name,
  asserting the raw characters arrive. `SENT_BY_A_TEST` lists the templates those tests
  cover, and a template missing from it fails, so a new mail needs a real test too.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from django.conf import settings
from django.core import mail
from django.template import engines
from django.template.base import VariableNode
from django.template.defaulttags import AutoEscapeControlNode
from django.templatetags.i18n import BlockTranslateNode, TranslateNode
from django.urls import reverse

from organizing.models import Delivery, Notice, NoticeKind, Role
from organizing.services import invitation_create
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db

HOSTILE = 'Warehouse & Office <Staff> "for" O\'Fair AI'
ENTITIES = ("&amp;", "&lt;", "&gt;", "&quot;", "&#x27;", "&#39;")

TEMPLATE_ROOT = Path(settings.BASE_DIR) / "templates"
MAIL_FOLDERS = ("emails", "account/email", "mfa/email")


def mail_templates() -> list[str]:
    names = []
    for folder in MAIL_FOLDERS:
        for path in sorted((TEMPLATE_ROOT / folder).glob("*.txt")):
            names.append(f"{folder}/{path.name}")
    return names


def _escaping_outputs(nodelist, inside_off: bool = False):
    """The nodes that print something while autoescaping is on."""
    for node in nodelist:
        if isinstance(node, AutoEscapeControlNode):
            yield from _escaping_outputs(node.nodelist, inside_off=not node.setting)
            continue
        if isinstance(node, VariableNode | BlockTranslateNode | TranslateNode) and not inside_off:
            yield node
        for attr in getattr(node, "child_nodelists", ()):
            yield from _escaping_outputs(getattr(node, attr, None) or [], inside_off)


def test_there_are_mail_templates_to_check():
    assert "emails/invitation_subject.txt" in mail_templates()


@pytest.mark.parametrize("name", mail_templates())
def test_every_mail_template_prints_only_with_autoescape_off(name):
    template = engines["django"].get_template(name).template
    printed = list(_escaping_outputs(template.nodelist))
    assert printed == [], f"{name} prints {printed} with HTML escaping on"


def _assert_raw(text: str) -> None:
    assert HOSTILE in text
    for entity in ENTITIES:
        assert entity not in text


# --- every mail, sent the way production sends it --------------------------------------

SENT_BY_A_TEST = {
    "emails/invitation",
    "emails/email_code",
    "emails/moderation_alert",
    "emails/milestone",
    "emails/digest",
    "emails/deadline_reminder",
    "emails/retention_reminder",
}


def test_every_mail_template_is_sent_by_a_test():
    ours = {
        name.removesuffix(".txt").removesuffix("_subject")
        for name in mail_templates()
        if name.startswith("emails/")
    }
    assert ours == SENT_BY_A_TEST


@pytest.fixture
def hostile_campaign(campaign):
    campaign.name = HOSTILE
    campaign.save()
    return campaign


def test_the_invitation_carries_the_campaign_name_as_typed(
    hostile_campaign, organizer, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        invitation_create(
            email="jo@elsewhere.example",
            role=Role.MODERATOR,
            campaign=hostile_campaign,
            invited_by=organizer,
        )
    message = mail.outbox[-1]
    _assert_raw(message.subject)
    _assert_raw(message.body)
    assert message.subject == f"You are invited to help organize {HOSTILE}"
    assert organizer.email in message.body  # who sent it (review O15)


def test_the_work_email_code_mail_has_no_entities():
    from petition.tasks import email_code_send
    from petition.workemail import seal_mail

    email_code_send(seal_mail(to="ann@example.com", code="12345678"))
    message = mail.outbox[-1]
    assert message.subject == "Your Countersign code"
    assert "12345678" in message.body
    assert not any(entity in message.subject + message.body for entity in ENTITIES)


def test_the_moderation_alert_carries_the_campaign_name_as_typed(
    hostile_campaign, open_petition, moderator, django_capture_on_commit_callbacks
):
    from organizing.notices.tasks import moderation_alerts_sweep
    from tests.organizing.test_moderation import sign

    sign(open_petition, comment="Waiting")
    with django_capture_on_commit_callbacks(execute=True):
        assert moderation_alerts_sweep() == 1
    message = mail.outbox[-1]
    _assert_raw(message.subject)
    _assert_raw(message.body)


@pytest.mark.parametrize(
    ("kind", "key", "data"),
    [
        (NoticeKind.MILESTONE, {"threshold": 10}, {"total": 10, "goal": 100, "counts": {}}),
        (
            NoticeKind.DIGEST,
            {"day": date(2027, 1, 5)},
            {"total": 10, "goal": 100, "counts": {"total": 10}, "change": {"total": 2}},
        ),
        (NoticeKind.DEADLINE_REMINDER, {"day": date(2027, 1, 5)}, {"total": 10, "goal": 100}),
        (NoticeKind.RETENTION_REMINDER, {"day": date(2027, 1, 5)}, {"delivered": True}),
    ],
)
def test_the_team_notices_carry_the_petition_title_as_typed(
    open_petition, organizer, kind, key, data
):
    from organizing.notices.messages import email_message

    open_petition.title = HOSTILE
    open_petition.save()
    notice = Notice.objects.create(petition=open_petition, kind=kind, data=data, **key)
    delivery = Delivery(notice=notice, channel="email", recipient=organizer)  # unsaved: only read
    subject, body = email_message(delivery)
    _assert_raw(subject)
    _assert_raw(body)


def test_allauths_password_reset_mail_has_no_entities(client, organizer):
    # Not overridden here: allauth's own templates already turn autoescaping off; this
    # checks the prefix and our adapter keep it that way.
    client.post(reverse("account_reset_password"), {"email": organizer.email})
    message = mail.outbox[-1]
    assert message.subject.startswith("[Countersign] ")
    assert PASSWORD not in message.body
    assert not any(entity in message.subject + message.body for entity in ENTITIES)
