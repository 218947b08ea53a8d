"""Starting background work: the one way to hand a Celery task to the broker, after the
current transaction commits, and the one place where what happens when the broker is down
is decided.

Both functions send the task only once the surrounding transaction has committed (at once
when there is none), so a worker never reads a row that is not there yet or is rolled back.
They differ only when the broker (Redis) cannot take the message:

`enqueue_on_commit(task, *args)`
    logs one warning (the task's name and the error's type, never the arguments: they may
    carry a signer's sealed mail) and carries on. Use it where a sweep on beat finds the
    committed rows again and sends what was lost: the notice outbox (`notices_sweep`),
    milestone checks (the sweep compares counts with the high-water mark). A signer's
    request or a publication run never fails because of a broker outage.

`enqueue_on_commit_or_raise(task, *args)`
    raises `BrokerUnavailable` from the commit hook. Use it for work no sweep recovers
    (a signer's mailed code, an invitation, a print run rendered by the worker): the row is
    committed, but the person who asked must learn now that nothing will happen, instead of
    waiting for a mail that never comes.

Every caller says at the call which of the two it uses and why. In-process tasks
(`CELERY_TASK_ALWAYS_EAGER`, the embedded default and the tests) run right after commit.
"""

from __future__ import annotations

import logging
from functools import partial

from celery import Task
from django.db import transaction
from kombu.exceptions import OperationalError as KombuOperationalError
from redis.exceptions import RedisError

logger = logging.getLogger(__name__)

# What a send raises when the broker cannot be reached: kombu wraps connection errors in its
# OperationalError; the Redis client and the socket layer raise their own.
BROKER_ERRORS = (KombuOperationalError, RedisError, OSError)


class BrokerUnavailable(RuntimeError):
    """The broker could not take a task that no sweep would send later."""


def _send(task: Task, args: tuple, *, swallow: bool) -> bool:
    try:
        task.delay(*args)
    except BROKER_ERRORS as exc:
        if not swallow:
            raise BrokerUnavailable(f"broker unavailable, {task.name} not sent") from exc
        logger.warning("broker unavailable (%s); %s not sent", type(exc).__name__, task.name)
        return False
    return True


def enqueue_on_commit(task: Task, *args) -> None:
    """After commit, send `task(*args)`; if the broker is down, log and carry on (a sweep
    sends it later)."""
    transaction.on_commit(partial(_send, task, args, swallow=True))


def enqueue_on_commit_or_raise(task: Task, *args) -> None:
    """After commit, send `task(*args)`; if the broker is down, raise `BrokerUnavailable`
    (nothing would send it later)."""
    transaction.on_commit(partial(_send, task, args, swallow=False))
