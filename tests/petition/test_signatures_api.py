"""Redemption, withdrawal and the public log (protocol v1): every error row, with its
status and code, and nothing changed in the database afterwards."""

from __future__ import annotations

import datetime
import json
import re
import threading
import time
import uuid

import pytest
from django.db import connection, transaction
from django.utils import timezone

from petition import blindrsa, sealing
from petition.models import Petition, Signature, WindowKey
from petition.services import petition_close, petition_publish
from tests.factories import PetitionFactory
from tests.signing_client import b64, mint

pytestmark = pytest.mark.django_db


def post(client, petition, path, body):
    data = body if isinstance(body, (str, bytes)) else json.dumps(body)
    return client.post(
        f"/api/v1/petitions/{petition.slug}/{path}", data, content_type="application/json"
    )


@pytest.mark.parametrize(
    "comment",
    [
        "First line\nsecond line",
        "می\u200cخواهیم",  # noqa: RUF001  (Persian needs the zero-width non-joiner)
        "Solidarity 👩\u200d🔧",  # an emoji sequence joined with ZWJ
        "\U0001f3f4\U000e0067\U000e0062\U000e0073\U000e0063\U000e0074\U000e007f",  # a flag
        "\u200fلا نريد\u200f",  # noqa: RUF001  (Arabic between right-to-left marks)
    ],
)
def test_comments_in_every_script_are_accepted(client, open_petition, comment):
    response = post(
        client, open_petition, "signatures", mint(open_petition).payload(comment=comment)
    )
    assert response.status_code == 201, response.json()
    assert Signature.objects.get().comment == comment


def test_a_valid_signature_is_accepted_counted_and_logged(client, open_petition):
    credential = mint(open_petition)
    response = post(
        client,
        open_petition,
        "signatures",
        credential.payload(display_name="  Ada ", comment="Count me in"),
    )
    assert response.status_code == 201
    assert not response.cookies
    nullifier = blindrsa.nullifier(credential.token)
    body = response.json()
    assert body["nullifier"] == b64(nullifier)
    # The receipt says when the signature becomes public: here at once (immediate policy).
    assert body["publication"]["immediate"] is True
    assert body["publication"]["public_by"] == timezone.now().date().isoformat()

    signature = Signature.objects.get()
    assert bytes(signature.nullifier) == nullifier
    assert signature.level == "in_person" and signature.display_name == "Ada"
    assert type(signature.published_on) is datetime.date

    counts = client.get(f"/api/v1/petitions/{open_petition.slug}").json()["counts"]
    assert counts == {"total": 1, "work_email": 0, "in_person": 1, "flyer": 0}
    log = client.get(f"/api/v1/petitions/{open_petition.slug}/log").json()["entries"]
    assert log == [
        {
            "nullifier": b64(nullifier),
            "key_id": b64(credential.key_id),
            "msg": b64(credential.prepared),
            "sig": b64(credential.sig),
            "withdrawn": False,
        }
    ]


def test_anyone_can_reverify_the_public_log(client, open_petition):
    for level in ("in_person", "flyer", "in_person"):
        post(client, open_petition, "signatures", mint(open_petition, level).payload())
    keys = {
        k["key_id"]: k
        for k in client.get(f"/api/v1/petitions/{open_petition.slug}/keys").json()["keys"]
    }
    entries = client.get(f"/api/v1/petitions/{open_petition.slug}/log").json()["entries"]
    from cryptography.hazmat.primitives.serialization import load_der_public_key

    for entry in entries:
        public = load_der_public_key(blindrsa.b64url_decode(keys[entry["key_id"]]["spki"]))
        prepared = blindrsa.b64url_decode(entry["msg"])
        assert blindrsa.verify(public, prepared, blindrsa.b64url_decode(entry["sig"]))
    raw = [blindrsa.b64url_decode(e["nullifier"]) for e in entries]
    assert raw == sorted(raw)  # sorted by nullifier, never by arrival
    counts = client.get(f"/api/v1/petitions/{open_petition.slug}").json()["counts"]
    assert counts["total"] == len(entries) == 3


def test_second_use_of_a_credential_is_refused(client, open_petition):
    credential = mint(open_petition)
    assert post(client, open_petition, "signatures", credential.payload()).status_code == 201
    response = post(client, open_petition, "signatures", credential.payload())
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "already_signed"
    assert Signature.objects.count() == 1


def _tamper(payload: dict, field: str, value) -> dict:
    return {**payload, field: value}


ERROR_ROWS = [
    ("not json", lambda c, p: "{", 400, "malformed"),
    ("a list", lambda c, p: [1], 400, "malformed"),
    (
        "missing sig",
        lambda c, p: {k: v for k, v in c.payload().items() if k != "sig"},
        400,
        "malformed",
    ),
    (
        "padded base64",
        lambda c, p: _tamper(c.payload(), "key_id", b64(c.key_id) + "="),
        400,
        "malformed",
    ),
    (
        "short key id",
        lambda c, p: _tamper(c.payload(), "key_id", b64(c.key_id[:31])),
        400,
        "malformed",
    ),
    ("short msg", lambda c, p: _tamper(c.payload(), "msg", b64(c.prepared[:-1])), 400, "malformed"),
    ("number as sig", lambda c, p: _tamper(c.payload(), "sig", 12), 400, "malformed"),
    ("long display name", lambda c, p: c.payload(display_name="x" * 81), 400, "malformed"),
    (
        "comment reversed by a bidi override",
        lambda c, p: c.payload(comment="I agree \u202egnorw si siht"),
        400,
        "text_not_allowed",
    ),
    (
        "name with an isolate and a null byte",
        lambda c, p: c.payload(display_name="Ada\u2066\x00"),
        400,
        "text_not_allowed",
    ),
    # A lone surrogate is valid JSON ("\ud800") but no UTF-8 text: it could neither be sealed
    # nor stored, and answered 500.
    ("comment with a lone surrogate", lambda c, p: c.payload(comment="a\ud800b"), 400, "malformed"),
    ("unknown key", lambda c, p: _tamper(c.payload(), "key_id", b64(b"\0" * 32)), 403, "wrong_key"),
    (
        "flipped signature bit",
        lambda c, p: _tamper(c.payload(), "sig", b64(bytes([c.sig[0] ^ 1]) + c.sig[1:])),
        403,
        "bad_signature",
    ),
    (
        "signature over another message",
        lambda c, p: _tamper(
            c.payload(), "msg", b64(c.prepared[:-1] + bytes([c.prepared[-1] ^ 1]))
        ),
        403,
        "bad_signature",
    ),
]


@pytest.mark.parametrize(
    ("label", "body", "status", "code"), ERROR_ROWS, ids=[r[0] for r in ERROR_ROWS]
)
def test_signature_errors_answer_the_protocol_status_and_change_nothing(
    client, open_petition, label, body, status, code
):
    credential = mint(open_petition)
    response = post(client, open_petition, "signatures", body(credential, open_petition))
    assert response.status_code == status, response.content
    assert response.json()["error"]["code"] == code
    assert Signature.objects.count() == 0


def test_a_credential_for_another_petition_is_refused(client, open_petition, campaign):
    other = petition_publish(petition=PetitionFactory(campaign=campaign))
    credential = mint(other)
    response = post(client, open_petition, "signatures", credential.payload())
    assert (response.status_code, response.json()["error"]["code"]) == (403, "wrong_key")
    # Signed by this petition's key but naming another petition inside the message:
    forged = mint(open_petition, petition_id=other.id.bytes)
    response = post(client, open_petition, "signatures", forged.payload())
    assert (response.status_code, response.json()["error"]["code"]) == (403, "petition_mismatch")
    assert Signature.objects.count() == 0


def test_a_closed_petition_takes_no_signature(client, open_petition):
    credential = mint(open_petition)
    petition_close(petition=open_petition)
    response = post(client, open_petition, "signatures", credential.payload())
    assert (response.status_code, response.json()["error"]["code"]) == (403, "petition_not_open")
    assert Signature.objects.count() == 0


def test_unknown_petition_and_wrong_method(client, open_petition):
    response = client.post(
        "/api/v1/petitions/nope/signatures", "{}", content_type="application/json"
    )
    assert (response.status_code, response.json()["error"]["code"]) == (404, "not_found")
    response = client.get(f"/api/v1/petitions/{open_petition.slug}/signatures")
    assert (response.status_code, response.json()["error"]["code"]) == (405, "method_not_allowed")


def test_withdrawal_with_the_token_takes_the_signature_out_of_the_count(client, open_petition):
    credential = mint(open_petition)
    post(client, open_petition, "signatures", credential.payload())
    response = post(client, open_petition, "withdrawals", {"token": b64(credential.token)})
    assert response.status_code == 200
    assert not response.cookies
    counts = client.get(f"/api/v1/petitions/{open_petition.slug}").json()["counts"]
    assert counts["total"] == 0
    log = client.get(f"/api/v1/petitions/{open_petition.slug}/log").json()["entries"]
    assert [e["withdrawn"] for e in log] == [True]


@pytest.mark.parametrize(
    ("token", "status", "code"),
    [
        (b64(b"\x07" * 32), 404, "not_found"),
        (b64(b"\x07" * 31), 400, "malformed"),
        ("***", 400, "malformed"),
    ],
)
def test_withdrawal_errors(client, open_petition, token, status, code):
    credential = mint(open_petition)
    post(client, open_petition, "signatures", credential.payload())
    response = post(client, open_petition, "withdrawals", {"token": token})
    assert (response.status_code, response.json()["error"]["code"]) == (status, code)
    assert not Signature.objects.get().withdrawn


def test_the_signature_endpoint_needs_no_csrf_token(open_petition):
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    response = post(strict, open_petition, "signatures", mint(open_petition).payload())
    assert response.status_code == 201


@pytest.mark.django_db(transaction=True)
def test_fifty_concurrent_redemptions_of_one_credential_make_one_signature(draft_petition):
    from django.test import Client

    assert connection.vendor == "postgresql"
    petition = petition_publish(petition=draft_petition)
    credential = mint(petition)
    statuses: list[int] = []
    barrier = threading.Barrier(50, timeout=30)

    def redeem():
        try:
            barrier.wait()
            statuses.append(
                post(Client(), petition, "signatures", credential.payload()).status_code
            )
        finally:
            connection.close()

    threads = [threading.Thread(target=redeem) for _ in range(50)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(statuses) == [201] + [409] * 49
    assert Signature.objects.filter(petition=petition).count() == 1


@pytest.mark.django_db(transaction=True)
def test_a_redemption_waiting_on_a_batch_that_drops_its_window_key_seals_under_a_new_one(
    draft_petition,
):
    # A batch holds the petition row while it retires the window key (and deletes it once
    # nothing waits under it). A redemption waiting on that lock must read the keys after it
    # gets the lock, not from before: a key read stale would be a foreign-key failure at
    # commit (a false 409 for a fresh credential) or an entry sealed under a retired key.
    from django.test import Client

    assert connection.vendor == "postgresql"
    petition = petition_publish(petition=draft_petition)
    stale, _secret = sealing.window_key_current(petition, "in_person")
    credential = mint(petition)
    statuses: list[int] = []

    def redeem():
        try:
            response = post(Client(), petition, "signatures", credential.payload())
            statuses.append(response.status_code)
        finally:
            connection.close()

    thread = threading.Thread(target=redeem)
    with transaction.atomic():
        list(Petition.objects.select_for_update(no_key=True).filter(pk=petition.pk))
        thread.start()
        deadline = time.monotonic() + 30
        with connection.cursor() as cursor:
            while True:  # until the redemption waits on the petition's lock
                # pg_locks, not pg_stat_activity: that view is read once per transaction.
                cursor.execute("SELECT count(*) FROM pg_locks WHERE NOT granted")
                if cursor.fetchone()[0]:
                    break
                assert time.monotonic() < deadline, "the redemption never waited on the lock"
                time.sleep(0.05)
        WindowKey.objects.filter(pk=stale.pk).delete()  # what the batch does to an empty key
    thread.join(timeout=60)
    assert statuses == [201]
    assert Signature.objects.filter(petition=petition).count() == 1
    assert not WindowKey.objects.filter(pk=stale.pk).exists()


def test_signature_rows_have_random_ids_and_no_time_of_day(client, open_petition):
    for _ in range(3):
        post(client, open_petition, "signatures", mint(open_petition).payload())
    fields = {f.name: f for f in Signature._meta.get_fields() if hasattr(f, "get_internal_type")}
    assert fields["id"].get_internal_type() == "UUIDField"
    assert not [n for n, f in fields.items() if f.get_internal_type() == "DateTimeField"]
    assert all(isinstance(s.id, uuid.UUID) for s in Signature.objects.all())


def test_petition_page_shows_counts_per_verification_level(client, open_petition):
    for level in ("in_person", "flyer", "flyer"):
        post(client, open_petition, "signatures", mint(open_petition, level).payload())
    html = client.get(open_petition.get_absolute_url()).content.decode()
    counts = dict(re.findall(r"<dt>([^<]+)</dt><dd[^>]*>(\d+)</dd>", html))
    assert counts == {
        "Work email code": "0",
        "Code from a moderator": "1",
        "Code from a flyer tab": "2",
    }
