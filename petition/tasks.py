"""Celery tasks of the petition app: mailing a work-email code, the publication sweep, the
retention purge of names and comments, and the daily record of code usage."""

from __future__ import annotations

import time

from celery import shared_task
from django.conf import settings
from django.core.mail import send_mail
from django.db import OperationalError
from django.template.loader import render_to_string
from django.utils import translation

from . import codes
from .publication import petition_publish_pending
from .review import entries_purge, petitions_due_for_purge
from .selectors import petitions_with_pending_entries
from .tlog.tasks import witness_cosign, witnesses_sweep  # noqa: F401  (registers them)
from .workemail import EMAIL_CODE_TTL, open_sealed_mail

SWEEP_SECONDS = 50  # below the beat period (60 s), so that runs rarely overlap


@shared_task(autoretry_for=(OSError,), retry_backoff=True, retry_backoff_max=120, max_retries=5)
def email_code_send(sealed: str, language: str = "") -> None:
    """Mail a work-email code. `sealed` is encrypted (address and code) and expires with
    the code, so neither the broker nor a retry log holds the address in clear. `language`:
    the one of the page the signer asked from, kept nowhere else."""
    message = open_sealed_mail(sealed)
    context = {"code": message["code"], "minutes": int(EMAIL_CODE_TTL.total_seconds() // 60)}
    shipped = {code for code, _name in settings.LANGUAGES}
    # Neutral on purpose: no petition title, no campaign, nothing an employer reading
    # work mail could match to a cause (the signer was warned they may still see it).
    with translation.override(language if language in shipped else settings.LANGUAGE_CODE):
        subject = render_to_string("emails/email_code_subject.txt", context).strip()
        body = render_to_string("emails/email_code.txt", context)
    send_mail(subject=subject, message=body, from_email=None, recipient_list=[message["to"]])


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
