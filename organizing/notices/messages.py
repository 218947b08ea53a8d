"""What a notice says to one recipient or webhook: the email (subject and text) and the
webhook's JSON body.

Counts, thresholds, the petition's public title and links: nothing about any signer, and no
time finer than the day the notice is about.
"""

from __future__ import annotations

import json

from django.conf import settings
from django.template.loader import render_to_string
from django.utils import translation

from ..models import Delivery, NoticeKind
from .selectors import level_rows, petition_links

TEMPLATES = {
    NoticeKind.MILESTONE: "milestone",
    NoticeKind.DIGEST: "digest",
    NoticeKind.DEADLINE_REMINDER: "deadline_reminder",
    NoticeKind.RETENTION_REMINDER: "retention_reminder",
}


def _context(delivery: Delivery) -> dict:
    notice = delivery.notice
    petition = notice.petition
    data = notice.data
    return {
        "notice": notice,
        "petition": petition,
        "data": data,
        "levels": level_rows(data.get("counts", {})),
        "change_levels": level_rows(data.get("change", {})),
        "links": petition_links(petition),
        "reached_goal": notice.threshold is not None and notice.threshold >= data.get("goal", 0),
    }


def email_language(delivery: Delivery) -> str:
    """The recipient's own language (User.language), whatever the language of the page or
    task that queued the notice."""
    recipient = delivery.recipient
    return recipient.mail_language if recipient else settings.LANGUAGE_CODE


def email_message(delivery: Delivery) -> tuple[str, str]:
    name = TEMPLATES[delivery.notice.kind]
    context = _context(delivery)
    with translation.override(email_language(delivery)):
        subject = render_to_string(f"emails/{name}_subject.txt", context)
        body = render_to_string(f"emails/{name}.txt", context)
    return " ".join(subject.split()), body


def message_id(delivery: Delivery, domain: str) -> str:
    return f"<countersign-delivery-{delivery.pk}@{domain}>"


def webhook_body(delivery: Delivery) -> bytes:
    notice = delivery.notice
    petition = notice.petition
    data = notice.data
    if notice.kind == NoticeKind.TEST:
        return _test_body(delivery)
    payload = {
        "type": notice.kind,
        "notice": notice.pk,
        "petition": {
            "title": petition.title,
            "url": petition_links(petition)["public"],
            "staff_url": petition_links(petition)["staff"],
        },
        "threshold": notice.threshold,
        "day": notice.day.isoformat() if notice.day else None,
        "total": data.get("total"),
        "goal": data.get("goal"),
        "counts": data.get("counts"),
    }
    return json.dumps(payload, separators=(",", ":"), sort_keys=True).encode()


def _test_body(delivery: Delivery) -> bytes:
    """A test notice: the fields of a milestone, empty, with `"test": true`, so a receiver
    can check the signature and its parsing without a petition moving."""
    notice = delivery.notice
    payload = {
        "type": notice.kind,
        "test": True,
        "notice": notice.pk,
        "campaign": {"name": notice.data.get("campaign", "")},
        "petition": None,
        "threshold": None,
        "day": None,
        "total": None,
        "goal": None,
        "counts": None,
    }
    return json.dumps(payload, separators=(",", ":"), sort_keys=True).encode()
