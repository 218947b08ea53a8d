"""One mailbox, one credential: work addresses are reduced to one canonical form before the
ledger sees them, and a stranger cannot keep replacing a colleague's code."""

from __future__ import annotations

import json
import re
import time

import pytest
import redis
from django.conf import settings
from django.core import mail

from petition.models import EmailCode, EmailLedger, IssuanceCount
from petition.protocol import ProtocolError
from petition.workemail import canonical_address
from tests.signing_client import b64, start

pytestmark = pytest.mark.django_db


def post(client, petition, path, body):
    return client.post(
        f"/api/v1/petitions/{petition.slug}/{path}",
        json.dumps(body),
        content_type="application/json",
    )


@pytest.fixture
def request_code(client, open_petition, django_capture_on_commit_callbacks):
    """Ask for a code; returns (answer, the code mailed or None)."""

    def _request(email):
        sent = len(mail.outbox)
        with django_capture_on_commit_callbacks(execute=True):
            answer = post(client, open_petition, "email-codes", {"email": email})
        if len(mail.outbox) == sent:
            return answer, None
        return answer, re.search(r"\b(\d{8})\b", mail.outbox[-1].body).group(1)

    return _request


def _credential(client, petition, email, code):
    pending = start(client, petition, "work_email")
    return post(
        client,
        petition,
        "credentials",
        {"level": "work_email", "blinded_msg": b64(pending.blinded), "email": email, "code": code},
    )


def test_four_spellings_of_one_mailbox_get_one_credential(client, open_petition, request_code):
    _answer, code = request_code("x+one@example.com")
    assert mail.outbox[-1].to == ["x@example.com"]  # the code goes to the mailbox itself
    first = _credential(client, open_petition, "x+one@example.com", code)
    assert first.status_code == 200, first.content

    _answer, code = request_code("x@example.com")
    again = _credential(client, open_petition, "x@example.com", code)
    assert (again.status_code, again.json()["error"]["code"]) == (409, "already_issued")

    _answer, code = request_code("X+two@Example.COM")
    again = _credential(client, open_petition, "X+two@Example.COM", code)
    assert (again.status_code, again.json()["error"]["code"]) == (409, "already_issued")

    quoted = post(client, open_petition, "email-codes", {"email": '"x"@example.com'})
    assert quoted.status_code == 400
    assert quoted.json()["error"]["code"] == "unsupported_address"
    assert "quotes" in quoted.json()["error"]["message"]

    assert EmailLedger.objects.count() == 1
    assert IssuanceCount.objects.get(petition=open_petition, level="work_email").issued == 1


@pytest.mark.parametrize(
    ("typed", "canonical"),
    [
        ("Ada.Lovelace@Example.com", "ada.lovelace@example.com"),
        ("  ada+petition+more@example.com ", "ada@example.com"),
        ("ada@example.com.", "ada@example.com"),
        ("ada@Bücher.example", "ada@xn--bcher-kva.example"),
    ],
)
def test_addresses_are_reduced_to_one_canonical_form(typed, canonical):
    assert canonical_address(typed) == canonical


def test_a_campaign_may_add_its_mail_systems_separator(client, open_petition, request_code):
    assert canonical_address("ada-news@example.com") == "ada-news@example.com"
    assert canonical_address("ada-news@example.com", extra_separator="-") == "ada@example.com"
    campaign = open_petition.campaign
    campaign.email_subaddress_separator = "-"
    campaign.save()
    _answer, code = request_code("ada-news@example.com")
    assert mail.outbox[-1].to == ["ada@example.com"]
    assert _credential(client, open_petition, "ada+x@example.com", code).status_code == 200


@pytest.mark.parametrize(
    ("typed", "code"),
    [
        ('"x"@example.com', "unsupported_address"),
        ('"x y"@example.com', "unsupported_address"),
        ("x(comment)@example.com", "unsupported_address"),
        ("x@(comment)example.com", "unsupported_address"),
        ("+tag@example.com", "invalid_email"),
        ("x@", "invalid_email"),
        ("@example.com", "invalid_email"),
        ("x@exa mple.com", "invalid_email"),
        ("x" * 250 + "@example.com", "invalid_email"),
    ],
)
def test_quoted_commented_and_broken_addresses_are_refused(client, open_petition, typed, code):
    with pytest.raises(ProtocolError) as refused:
        canonical_address(typed)
    assert (refused.value.status, refused.value.code) == (400, code)
    answer = post(client, open_petition, "email-codes", {"email": typed})
    assert (answer.status_code, answer.json()["error"]["code"]) == (400, code)
    assert not EmailCode.objects.exists() and not mail.outbox


def test_a_stranger_cannot_keep_replacing_a_colleagues_code(client, open_petition, request_code):
    answers = tuple(request_code(s)[0] for s in ("ada@example.com", "ada+1@example.com"))
    # The colleague asks for the third code of the hour; a stranger then keeps asking.
    answer, colleague_code = request_code("ada@example.com")
    answers += (answer,)
    for spelling in ("ADA@example.com", "ada+again@example.com", "ada@example.com"):
        answer, code = request_code(spelling)
        answers += (answer,)
        assert code is None  # nothing made, nothing mailed
    assert len(mail.outbox) == 3
    # Same answer whatever happened (P3), byte for byte.
    assert {a.status_code for a in answers} == {202}
    assert len({a.content for a in answers}) == 1
    assert len({tuple(sorted(a.headers.items())) for a in answers}) == 1
    # The code the colleague received last still works.
    response = _credential(client, open_petition, "ada@example.com", colleague_code)
    assert response.status_code == 200, response.content


def test_the_replacement_counter_expires_at_the_end_of_the_hour(request_code, open_petition):
    request_code("timing@example.com")
    r = redis.Redis.from_url(settings.REDIS_URL)
    ours = settings.CACHES["default"]["KEY_PREFIX"]  # other test runs share this Redis
    keys = [k for k in r.keys(f"{ours}:*") if b":email-codes:" in k]
    assert keys
    end_of_hour = 3600 - int(time.time()) % 3600
    for key in keys:
        assert b"timing" not in key
        assert abs(r.ttl(key) - end_of_hour) <= 2


# --- several live codes per mailbox (review S11) -------------------------------------------


def test_an_earlier_code_still_works_after_asking_again(client, open_petition, request_code):
    _answer, first = request_code("reload@example.com")
    _answer, second = request_code("reload@example.com")
    assert first and second and first != second
    assert EmailCode.objects.count() == 2
    response = _credential(client, open_petition, "reload@example.com", first)
    assert response.status_code == 200, response.content
    # One credential per mailbox: the other code is gone with it.
    assert not EmailCode.objects.exists()
    again = _credential(client, open_petition, "reload@example.com", second)
    assert (again.status_code, again.json()["error"]["code"]) == (403, "invalid_code")


def test_wrong_guesses_count_against_every_live_code(client, open_petition, request_code):
    _answer, first = request_code("guess@example.com")
    _answer, second = request_code("guess@example.com")
    wrong = next(c for c in ("11111111", "22222222", "33333333") if c not in (first, second))
    for _ in range(5):
        response = _credential(client, open_petition, "guess@example.com", wrong)
        assert response.json()["error"]["code"] == "invalid_code"
    assert set(EmailCode.objects.values_list("attempts", flat=True)) == {5}
    for code in (first, second):
        locked = _credential(client, open_petition, "guess@example.com", code)
        assert (locked.status_code, locked.json()["error"]["code"]) == (403, "invalid_code")
    assert not EmailLedger.objects.exists()


def test_an_expired_earlier_code_says_expired_and_a_later_one_works(
    client, open_petition, request_code
):
    from datetime import timedelta

    from django.utils import timezone

    _answer, first = request_code("late@example.com")
    EmailCode.objects.update(expires_at=timezone.now() - timedelta(minutes=1))
    _answer, second = request_code("late@example.com")
    expired = _credential(client, open_petition, "late@example.com", first)
    assert (expired.status_code, expired.json()["error"]["code"]) == (403, "code_expired")
    assert _credential(client, open_petition, "late@example.com", second).status_code == 200


def test_codes_that_expired_long_ago_are_cleared_on_the_next_request(open_petition, request_code):
    from datetime import timedelta

    from django.utils import timezone

    request_code("old@example.com")
    EmailCode.objects.update(expires_at=timezone.now() - timedelta(hours=2))
    request_code("old@example.com")
    assert EmailCode.objects.count() == 1
    assert EmailCode.objects.get().expires_at > timezone.now()


def test_the_refusal_names_the_accepted_domains(client, open_petition):
    campaign = open_petition.campaign
    campaign.email_domains = ["example.com", "example.org"]
    campaign.save()
    answer = post(client, open_petition, "email-codes", {"email": "sam@gmail.com"})
    assert (answer.status_code, answer.json()["error"]["code"]) == (400, "domain_not_accepted")
    assert "example.com, example.org" in answer.json()["error"]["message"]
    assert not answer.cookies
    assert not EmailCode.objects.exists() and not mail.outbox
