"""P1 end to end: 20 coworkers sign through the work-email method; a dump of every table,
of Redis and of the logs names none of them, holds no client address or user agent, and no
signature time finer than the date."""

from __future__ import annotations

import datetime
import json
import re

import pytest
import redis
from django.conf import settings
from django.core import mail
from django.db import connection

from petition.services import petition_publish
from tests.signing_client import b64, start

pytestmark = pytest.mark.django_db

AGENT = "Mozilla/5.0 (CorpLaptop; TrackedBrowser 1.0)"


def _address(i: int) -> str:
    return f"coworker.number{i:02d}@example.com"


def _ip(i: int) -> str:
    return f"203.0.113.{100 + i}"


def _dump_database() -> str:
    parts = []
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names():
            cursor.execute(f'SELECT * FROM "{table}"')  # noqa: S608 - names from introspection
            for row in cursor.fetchall():
                for value in row:
                    if isinstance(value, (bytes, memoryview)):
                        value = bytes(value).decode("latin-1")
                    parts.append(str(value))
    return "\n".join(parts)


def _dump_redis() -> str:
    r = redis.Redis.from_url(settings.REDIS_URL)
    parts = []
    for key in r.keys("*"):
        parts.append(key.decode("latin-1"))
        if r.type(key) == b"string":
            parts.append((r.get(key) or b"").decode("latin-1"))
    return "\n".join(parts)


def test_twenty_email_signers_leave_no_trace(
    client, draft_petition, log_output, django_capture_on_commit_callbacks
):
    draft_petition.accepts_work_email = True
    draft_petition.save()
    petition = petition_publish(petition=draft_petition)
    api = f"/api/v1/petitions/{petition.slug}"

    for i in range(20):
        meta = {"REMOTE_ADDR": _ip(i), "HTTP_USER_AGENT": AGENT}
        with django_capture_on_commit_callbacks(execute=True):
            sent = client.post(
                f"{api}/email-codes",
                json.dumps({"email": _address(i)}),
                content_type="application/json",
                **meta,
            )
        assert sent.status_code == 202
        code = re.search(r"\b(\d{8})\b", mail.outbox[-1].body).group(1)
        pending = start(client, petition, "work_email")
        issued = client.post(
            f"{api}/credentials",
            json.dumps(
                {
                    "level": "work_email",
                    "email": _address(i),
                    "code": code,
                    "blinded_msg": b64(pending.blinded),
                }
            ),
            content_type="application/json",
            **meta,
        )
        assert issued.status_code == 200
        credential = pending.finish(issued.json()["blind_sig"])
        signed = client.post(
            f"{api}/signatures",
            json.dumps(credential.payload()),
            content_type="application/json",
            **meta,
        )
        assert signed.status_code == 201
        client.get(petition.get_absolute_url(), **meta)

    assert client.get(api).json()["counts"]["work_email"] == 20
    dumps = {"database": _dump_database(), "redis": _dump_redis(), "logs": log_output.getvalue()}
    for where, text in dumps.items():
        for i in range(20):
            assert _address(i) not in text, where
            assert f"number{i:02d}" not in text, where
            assert _ip(i) not in text, where
        assert AGENT not in text and "TrackedBrowser" not in text, where

    signing_tables = (
        "petition_signature",
        "petition_pendingsignature",
        "petition_pendingwithdrawal",
        "petition_emailledger",
        "petition_emailcode",
        "petition_publicationbatch",
    )
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT table_name, column_name, data_type FROM information_schema.columns "
            "WHERE table_name = ANY(%s)",
            [list(signing_tables)],
        )
        columns = cursor.fetchall()
        cursor.execute("SELECT DISTINCT published_on FROM petition_publicationbatch")
        days = [row[0] for row in cursor.fetchall()]
    types = {(table, column): kind for table, column, kind in columns}
    # No time of day next to a signature, pending or published: it would
    # tell when one person signed.
    for table in ("petition_signature", "petition_pendingsignature", "petition_pendingwithdrawal"):
        assert not [c for (t, c), kind in types.items() if t == table and "time" in kind], table
    # No sequential id anywhere on the signing side: random keys only (an id records arrival
    # order, which links people who signed together).
    assert {types[(table, "id")] for table in signing_tables} == {"uuid"}
    assert days and all(type(day) is datetime.date for day in days)
