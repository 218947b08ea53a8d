"""Celery tasks of the organizing app. They take ids and carry no personal data."""

from __future__ import annotations

from celery import shared_task
from django.conf import settings
from django.core.mail import EmailMessage
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation

from petition.links import absolute_url

from .invitations import invitation_token
from .models import Invitation, User


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
    # In the invitee's language if they already have an account, else in the inviter's: a
    # coworker usually shares it. The link opens the invitation in that language too.
    invitee = User.objects.filter(email__iexact=invitation.email).first()
    sender = invitee or invitation.invited_by
    language = sender.mail_language if sender else settings.LANGUAGE_CODE
    with translation.override(language):
        path = reverse("organizing:invitation", kwargs={"token": invitation_token(invitation)})
        context = {
            "invitation": invitation,
            "url": absolute_url(path),
            "days": settings.COUNTERSIGN_INVITATION_DAYS,
        }
        subject = render_to_string("emails/invitation_subject.txt", context).strip()
        body = render_to_string("emails/invitation.txt", context)
    headers = {"Content-Language": language}
    EmailMessage(subject=subject, body=body, to=[invitation.email], headers=headers).send()
    return True
