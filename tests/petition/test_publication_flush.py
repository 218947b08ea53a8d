"""Batches nobody can flush around one chosen signature: withdrawals never fill a batch, a
lone waiting signature is never published alone while the petition is open, and, over any
arrival sequence, no batch adds fewer than k new signatures of a level while every accepted
signature is published exactly once by the close."""

from __future__ import annotations

import datetime
import json
import random

import pytest
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from organizing.models import AuditEntry
from petition import blindrsa, publication, publication_policy
from petition.models import (
    PendingSignature,
    PendingWithdrawal,
    Petition,
    PublicationBatch,
    PublicationSlot,
    Signature,
)
from petition.selectors import petition_counts
from petition.services import petition_close, petition_publish
from petition.signing import signature_redeem, signature_withdraw
from petition.tasks import publication_sweep
from tests.signing_client import b64, mint

pytestmark = pytest.mark.django_db


def _sign(client, petition, credential, **extra):
    return client.post(
        f"/api/v1/petitions/{petition.slug}/signatures",
        json.dumps(credential.payload(**extra)),
        content_type="application/json",
    )


def _withdraw(client, petition, credential):
    return client.post(
        f"/api/v1/petitions/{petition.slug}/withdrawals",
        json.dumps({"token": b64(credential.token)}),
        content_type="application/json",
    )


@pytest.fixture
def beta_batched(draft_petition):
    """The review's `beta-batched`: k = 5, interval 0 (every run decides), a day's wait."""
    draft_petition.publish_interval = 0
    draft_petition.publish_min_batch = 5
    draft_petition.publish_max_wait = 86400
    draft_petition.save()
    return petition_publish(petition=draft_petition)


def test_withdrawals_cannot_fill_a_batch_around_one_new_signature(client, beta_batched):
    """The flush as first reproduced: 5 attacker signatures → batch 1; the attacker withdraws 4; the
    target signs with a comment; the job runs → no batch "added 1, withdrawn 4"."""
    attacker = [mint(beta_batched) for _ in range(5)]
    for credential in attacker:
        assert _sign(client, beta_batched, credential).status_code == 201
    publication_sweep()
    (first,) = PublicationBatch.objects.filter(petition=beta_batched)
    assert (first.added, first.withdrawn) == (5, 0)

    for credential in attacker[:4]:
        assert _withdraw(client, beta_batched, credential).status_code == 200
    publication_sweep()
    assert PublicationBatch.objects.filter(petition=beta_batched).count() == 1

    target = mint(beta_batched)
    assert _sign(client, beta_batched, target, comment="my team lead…").status_code == 201
    log_before = client.get(f"/api/v1/petitions/{beta_batched.slug}/log").json()["entries"]
    publication_sweep()
    batches = list(PublicationBatch.objects.filter(petition=beta_batched))
    assert [(b.added, b.withdrawn) for b in batches] == [(5, 0)], "no 'added 1, withdrawn 4'"
    log_after = client.get(f"/api/v1/petitions/{beta_batched.slug}/log").json()["entries"]
    assert log_after == log_before  # the target's nullifier is not singled out
    audit_page = client.get(f"/p/{beta_batched.slug}/audit/").content.decode()
    batch_table = audit_page.split("Publication batches", 1)[1].split("</table>", 1)[0]
    assert batch_table.count("<tr>") == 2  # the header and batch 1: no "1 / 4" row

    # Four more people sign: a batch of five new signatures, the withdrawals riding along.
    for _ in range(4):
        _sign(client, beta_batched, mint(beta_batched))
    publication_sweep()
    newest = PublicationBatch.objects.filter(petition=beta_batched).latest("number")
    assert (newest.added, newest.withdrawn) == (5, 4)


def test_a_lone_signature_past_the_maximum_wait_is_not_published_alone(client, beta_batched):
    assert _sign(client, beta_batched, mint(beta_batched), comment="alone").status_code == 201
    due = publication_policy.overdue_at(timezone.now().date(), beta_batched.publish_max_wait)
    for hours in (0, 1, 24, 24 * 7):
        later = due + datetime.timedelta(hours=hours)
        assert publication.petition_publish_pending(petition_id=beta_batched.id, now=later) == []
    assert PublicationBatch.objects.filter(petition=beta_batched).count() == 0
    assert petition_counts(beta_batched)["total"] == 0
    # Closing publishes it (visible, audited, irreversible).
    petition_close(petition=beta_batched)
    assert petition_counts(beta_batched)["total"] == 1
    assert AuditEntry.objects.filter(action="petition_close").exists()


def test_an_outsider_sending_the_kth_entry_mid_slot_does_not_close_the_batch(
    client, draft_petition
):
    """n-1 flush with an hourly slot: the target and three known entries wait; the attacker's
    fifth arrives mid-slot; nothing is decided until the next boundary."""
    draft_petition.publish_interval, draft_petition.publish_min_batch = 3600, 5
    draft_petition.save()
    petition = petition_publish(petition=draft_petition)
    boundary = publication_policy.slot_start(timezone.now(), 3600)
    for _ in range(4):
        _sign(client, petition, mint(petition))
    assert (
        publication.petition_publish_pending(
            petition_id=petition.id, now=boundary + datetime.timedelta(seconds=30)
        )
        == []
    )  # the slot is decided: four waiting, no batch
    _sign(client, petition, mint(petition))  # the k-th
    for minutes in (1, 2, 15, 59):
        now = boundary + datetime.timedelta(minutes=minutes)
        assert publication.petition_publish_pending(petition_id=petition.id, now=now) == []
    assert PublicationSlot.objects.get(petition=petition, level="in_person").decided_at == (
        boundary
    )
    later = boundary + datetime.timedelta(hours=1, seconds=30)
    assert [
        b.added for b in publication.petition_publish_pending(petition_id=petition.id, now=later)
    ] == [5]


# --- Property: over arrival sequences -------------------------------------------------------

LEVELS = ("in_person", "flyer")
POOL = 40  # credentials per level, minted once

operations = st.lists(
    st.one_of(
        st.tuples(st.just("sign"), st.sampled_from(LEVELS)),
        st.tuples(st.just("withdraw"), st.integers(0, 10_000)),
        # Advance the clock by some minutes, then run the job (a random, seeded draw).
        st.tuples(st.just("run"), st.integers(0, 600), st.integers(0, 2**32 - 1)),
    ),
    max_size=70,
)


@pytest.fixture
def property_petition(draft_petition):
    draft_petition.publish_interval = 3600
    draft_petition.publish_min_batch = 5
    draft_petition.publish_max_wait = 86400
    draft_petition.accepts_flyer = True
    draft_petition.save()
    petition = petition_publish(petition=draft_petition)
    credentials = {level: [mint(petition, level) for _ in range(POOL)] for level in LEVELS}
    return petition, credentials


def _reset(petition: Petition, k: int) -> None:
    """A fresh start for the next example, inside the test's transaction."""
    Signature.objects.filter(petition=petition).delete()
    PublicationBatch.objects.filter(petition=petition).delete()
    PendingSignature.objects.filter(petition=petition).delete()
    PendingWithdrawal.objects.filter(petition=petition).delete()
    PublicationSlot.objects.filter(petition=petition).delete()
    Petition.objects.filter(pk=petition.pk).update(
        status=Petition.Status.PUBLISHED, closed_at=None, publish_min_batch=k
    )
    petition.refresh_from_db()


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(ops=operations, k=st.integers(5, 7))
def test_no_open_batch_adds_fewer_than_k_and_every_signature_is_published_once(
    property_petition, ops, k
):
    petition, credentials = property_petition
    _reset(petition, k)
    signed: list = []
    unused = {level: list(credentials[level]) for level in LEVELS}
    withdrawn: set[bytes] = set()
    clock = publication_policy.slot_start(timezone.now(), 3600) + datetime.timedelta(seconds=20)
    seen: set = set()

    for op in ops:
        if op[0] == "sign" and unused[op[1]]:
            credential = unused[op[1]].pop()
            signature_redeem(petition=petition, payload=credential.payload())
            signed.append(credential)
        elif op[0] == "withdraw" and signed:
            credential = signed[op[1] % len(signed)]
            signature_withdraw(petition=petition, payload={"token": b64(credential.token)})
            withdrawn.add(blindrsa.nullifier(credential.token))
        elif op[0] == "run":
            clock += datetime.timedelta(minutes=op[1])
            publication.petition_publish_pending(
                petition_id=petition.id, now=clock, rng=random.Random(op[2])
            )
            for batch in PublicationBatch.objects.filter(petition=petition).exclude(pk__in=seen):
                seen.add(batch.pk)
                # Right after its run, a batch's rows that are not withdrawn are its new,
                # live signatures (later withdrawals can only come with later batches).
                live = Signature.objects.filter(batch=batch, withdrawn=False).count()
                if batch.added == 0:
                    assert batch.withdrawn >= k, (batch.added, batch.withdrawn)
                else:
                    assert live >= k, (batch.added, batch.withdrawn, live)

    petition_close(petition=petition)
    published = list(Signature.objects.filter(petition=petition).values_list("nullifier", "level"))
    expected = sorted(blindrsa.nullifier(c.token) for c in signed)
    assert sorted(bytes(n) for n, _ in published) == expected  # each exactly once
    assert not PendingSignature.objects.filter(petition=petition).exists()
    assert not PendingWithdrawal.objects.filter(petition=petition).exists()
    marked = Signature.objects.filter(petition=petition, withdrawn=True)
    assert {bytes(n) for n in marked.values_list("nullifier", flat=True)} == withdrawn
    counts = petition_counts(petition)
    for level in LEVELS:
        rows = Signature.objects.filter(petition=petition, level=level)
        assert counts[level] == rows.filter(withdrawn=False).count()
        last = PublicationBatch.objects.filter(petition=petition, level=level).last()
        assert (last.total_added if last else 0) == rows.count()
    assert counts["total"] == len(signed) - len(withdrawn)
