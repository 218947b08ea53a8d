"""Eligibility and credentials (protocol v1): single-use codes and work-email codes."""

from __future__ import annotations

import json
import re
import threading
from datetime import timedelta

import pytest
from django.core import mail
from django.db import connection
from django.test import Client
from django.utils import timezone

from petition.codes import code_batch_approve, code_batch_create, code_batch_revoke
from petition.models import (
    CodeBatch,
    EmailCode,
    EmailLedger,
    IssuanceCount,
    Signature,
    SigningCode,
)
from petition.services import petition_close, petition_publish
from tests.signing_client import b64, start

pytestmark = pytest.mark.django_db


def post(client, petition, path, body):
    return client.post(
        f"/api/v1/petitions/{petition.slug}/{path}",
        json.dumps(body),
        content_type="application/json",
    )


def ask(client, petition, level, pending, **fields):
    return post(
        client,
        petition,
        "credentials",
        {"level": level, "blinded_msg": b64(pending.blinded), **fields},
    )


def snapshot():
    return (
        Signature.objects.count(),
        EmailLedger.objects.count(),
        SigningCode.objects.filter(used=True).count(),
        sum(IssuanceCount.objects.values_list("issued", flat=True)),
    )


# --- single-use codes ---------------------------------------------------------------


def test_a_code_yields_one_credential_that_signs(client, open_petition):
    _batch, codes = code_batch_create(petition=open_petition, level="in_person", size=10)
    pending = start(client, open_petition, "in_person")
    response = ask(client, open_petition, "in_person", pending, code=codes[0].lower())
    assert response.status_code == 200, response.content
    assert not response.cookies
    credential = pending.finish(response.json()["blind_sig"])
    assert response.json()["key_id"] == b64(pending.key_id)
    signed = post(client, open_petition, "signatures", credential.payload())
    assert signed.status_code == 201
    assert IssuanceCount.objects.get(petition=open_petition, level="in_person").issued == 1

    again = ask(
        client, open_petition, "in_person", start(client, open_petition, "in_person"), code=codes[0]
    )
    assert (again.status_code, again.json()["error"]["code"]) == (409, "already_issued")


def test_codes_are_stored_only_as_keyed_hashes(open_petition):
    _batch, codes = code_batch_create(petition=open_petition, level="flyer", size=10)
    stored = b"".join(bytes(c.code_hash) for c in SigningCode.objects.all())
    for code in codes:
        assert code.replace("-", "").encode() not in stored


def test_a_code_works_only_for_its_level_and_petition(client, open_petition):
    _batch, codes = code_batch_create(petition=open_petition, level="flyer", size=10)
    pending = start(client, open_petition, "in_person")
    response = ask(client, open_petition, "in_person", pending, code=codes[0])
    assert (response.status_code, response.json()["error"]["code"]) == (403, "invalid_code")
    assert not SigningCode.objects.filter(used=True).exists()


def test_a_revoked_batch_issues_nothing(client, open_petition):
    batch, codes = code_batch_create(petition=open_petition, level="in_person", size=10)
    assert code_batch_revoke(batch=batch)  # no count of unused codes
    response = ask(
        client, open_petition, "in_person", start(client, open_petition, "in_person"), code=codes[1]
    )
    assert (response.status_code, response.json()["error"]["code"]) == (403, "invalid_code")


def test_an_expired_batch_issues_nothing(client, open_petition):
    batch, codes = code_batch_create(
        petition=open_petition,
        level="in_person",
        size=10,
        expires_at=timezone.now() + timedelta(days=1),
    )
    CodeBatch.objects.filter(pk=batch.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    before = snapshot()
    response = ask(
        client, open_petition, "in_person", start(client, open_petition, "in_person"), code=codes[0]
    )
    assert (response.status_code, response.json()["error"]["code"]) == (403, "invalid_code")
    assert snapshot() == before


def test_a_batch_waiting_for_approval_issues_nothing_until_approved(
    client, open_petition, moderator, organizer
):
    open_petition.campaign.code_batches_need_approval = True
    open_petition.campaign.save()
    batch, codes = code_batch_create(
        petition=open_petition, level="in_person", size=10, actor=moderator
    )
    pending = start(client, open_petition, "in_person")
    response = ask(client, open_petition, "in_person", pending, code=codes[0])
    assert (response.status_code, response.json()["error"]["code"]) == (403, "invalid_code")
    code_batch_approve(batch=batch, actor=organizer)
    response = ask(client, open_petition, "in_person", pending, code=codes[0])
    assert response.status_code == 200, response.content


CODE_ERRORS = [
    ("unknown level", {"level": "ceo"}, 400, "malformed"),
    ("no code", {"code": ""}, 400, "malformed"),
    ("blinded too short", {"blinded_msg": b64(b"\x01" * 255)}, 400, "malformed"),
    ("blinded zero", {"blinded_msg": b64(b"\x00" * 256)}, 400, "malformed"),
    ("blinded not below n", {"blinded_msg": b64(b"\xff" * 256)}, 400, "malformed"),
    ("blinded padded", {"blinded_msg": "AA=="}, 400, "malformed"),
    ("wrong code", {"code": "00000-00000"}, 403, "invalid_code"),
]


@pytest.mark.parametrize(
    ("label", "override", "status", "code"), CODE_ERRORS, ids=[e[0] for e in CODE_ERRORS]
)
def test_credential_errors_change_nothing(client, open_petition, label, override, status, code):
    _batch, codes = code_batch_create(petition=open_petition, level="in_person", size=10)
    pending = start(client, open_petition, "in_person")
    body = {"level": "in_person", "code": codes[0], "blinded_msg": b64(pending.blinded), **override}
    before = snapshot()
    response = post(client, open_petition, "credentials", body)
    assert (response.status_code, response.json()["error"]["code"]) == (status, code)
    assert snapshot() == before


def test_no_credential_once_the_petition_is_closed(client, open_petition):
    _batch, codes = code_batch_create(petition=open_petition, level="in_person", size=10)
    pending = start(client, open_petition, "in_person")
    petition_close(petition=open_petition)
    response = ask(client, open_petition, "in_person", pending, code=codes[0])
    assert (response.status_code, response.json()["error"]["code"]) == (403, "petition_not_open")


# --- work email -----------------------------------------------------------------------


@pytest.fixture
def mailed_code(client, open_petition, django_capture_on_commit_callbacks):
    def request(email):
        with django_capture_on_commit_callbacks(execute=True):
            response = post(client, open_petition, "email-codes", {"email": email})
        assert response.status_code == 202
        return re.search(r"\b(\d{8})\b", mail.outbox[-1].body).group(1)

    return request


def test_work_email_code_yields_one_credential(client, open_petition, mailed_code):
    code = mailed_code("Ada@Example.com")
    message = mail.outbox[-1]
    assert message.to == ["ada@example.com"]
    assert open_petition.title not in message.subject + message.body  # neutral mail
    pending = start(client, open_petition, "work_email")
    response = ask(client, open_petition, "work_email", pending, email="ada@example.com", code=code)
    assert response.status_code == 200, response.content
    credential = pending.finish(response.json()["blind_sig"])
    assert post(client, open_petition, "signatures", credential.payload()).status_code == 201
    assert not EmailCode.objects.exists()

    # "Already used" is said only to whoever holds a fresh code from that mailbox (P3).
    code = mailed_code("ada@example.com")
    again = ask(
        client,
        open_petition,
        "work_email",
        start(client, open_petition, "work_email"),
        email="ada@example.com",
        code=code,
    )
    assert (again.status_code, again.json()["error"]["code"]) == (409, "already_issued")


def test_code_request_answer_is_identical_for_eligible_used_and_unknown(
    client, open_petition, mailed_code
):
    code = mailed_code("used@example.com")
    pending = start(client, open_petition, "work_email")
    assert (
        ask(
            client, open_petition, "work_email", pending, email="used@example.com", code=code
        ).status_code
        == 200
    )
    answers = [
        post(client, open_petition, "email-codes", {"email": address})
        for address in ("fresh@example.com", "used@example.com", "nobody-by-this-name@example.com")
    ]
    assert {a.status_code for a in answers} == {202}
    assert len({a.content for a in answers}) == 1
    assert len({tuple(sorted(a.headers.items())) for a in answers}) == 1


@pytest.mark.parametrize(
    ("email", "code"),
    [
        ("not-an-address", "invalid_email"),
        ("ada@evil.example", "domain_not_accepted"),
        (None, "invalid_email"),
    ],
)
def test_code_request_rejects_bad_addresses(client, open_petition, email, code):
    response = post(client, open_petition, "email-codes", {"email": email})
    assert (response.status_code, response.json()["error"]["code"]) == (400, code)
    assert not EmailCode.objects.exists() and not mail.outbox


def test_wrong_email_codes_count_attempts_then_lock(client, open_petition, mailed_code):
    code = mailed_code("bob@example.com")
    pending = start(client, open_petition, "work_email")
    for _ in range(5):
        response = ask(
            client,
            open_petition,
            "work_email",
            pending,
            email="bob@example.com",
            code="12345678" if code != "12345678" else "1",
        )
        assert (response.status_code, response.json()["error"]["code"]) == (403, "invalid_code")
    response = ask(client, open_petition, "work_email", pending, email="bob@example.com", code=code)
    assert (response.status_code, response.json()["error"]["code"]) == (403, "invalid_code")
    assert not EmailLedger.objects.exists()


def test_expired_email_code_is_refused(client, open_petition, mailed_code):
    code = mailed_code("cy@example.com")
    EmailCode.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    response = ask(
        client,
        open_petition,
        "work_email",
        start(client, open_petition, "work_email"),
        email="cy@example.com",
        code=code,
    )
    assert (response.status_code, response.json()["error"]["code"]) == (403, "code_expired")
    # A wrong guess does not learn that a code is pending for this address.
    wrong = "00000000" if code != "00000000" else "11111111"
    response = ask(
        client,
        open_petition,
        "work_email",
        start(client, open_petition, "work_email"),
        email="cy@example.com",
        code=wrong,
    )
    assert (response.status_code, response.json()["error"]["code"]) == (403, "invalid_code")


def test_closing_the_petition_destroys_the_email_ledger(client, open_petition, mailed_code):
    code = mailed_code("dee@example.com")
    ask(
        client,
        open_petition,
        "work_email",
        start(client, open_petition, "work_email"),
        email="dee@example.com",
        code=code,
    )
    assert EmailLedger.objects.count() == 1
    petition_close(petition=open_petition)
    assert not EmailLedger.objects.exists() and not EmailCode.objects.exists()


# --- concurrency on PostgreSQL ----------------------------------------------------------


def _race(requests) -> list[int]:
    statuses: list[int] = []
    barrier = threading.Barrier(len(requests), timeout=30)

    def run(request):
        try:
            barrier.wait()
            statuses.append(request(Client()).status_code)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(r,)) for r in requests]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return statuses


@pytest.mark.django_db(transaction=True)
def test_fifty_concurrent_issuances_on_one_code_issue_once(draft_petition):
    assert connection.vendor == "postgresql"
    petition = petition_publish(petition=draft_petition)
    _batch, codes = code_batch_create(petition=petition, level="in_person", size=10)
    pendings = [start(Client(), petition, "in_person") for _ in range(50)]
    statuses = _race(
        [(lambda c, p=p: ask(c, petition, "in_person", p, code=codes[0])) for p in pendings]
    )
    assert sorted(statuses) == [200] + [409] * 49
    assert IssuanceCount.objects.get(petition=petition, level="in_person").issued == 1


@pytest.mark.django_db(transaction=True)
def test_fifty_concurrent_issuances_on_one_email_issue_once(draft_petition):
    draft_petition.accepts_work_email = True
    draft_petition.save()
    petition = petition_publish(petition=draft_petition)
    response = post(Client(), petition, "email-codes", {"email": "race@example.com"})
    assert response.status_code == 202
    code = re.search(r"\b(\d{8})\b", mail.outbox[-1].body).group(1)
    pendings = [start(Client(), petition, "work_email") for _ in range(50)]
    statuses = _race(
        [
            (lambda c, p=p: ask(c, petition, "work_email", p, email="race@example.com", code=code))
            for p in pendings
        ]
    )
    assert statuses.count(200) == 1
    assert set(statuses) <= {200, 403, 409}  # losers find the code spent or the ledger full
    assert EmailLedger.objects.count() == 1
    assert IssuanceCount.objects.get(petition=petition, level="work_email").issued == 1
