"""Celery tasks of the organizing app. They take ids and carry no personal data."""

from __future__ import annotations

from celery import shared_task
from django.conf import settings
from django.core.mail import send_mail
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from .invitations import invitation_token
from .milestones.tasks import (  # noqa: F401  (registered with the worker from here)
    deadlines_run,
    delivery_send,
    digests_record,
    milestones_check,
    milestones_sweep,
)
from .models import Invitation, ModerationAlert


@shared_task(
    autoretry_for=(OSError,),
    retry_backoff=True,
    retry_backoff_max=600,
    max_retries=8,
)
def invitation_send(invitation_id: int) -> bool:
    """Mail the invitation link. Idempotent enough: a retry resends the same valid link."""
    invitation = (
        Invitation.objects.select_related("campaign", "invited_by")
        .filter(pk=invitation_id, accepted_at__isnull=True, expires_at__gt=timezone.now())
        .first()
    )
    if invitation is None:
        return False
    path = reverse("organizing:invitation", kwargs={"token": invitation_token(invitation)})
    context = {
        "invitation": invitation,
        "url": f"{settings.COUNTERSIGN_BASE_URL.rstrip('/')}{path}",
        "days": settings.COUNTERSIGN_INVITATION_DAYS,
    }
    send_mail(
        subject=render_to_string("emails/invitation_subject.txt", context).strip(),
        message=render_to_string("emails/invitation.txt", context),
        from_email=None,
        recipient_list=[invitation.email],
    )
    return True


@shared_task(soft_time_limit=120, time_limit=180)
def moderation_alerts_sweep() -> int:
    """Beat, hourly: claim today's "items wait" alert for campaigns with waiting work."""
    from .alerts import moderation_alerts_claim

    return len(moderation_alerts_claim())


@shared_task(
    autoretry_for=(OSError,),
    retry_backoff=True,
    retry_backoff_max=600,
    max_retries=8,
    soft_time_limit=60,
    time_limit=90,
)
def moderation_alert_send(alert_id: int) -> bool:
    """Mail one claimed alert. Skips an alert already marked sent (a duplicate delivery
    of this task); a crash between mail and mark may send it twice, never zero times."""
    from .alerts import moderation_alert_send as send

    alert = (
        ModerationAlert.objects.select_related("campaign")
        .filter(pk=alert_id, sent_at__isnull=True)
        .first()
    )
    if alert is None:
        return False
    send(alert)
    ModerationAlert.objects.filter(pk=alert_id, sent_at__isnull=True).update(sent_at=timezone.now())
    return True
