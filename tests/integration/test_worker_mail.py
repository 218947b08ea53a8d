"""Invitation mail through the real stack: PostgreSQL, Redis broker, a Celery worker
process and an SMTP server on loopback."""

from __future__ import annotations

import re
import time

import pytest

from organizing.models import Role
from organizing.services import invitation_create
from petition.credentials import email_code_request
from petition.services import petition_publish
from tests.factories import PetitionFactory

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def test_worker_mails_the_invitation_after_commit(celery_worker_process, smtp_server, campaign):
    invitation = invitation_create(
        email="newcomer@example.com", role=Role.MODERATOR, campaign=campaign, invited_by=None
    )
    messages = smtp_server.mailbox.wait_for(1)
    assert messages, celery_worker_process.log_path.read_text()
    recipients, content = messages[0]
    assert recipients == ["newcomer@example.com"]
    assert campaign.name in content
    link = re.search(r"http://testserver(/invitations/\S+/)", content).group(1)
    assert link.startswith("/invitations/")
    assert invitation.pk  # the row the worker read was committed before the task ran


def test_worker_retries_until_the_mail_server_is_back(celery_worker_process, smtp_server, campaign):
    smtp_server.stop()  # outage: connections to the SMTP port are refused
    invitation_create(
        email="patient@example.com", role=Role.MODERATOR, campaign=campaign, invited_by=None
    )
    log = celery_worker_process.log_path
    assert _wait_for_text(log, "Retry in"), log.read_text()
    smtp_server.start()
    messages = smtp_server.mailbox.wait_for(1, timeout=60)
    assert [m[0] for m in messages] == [["patient@example.com"]], log.read_text()


def _wait_for_text(path, text, timeout=30) -> bool:
    import time

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if text in path.read_text():
            return True
        time.sleep(0.2)
    return False


def test_code_mail_leaves_no_address_and_no_time_in_the_worker_log(
    celery_worker_process, smtp_server, campaign
):
    """The worker's log must not say who got a code, nor exactly when."""
    petition = petition_publish(
        petition=PetitionFactory(campaign=campaign, accepts_work_email=True)
    )
    start_up = celery_worker_process.log_path.read_text()
    email_code_request(petition=petition, email="quiet.person+tag@example.com")
    messages = smtp_server.mailbox.wait_for(1)
    assert [m[0] for m in messages] == [["quiet.person@example.com"]]
    time.sleep(1)  # let the worker write whatever it writes after the task
    log = celery_worker_process.log_path.read_text()
    assert " ready." in start_up  # the worker's own start-up lines are still there
    assert "quiet.person" not in log and "example.com" not in log
    log = log[len(start_up) :]
    assert "email_code_send[" not in log  # no line per mail: received, succeeded
    assert not re.search(r"\d\d:\d\d:\d\d", log)  # and no time of day of its own
