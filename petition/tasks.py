"""Celery tasks of the petition app: mailing a work-email code, the publication sweep, the
retention purge of names and comments, and the daily record of code usage."""

from __future__ import annotations

import logging
import time

from celery import shared_task
from cryptography.fernet import InvalidToken
from django.conf import settings
from django.core.mail import EmailMessage
from django.db import OperationalError
from django.template.loader import render_to_string
from django.utils import translation

from . import codes
from .publication import petition_publish_pending
from .review import entries_purge, petitions_due_for_purge
from .selectors import petitions_with_pending_entries
from .tlog.tasks import witness_cosign, witnesses_sweep  # noqa: F401  (registers them)
from .workemail import EMAIL_CODE_TTL, open_sealed_mail, sealed_mail_seconds_left

logger = logging.getLogger(__name__)

SWEEP_SECONDS = 50  # below the beat period (60 s), so that runs rarely overlap


def email_code_retry_delay(retries: int, seconds_left: float) -> float:
    """Seconds before the next try: 1, 2, 4 … capped at COUNTERSIGN_EMAIL_CODE_RETRY_MAX_SECONDS
    (30), and never past the code's expiry."""
    cap = settings.COUNTERSIGN_EMAIL_CODE_RETRY_MAX_SECONDS
    return max(0.0, min(float(2 ** min(retries, 16)), cap, seconds_left))


@shared_task(bind=True, max_retries=None)
def email_code_send(self, sealed: str, language: str = "") -> None:
    """Mail a work-email code. `sealed` is encrypted (address and code) and expires with
    the code, so neither the broker nor a retry log holds the address in clear. `language`:
    the one of the page the signer asked from, kept nowhere else.

    The request already answered 202, so a mail outage must not drop the code: the task
    tries again (1, 2, 4 … 30 s apart) for as long as the code is valid (15 minutes), then
    gives up with one line that names no one."""
    try:
        message = open_sealed_mail(sealed)
    except InvalidToken:
        logger.warning("a work-email code expired before its mail could be sent")
        return
    context = {"code": message["code"], "minutes": int(EMAIL_CODE_TTL.total_seconds() // 60)}
    try:
        # Neutral on purpose: no petition title, no campaign, nothing an employer reading
        # work mail could match to a cause (the signer was warned they may still see it).
        shipped = {code for code, _name in settings.LANGUAGES}
        with translation.override(language if language in shipped else settings.LANGUAGE_CODE):
            subject = render_to_string("emails/email_code_subject.txt", context).strip()
            body = render_to_string("emails/email_code.txt", context)
            # Plain-text mail has no lang attribute: the header names its language.
            headers = {"Content-Language": translation.get_language()}
        EmailMessage(subject=subject, body=body, to=[message["to"]], headers=headers).send()
    except OSError as exc:  # smtplib's errors are OSErrors too
        left = sealed_mail_seconds_left(sealed)
        if left <= 1:
            logger.warning(
                "a work-email code expired before its mail could be sent (%s)", type(exc).__name__
            )
            return
        # No `exc=`: Celery would log the exception's text, and an SMTP refusal quotes the
        # recipient.
        raise self.retry(countdown=email_code_retry_delay(self.request.retries, left)) from None


@shared_task(
    autoretry_for=(OperationalError,), retry_backoff=True, retry_backoff_max=60, max_retries=3
)
def publication_sweep() -> None:
    """Beat, once a minute: publish every batch that is due. Safe to run twice at once (a
    second run waits for the batch in progress, then finds nothing left to publish; see
    petition.publication)."""
    deadline = time.monotonic() + SWEEP_SECONDS
    for petition_id in petitions_with_pending_entries():
        if time.monotonic() > deadline:
            break  # the next run continues
        petition_publish_pending(petition_id=petition_id)


@shared_task(soft_time_limit=300, time_limit=360)
def retention_purge() -> int:
    """Daily: erase names and comments of petitions delivered longer ago than their
    campaign keeps them. Safe to run twice at once (conditional update per petition)."""
    erased = 0
    for petition in petitions_due_for_purge():
        erased += entries_purge(petition=petition)
    return erased


@shared_task(autoretry_for=(OperationalError,), retry_backoff=True, max_retries=3)
def code_usage_record() -> int:
    """Beat, at midnight UTC: the day's code usage figures (petition/codes.py)."""
    return codes.code_usage_record()
