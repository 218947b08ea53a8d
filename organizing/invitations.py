"""Invitation links: a signed token for an invitation row, and reading it back.

Apart from services.py so that the mail task (tasks.py) and the services can both use it
without importing each other.
"""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.core import signing
from django.utils import timezone

from .models import Invitation

INVITATION_SALT = "countersign.invitation"


class InvitationError(Exception):
    """The invitation cannot be used (unknown, expired, already accepted, another address)."""


def invitation_token(invitation: Invitation) -> str:
    return signing.dumps(invitation.pk, salt=INVITATION_SALT, compress=True)


def invitation_from_token(token: str) -> Invitation:
    max_age = timedelta(days=settings.COUNTERSIGN_INVITATION_DAYS)
    try:
        pk = signing.loads(token, salt=INVITATION_SALT, max_age=max_age)
    except signing.BadSignature as exc:
        raise InvitationError("invalid") from exc
    invitation = Invitation.objects.filter(pk=pk).select_related("campaign", "invited_by").first()
    if invitation is None or invitation.accepted_at or invitation.expires_at < timezone.now():
        raise InvitationError("used or expired")
    return invitation
