"""The broker-down policy of config/background.py, against a real broker that is down.

The Celery app here points at a port on 127.0.0.1 where nothing listens, so sending a task
fails the way it does when Redis is stopped: a refused connection, not a stand-in. Tasks are
not run in-process here (a fresh app, not the test settings' eager one).
"""

from __future__ import annotations

import logging
import socket

import pytest
from celery import Celery
from django.db import transaction

from config.background import BrokerUnavailable, enqueue_on_commit, enqueue_on_commit_or_raise

pytestmark = pytest.mark.django_db

SIGNER_DATA = "ada@acme.example"


class RolledBack(Exception):
    pass


def _closed_port() -> int:
    # Bound then closed: nothing listens there for the rest of the test.
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def task_with_broker_down():
    app = Celery(
        "broker-down", broker=f"redis://127.0.0.1:{_closed_port()}/0", set_as_current=False
    )
    app.conf.update(
        broker_connection_retry=False,
        broker_connection_max_retries=0,
        broker_connection_timeout=2,
        task_publish_retry=False,
        task_always_eager=False,
    )

    @app.task(name="tests.background.mail_a_code")
    def mail_a_code(sealed: str) -> None:  # never runs: the broker never takes it
        raise AssertionError("a task ran although the broker is down")

    yield mail_a_code
    app.close()


def test_a_broker_outage_is_logged_without_the_arguments_and_the_caller_carries_on(
    task_with_broker_down, django_capture_on_commit_callbacks, caplog
):
    caplog.set_level(logging.WARNING, logger="config.background")
    with django_capture_on_commit_callbacks(execute=True) as callbacks, transaction.atomic():
        enqueue_on_commit(task_with_broker_down, SIGNER_DATA)
    assert len(callbacks) == 1
    warnings = [r.getMessage() for r in caplog.records if r.name == "config.background"]
    assert len(warnings) == 1
    assert "broker unavailable" in warnings[0]
    assert "tests.background.mail_a_code" in warnings[0]
    assert SIGNER_DATA not in caplog.text


def test_work_no_sweep_recovers_raises_when_the_broker_is_down(
    task_with_broker_down, django_capture_on_commit_callbacks, caplog
):
    caplog.set_level(logging.WARNING, logger="config.background")
    with (
        pytest.raises(BrokerUnavailable, match=r"tests\.background\.mail_a_code") as raised,
        django_capture_on_commit_callbacks(execute=True),
        transaction.atomic(),
    ):
        enqueue_on_commit_or_raise(task_with_broker_down, SIGNER_DATA)
    assert SIGNER_DATA not in str(raised.value)
    assert not [r for r in caplog.records if r.name == "config.background"]


def test_nothing_is_sent_when_the_transaction_rolls_back(
    task_with_broker_down, django_capture_on_commit_callbacks
):
    # Were it sent before the commit, the down broker would raise BrokerUnavailable here.
    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(RolledBack),
        transaction.atomic(),
    ):
        enqueue_on_commit_or_raise(task_with_broker_down, SIGNER_DATA)
        raise RolledBack
    assert callbacks == []
