"""A work-email code's mail survives a mail outage for as long as the code is valid (ops
walk, row 26: it used to be dropped after 5 tries over about 16 s while the request had
answered 202). A real worker process, a real SMTP server on loopback that is down first."""

from __future__ import annotations

import time

import pytest
from cryptography.fernet import Fernet
from django.core import mail

from petition.credentials import email_code_request
from petition.keys import fernet
from petition.services import petition_publish
from petition.tasks import email_code_retry_delay, email_code_send
from petition.workemail import EMAIL_CODE_TTL, seal_mail, sealed_mail_seconds_left
from tests.factories import PetitionFactory

from .conftest import celery_worker


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_the_code_mail_waits_out_a_mail_outage(smtp_server, campaign, tmp_path):
    petition = petition_publish(
        petition=PetitionFactory(campaign=campaign, accepts_work_email=True)
    )
    smtp_server.stop()  # the mail server is down when the code is asked for
    # Tries at most 1 s apart, so that more than the old five tries fit in a short test.
    with celery_worker(
        smtp_server, tmp_path, COUNTERSIGN_EMAIL_CODE_RETRY_MAX_SECONDS="1"
    ) as worker:
        email_code_request(petition=petition, email="patient@example.com")
        deadline = time.monotonic() + 40
        while worker.log_path.read_text().count("] retry:") < 7 and time.monotonic() < deadline:
            time.sleep(0.2)
        log = worker.log_path.read_text()
        assert log.count("] retry:") >= 7, log  # the old task had given up after 5
        smtp_server.start()
        messages = smtp_server.mailbox.wait_for(1, timeout=20)
        assert [m[0] for m in messages] == [["patient@example.com"]], log
        assert "patient" not in worker.log_path.read_text()


def test_the_retry_never_waits_past_the_code_and_is_capped(settings):
    settings.COUNTERSIGN_EMAIL_CODE_RETRY_MAX_SECONDS = 30
    assert [email_code_retry_delay(n, 900) for n in range(7)] == [1, 2, 4, 8, 16, 30, 30]
    assert email_code_retry_delay(40, 900) == 30
    assert email_code_retry_delay(3, 5.5) == 5.5


def test_a_letter_sealed_just_now_has_the_codes_lifetime_left():
    left = sealed_mail_seconds_left(seal_mail(to="a@example.com", code="12345678"))
    assert EMAIL_CODE_TTL.total_seconds() - 5 < left <= EMAIL_CODE_TTL.total_seconds()


def test_an_expired_code_is_not_mailed_and_not_retried(caplog):
    old = int(time.time() - EMAIL_CODE_TTL.total_seconds() - 60)
    sealed = fernet(b"mail").encrypt_at_time(b'{"to": "late@example.com", "code": "1"}', old)
    assert sealed_mail_seconds_left(sealed.decode()) < 0
    mail.outbox.clear()
    result = email_code_send.apply(args=[sealed.decode()])
    assert result.successful() and not mail.outbox
    assert "expired before its mail could be sent" in caplog.text
    assert "late@" not in caplog.text
    assert isinstance(fernet(b"mail"), Fernet)
