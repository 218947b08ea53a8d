"""The audit log's hash chains: the table's owner can set the append-only
trigger aside or TRUNCATE, so every row is chained to the one before it, `audit_verify`
finds the first row that was changed, removed or inserted, and the head leaves the
database (audit page, daily digest) so a rewrite of the whole chain shows too."""

from __future__ import annotations

import hashlib
import importlib
import io
import json
import re
import threading
import uuid
from datetime import UTC
from types import SimpleNamespace

import pytest
from django.apps import apps as django_apps
from django.conf import settings
from django.core import mail
from django.core.management import CommandError, call_command
from django.db import DatabaseError, ProgrammingError, connection, transaction
from django.urls import reverse

from organizing.audit import audit_chain_head, audit_record
from organizing.auditchain import GENESIS, entry_hash, verify_chain
from organizing.models import AuditAction, AuditEntry
from organizing.notices.tasks import digests_record
from tests.factories import CampaignFactory, MembershipFactory
from tests.organizing.notices.helpers import sign_and_publish

pytestmark = pytest.mark.django_db

# The test's transaction holds deferred foreign-key checks; the owner's own session would
# not, and ALTER TABLE / TRUNCATE refuse to run past them.
OWNER_REWRITE = """
SET CONSTRAINTS ALL IMMEDIATE;
ALTER TABLE organizing_auditentry DISABLE TRIGGER organizing_auditentry_append_only;
{sql};
ALTER TABLE organizing_auditentry ENABLE TRIGGER organizing_auditentry_append_only;
"""


def _record(campaign, actor=None, **details):
    return audit_record(
        actor=actor,
        action=AuditAction.CAMPAIGN_UPDATE,
        campaign=campaign,
        target=campaign,
        details=details or None,
    )


def _as_owner(sql: str, params=()) -> None:
    """What the review did: the table's owner sets the trigger aside, rewrites, re-enables."""
    assert connection.vendor == "postgresql"
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(OWNER_REWRITE.format(sql=sql), params)


def _verify(*args) -> str:
    out = io.StringIO()
    call_command("audit_verify", *args, stdout=out)
    return out.getvalue()


@pytest.fixture
def chain(campaign, organizer):
    return [_record(campaign, organizer, goal=n) for n in range(1, 6)]


def test_each_entry_is_chained_to_the_previous_one_of_its_campaign(chain, campaign):
    other = CampaignFactory()
    elsewhere = _record(other)
    system = audit_record(actor=None, action=AuditAction.CAMPAIGN_CREATE, campaign=None)
    assert [e.seq for e in chain] == [1, 2, 3, 4, 5]
    assert chain[0].prev_hash == GENESIS
    assert [e.prev_hash for e in chain[1:]] == [e.hash for e in chain[:-1]]
    # Each chain starts afresh: another campaign's actions do not move this head.
    assert (elsewhere.seq, elsewhere.prev_hash) == (1, GENESIS)
    assert (system.seq, system.prev_hash) == (1, GENESIS)
    assert audit_chain_head(campaign).hash == chain[-1].hash
    # The documented encoding, recomputed by hand from the stored row.
    row = AuditEntry.objects.get(pk=chain[2].pk)
    encoded = json.dumps(
        {
            "v": 1,
            "seq": 3,
            "prev": chain[1].hash,
            "campaign": campaign.pk,
            "actor": row.actor_id,
            "actor_email": row.actor_email,
            "action": "campaign_update",
            "object_type": "campaign",
            "object_id": str(campaign.pk),
            "object_label": row.object_label,
            "details": {"goal": 3},
            "created_at": row.created_at.astimezone(UTC).isoformat(timespec="microseconds"),
        },
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
    ).encode()
    assert row.hash == hashlib.sha256(encoded).hexdigest()
    assert "Audit log intact." in _verify()


def test_a_row_rewritten_by_the_tables_owner_is_found(chain):
    _as_owner(
        "UPDATE organizing_auditentry SET details = '{\"goal\": 99}' WHERE id = %s",
        [chain[2].pk],
    )
    assert AuditEntry.objects.get(pk=chain[2].pk).details == {"goal": 99}
    with pytest.raises(CommandError, match=rf"entry {chain[2].pk} \(place 3\).*do not match"):
        _verify()


def test_a_rewritten_row_with_a_fresh_hash_breaks_the_next_link(chain):
    """An owner who also recomputes the edited row's hash breaks the row after it."""
    row = AuditEntry.objects.get(pk=chain[1].pk)
    row.actor_email = "someone.else@organizers.example"
    _as_owner(
        "UPDATE organizing_auditentry SET actor_email = %s, hash = %s WHERE id = %s",
        [row.actor_email, entry_hash(row), row.pk],
    )
    with pytest.raises(CommandError, match=rf"entry {chain[2].pk} \(place 3\).*link"):
        _verify()


def test_a_deleted_middle_row_is_found(chain, campaign):
    _as_owner("DELETE FROM organizing_auditentry WHERE id = %s", [chain[2].pk])
    with pytest.raises(CommandError, match=rf"entry {chain[3].pk} \(place 4\)"):
        _verify("--campaign", campaign.slug)


def test_a_truncated_and_shortened_log_is_found_through_the_head(client, organizer, chain):
    campaign = chain[0].campaign
    client.force_login(organizer)
    page = client.get(reverse("staff:audit_log", kwargs={"slug": campaign.slug})).content.decode()
    seen = audit_chain_head(campaign).hash
    assert seen in page  # the head leaves the database with whoever reads the page
    kept = list(AuditEntry.objects.filter(pk__in=[e.pk for e in chain[:2]]).order_by("seq"))
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE; TRUNCATE organizing_auditentry")
    for entry in kept:  # re-inserted through the app: a chain that adds up on its own
        AuditEntry.objects.create(
            campaign=entry.campaign,
            actor_id=entry.actor_id,
            actor_email=entry.actor_email,
            action=entry.action,
            object_type=entry.object_type,
            object_id=entry.object_id,
            object_label=entry.object_label,
            details=entry.details,
            created_at=entry.created_at,
        )
    assert "Audit log intact." in _verify()
    with pytest.raises(CommandError, match=f"Head {seen} is no longer in the audit log"):
        _verify("--head", seen)


def test_the_head_is_mailed_in_the_daily_digest(
    open_petition, organizer, django_capture_on_commit_callbacks
):
    sign_and_publish(open_petition, 3)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        digests_record()
    head = audit_chain_head(open_petition.campaign)
    digests = [m for m in mail.outbox if "Daily digest" in m.subject]
    assert digests and f"after entry {head.seq}: {head.hash}" in digests[0].body
    assert _verify("--head", head.hash).endswith("Audit log intact.\n")


def test_the_chain_function_names_the_first_break_only(chain):
    rows = list(AuditEntry.objects.filter(campaign=chain[0].campaign).order_by("seq"))
    assert verify_chain(rows) is None
    assert verify_chain(rows[1:]).entry_id == rows[1].pk


# --- concurrency, the migration and the database role (PostgreSQL) ------------------------


@pytest.mark.django_db(transaction=True)
def test_concurrent_writers_do_not_fork_a_chain():
    assert connection.vendor == "postgresql"
    campaign = CampaignFactory()
    actor = MembershipFactory(campaign=campaign, user__totp=False).user
    writers = 8
    barrier = threading.Barrier(writers, timeout=30)
    errors: list[Exception] = []

    def write(n: int) -> None:
        try:
            barrier.wait()
            with transaction.atomic():
                _record(campaign, actor, goal=n)
                _record(None, None)  # and the chain without a campaign, at the same time
        except Exception as exc:  # reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=write, args=(n,)) for n in range(writers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(t.is_alive() for t in threads)
    assert errors == []
    for chain_of in (campaign, None):
        rows = AuditEntry.objects.filter(campaign=chain_of).order_by("seq")
        assert list(rows.values_list("seq", flat=True)) == list(range(1, writers + 1))
        assert verify_chain(rows) is None


def test_the_migration_chains_existing_rows_in_their_order():
    """Rows written before the chain existed get one, by time then id, per campaign. The
    table is put back as it was before migration 0010 (columns empty, no constraints) inside
    the test's transaction, and the migration's own function runs on it."""
    migration = importlib.import_module("organizing.migrations.0010_audit_chain_existing_rows")
    campaign = CampaignFactory()
    with connection.cursor() as cursor:
        cursor.execute(
            "SET CONSTRAINTS ALL IMMEDIATE;"
            " ALTER TABLE organizing_auditentry DROP CONSTRAINT organizing_auditentry_chained;"
            " ALTER TABLE organizing_auditentry ALTER COLUMN seq DROP NOT NULL"
        )
        for when, campaign_id in [
            ("2026-01-02T10:00:00+00:00", campaign.pk),
            ("2026-01-01T10:00:00+00:00", campaign.pk),
            ("2026-01-01T11:00:00+00:00", None),
        ]:
            cursor.execute(
                "INSERT INTO organizing_auditentry (campaign_id, actor_email, action,"
                " object_type, object_id, object_label, details, created_at, prev_hash,"
                " hash) VALUES (%s, '', 'campaign_update', '', '', '', '{\"size\": 10}', %s,"
                " '', '')",
                [campaign_id, when],
            )
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    migration.chain_existing_rows(django_apps, SimpleNamespace(connection=connection))
    rows = list(AuditEntry.objects.filter(campaign=campaign).order_by("seq"))
    assert [(r.seq, r.created_at.day) for r in rows] == [(1, 1), (2, 2)]
    assert verify_chain(rows) is None
    assert AuditEntry.objects.get(campaign=None).seq == 1
    assert "Audit log intact." in _verify()
    # The trigger is back on.
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        connection.cursor().execute("DELETE FROM organizing_auditentry")


def _documented_grants() -> str:
    """The grants docs/operations.md tells operators to run after every migrate."""
    text = (settings.BASE_DIR / "docs" / "operations.md").read_text()
    blocks = re.findall(r"```sql\n(.*?)```", text, flags=re.S)
    (grants,) = [b for b in blocks if "REVOKE UPDATE, DELETE, TRUNCATE" in b]
    return grants


def test_the_documented_app_role_can_add_to_the_log_but_not_rewrite_it(chain, campaign):
    """The other half of tamper evidence: the processes run under a role that does not own
    the table. Roles are cluster-wide, so this one has a name of its own and dies with the
    test's transaction (CREATE ROLE is transactional in PostgreSQL)."""
    role = f"countersign_app_test_{uuid.uuid4().hex[:12]}"
    with connection.cursor() as cursor:
        cursor.execute(f"CREATE ROLE {role} NOLOGIN")
        cursor.execute(f"GRANT USAGE ON SCHEMA public TO {role}")
        cursor.execute(_documented_grants().replace("countersign_app", role))
        cursor.execute(f"SET ROLE {role}")
        try:
            added = _record(campaign, goal=7)  # INSERT, SELECT and the chain's lock work
            assert added.seq == len(chain) + 1
            for sql, refusal in (
                ("TRUNCATE organizing_auditentry", "permission denied"),
                (OWNER_REWRITE.format(sql="SELECT 1"), "must be owner"),
                (
                    "UPDATE organizing_auditentry SET action = 'x' WHERE id = %s",
                    "permission denied",
                ),
                ("DELETE FROM organizing_auditentry WHERE id = %s", "permission denied"),
            ):
                with pytest.raises(ProgrammingError, match=refusal), transaction.atomic():
                    cursor.execute(sql, [chain[0].pk] if "%s" in sql else None)
        finally:
            cursor.execute("RESET ROLE")
