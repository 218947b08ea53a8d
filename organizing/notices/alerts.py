"""Moderation alerts: mail moderators when something waits for them, counts only, never a
signer's text. The second, smaller kind of notice beside the milestone outbox (its own table,
`ModerationAlert`, and its own mail).

The beat task `organizing.notices.tasks.moderation_alerts_sweep` calls
`moderation_alerts_claim`, which looks at every campaign; for one with names or comments to
review or code batches to approve it claims that day's alert with a unique row. The task then
enqueues one `moderation_alert_send` per claimed alert, which calls `moderation_alert_mail`.
So a moderator hears about waiting work at most once a day per campaign, and a second sweep
running at the same time sends nothing.
"""

from __future__ import annotations

from collections.abc import Iterator

from django.core.mail import EmailMessage, get_connection
from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation

from petition.codes import code_batches_waiting_approval
from petition.links import absolute_url
from petition.review import review_queue

from ..models import Campaign, ModerationAlert, NoticeMode, Role
from .services import email_recipients


def waiting_counts(campaign: Campaign) -> dict[str, int]:
    return {
        "entries": review_queue(campaign).count(),
        "batches": code_batches_waiting_approval(campaign.petitions.all()).count(),
    }


def _alerted_on(day) -> Exists:
    return Exists(ModerationAlert.objects.filter(campaign=OuterRef("pk"), sent_on=day))


def moderation_alerts_claim() -> Iterator[int]:
    """Claim today's alert for each campaign where something waits, yielding each alert's
    id once its claim has committed, so the caller sends it before claiming the next (a
    run cut short leaves no claimed alert unsent behind it)."""
    today = timezone.localdate()
    for campaign in Campaign.objects.exclude(_alerted_on(today)):
        counts = waiting_counts(campaign)
        if not any(counts.values()):
            continue
        try:
            with transaction.atomic():
                alert = ModerationAlert.objects.create(campaign=campaign, sent_on=today, **counts)
        except IntegrityError:
            continue  # another sweep claimed it
        yield alert.pk


def alert_recipient_users(campaign: Campaign) -> list:
    """The campaign's moderators (its organizers when it has none), except those who get
    the milestones daily digest: it already carries the waiting count for them."""
    with_digest = {
        user.pk
        for user in email_recipients(campaign, modes=[NoticeMode.INSTANT, NoticeMode.DIGEST])
    }
    members = campaign.memberships.select_related("user").filter(user__is_active=True)
    moderators = [m.user for m in members if m.role == Role.MODERATOR]
    chosen = moderators or [m.user for m in members if m.role == Role.ORGANIZER]
    return [user for user in chosen if user.pk not in with_digest]


def alert_recipients(campaign: Campaign) -> list[str]:
    return [user.email for user in alert_recipient_users(campaign)]


def _alert_mail(alert: ModerationAlert) -> bool:
    """Send the mail (one message per recipient: nobody sees the others' addresses)."""
    campaign = alert.campaign
    path = reverse("staff:moderation", kwargs={"slug": campaign.slug})
    context = {
        "campaign": campaign,
        "entries": alert.entries,
        "batches": alert.batches,
        "url": absolute_url(path),
    }
    recipients = alert_recipient_users(campaign)
    messages = []
    for user in recipients:
        # Each in the recipient's own language (User.language).
        with translation.override(user.mail_language):
            subject = render_to_string("emails/moderation_alert_subject.txt", context).strip()
            body = render_to_string("emails/moderation_alert.txt", context)
        headers = {"Content-Language": user.mail_language}
        messages.append(EmailMessage(subject=subject, body=body, to=[user.email], headers=headers))
    get_connection().send_messages(messages)  # one connection for all, as send_mass_mail
    return bool(recipients)


def moderation_alert_mail(*, alert_id: int) -> bool:
    """Mail one claimed alert. Skips an alert already marked sent (a duplicate message of
    its task); a crash between mail and mark may send it twice, never zero times."""
    alert = (
        ModerationAlert.objects.select_related("campaign")
        .filter(pk=alert_id, sent_at__isnull=True)
        .first()
    )
    if alert is None:
        return False
    _alert_mail(alert)
    ModerationAlert.objects.filter(pk=alert_id, sent_at__isnull=True).update(sent_at=timezone.now())
    return True
