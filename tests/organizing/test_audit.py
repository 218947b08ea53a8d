"""The audit log: every staff action leaves a row nobody can change or delete."""

from __future__ import annotations

import csv
import io
import re
from html import unescape
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import DatabaseError, connection, transaction
from django.urls import reverse
from django.utils import timezone

from organizing.audit import DETAIL_LABELS, OBJECT_KINDS, audit_record
from organizing.models import AuditAction, AuditEntry, AuditLogIsAppendOnly, Invitation
from petition.models import CodeBatch
from petition.services import petition_publish
from tests.factories import form_key
from tests.organizing.audit_helpers import record_every_action

pytestmark = pytest.mark.django_db


def _actions(campaign) -> list[str]:
    return list(
        AuditEntry.objects.filter(campaign=campaign).order_by("id").values_list("action", flat=True)
    )


@pytest.fixture
def entry(campaign, organizer):
    return audit_record(
        actor=organizer, action=AuditAction.CAMPAIGN_UPDATE, campaign=campaign, target=campaign
    )


# --- append-only ------------------------------------------------------------------------


def test_the_orm_refuses_to_change_an_entry(entry):
    entry.action = AuditAction.PETITION_CREATE
    with pytest.raises(AuditLogIsAppendOnly):
        entry.save()
    with pytest.raises(AuditLogIsAppendOnly):
        AuditEntry.objects.filter(pk=entry.pk).update(action="petition_create")
    with pytest.raises(AuditLogIsAppendOnly):
        AuditEntry.objects.bulk_update([entry], ["action"])
    assert AuditEntry.objects.get(pk=entry.pk).action == AuditAction.CAMPAIGN_UPDATE


def test_the_orm_refuses_to_delete_an_entry(entry):
    with pytest.raises(AuditLogIsAppendOnly):
        entry.delete()
    with pytest.raises(AuditLogIsAppendOnly):
        AuditEntry.objects.filter(pk=entry.pk).delete()
    assert AuditEntry.objects.filter(pk=entry.pk).exists()


@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE organizing_auditentry SET action = 'petition_create' WHERE id = %s",
        "UPDATE organizing_auditentry SET actor_id = NULL, actor_email = '' WHERE id = %s",
        "DELETE FROM organizing_auditentry WHERE id = %s",
    ],
)
def test_the_database_refuses_raw_sql_changes(entry, sql):
    assert connection.vendor == "postgresql"
    with (
        pytest.raises(DatabaseError, match="append-only"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(sql, [entry.pk])
    row = AuditEntry.objects.get(pk=entry.pk)
    assert (row.action, row.actor_email) == (AuditAction.CAMPAIGN_UPDATE, entry.actor_email)


def test_deleting_a_campaign_with_history_is_refused(entry, campaign):
    from django.db.models import ProtectedError

    with pytest.raises(ProtectedError):
        campaign.delete()
    assert AuditEntry.objects.filter(pk=entry.pk).exists()


def test_an_entry_outlives_its_actors_account(entry, organizer):
    email = organizer.email
    organizer.delete()
    row = AuditEntry.objects.get(pk=entry.pk)
    assert row.actor_email == email and row.actor_display == email


def test_unknown_actions_and_big_details_are_refused(campaign):
    with pytest.raises(ValueError):
        audit_record(actor=None, action="made_up", campaign=campaign)
    with pytest.raises(ValueError):
        audit_record(
            actor=None,
            action=AuditAction.AUDIT_EXPORT,
            campaign=campaign,
            details={"x": "y" * 5000},
        )
    assert not AuditEntry.objects.exists()


# --- what gets recorded -----------------------------------------------------------------


def test_staff_actions_through_the_pages_are_recorded_with_their_actor(
    client, organizer, campaign, draft_petition
):
    client.force_login(organizer)
    client.post(
        reverse("staff:invitation_create", kwargs={"slug": campaign.slug}),
        {"email": "new@organizers.example", "role": "moderator", "form_key": form_key()},
    )
    for name in ("petition_publish", "petition_close", "petition_deliver"):
        client.post(
            reverse(f"staff:{name}", kwargs={"slug": draft_petition.slug}),
            {"delivered_on": timezone.localdate().isoformat()},
        )
    assert _actions(campaign) == [
        "invitation_create",
        "petition_publish",
        "key_create",
        "petition_close",
        "key_destroy",
        "petition_deliver",
    ]
    entries = AuditEntry.objects.filter(campaign=campaign)
    assert {e.actor_id for e in entries} == {organizer.pk}
    key_entry = entries.get(action="key_create")
    assert key_entry.details["level"] == "in_person"
    assert len(key_entry.details["fingerprint"].replace(" ", "")) == 64


def test_editing_a_petition_records_which_fields_changed(client, organizer, draft_petition):
    client.force_login(organizer)
    url = reverse("staff:petition_edit", kwargs={"slug": draft_petition.slug})
    data = {
        "title": "A better title",
        "slug": draft_petition.slug,
        "summary": draft_petition.summary,
        "demands": draft_petition.demands,
        "addressed_to": draft_petition.addressed_to,
        "goal": draft_petition.goal,
        "accepts_in_person": "on",
    }
    response = client.post(url, data)
    assert response.status_code == 302
    entry = AuditEntry.objects.get(action=AuditAction.PETITION_UPDATE)
    assert entry.details == {"fields": ["title"]} and entry.actor_id == organizer.pk


def test_code_batches_made_and_revoked_are_recorded(client, moderator, draft_petition):
    petition = petition_publish(petition=draft_petition)
    client.force_login(moderator)
    client.post(
        reverse("staff:code_batches", kwargs={"slug": petition.slug}),
        {"level": "in_person", "size": "12", "form_key": form_key()},
    )
    batch = CodeBatch.objects.get()
    client.post(
        reverse("staff:code_batch_revoke", kwargs={"slug": petition.slug, "batch_id": batch.pk})
    )
    made, revoked = AuditEntry.objects.filter(action__startswith="code_batch").order_by("id")
    assert (made.action, made.actor_id) == ("code_batch_create", moderator.pk)
    assert (made.details["level"], made.details["size"]) == ("in_person", 12)
    assert (revoked.action, revoked.actor_id, revoked.object_id) == (
        "code_batch_revoke",
        moderator.pk,
        str(batch.pk),
    )


def test_command_line_actions_are_recorded_with_the_system_as_actor(campaign, draft_petition):
    petition = petition_publish(petition=draft_petition)
    call_command(
        "invite", "first@organizers.example", "--campaign", campaign.slug, stdout=StringIO()
    )
    call_command(
        "issue_codes", petition.slug, "--level", "in_person", "--count", "10", stdout=StringIO()
    )
    invited = AuditEntry.objects.get(action=AuditAction.INVITATION_CREATE)
    issued = AuditEntry.objects.get(action=AuditAction.CODE_BATCH_CREATE)
    for entry in (invited, issued):
        assert entry.actor_id is None and entry.actor_email == ""
        assert entry.actor_display == "System"
    assert invited.object_id == str(Invitation.objects.get().pk)


def test_accepting_an_invitation_is_recorded(campaign, moderator):
    from organizing.services import invitation_accept, invitation_create

    invitation = invitation_create(
        email=moderator.email, role="organizer", campaign=campaign, invited_by=None
    )
    invitation_accept(invitation=invitation, user=moderator)
    joined = AuditEntry.objects.get(action=AuditAction.MEMBER_JOIN)
    assert joined.actor_id == moderator.pk and joined.details == {"role": "organizer"}


# --- reading and exporting --------------------------------------------------------------


def test_organizers_read_their_campaigns_log_only(client, organizer, campaign, outsider):
    audit_record(actor=organizer, action=AuditAction.CAMPAIGN_UPDATE, campaign=campaign)
    elsewhere = outsider.memberships.get().campaign
    audit_record(actor=outsider, action=AuditAction.PETITION_CREATE, campaign=elsewhere)
    client.force_login(organizer)
    page = client.get(reverse("staff:audit_log", kwargs={"slug": campaign.slug}))
    text = page.content.decode()
    assert "Campaign settings changed" in text and organizer.email in text
    assert "Petition created" not in text and outsider.email not in text


def test_moderators_cannot_read_the_log(client, moderator, campaign):
    client.force_login(moderator)
    assert client.get(reverse("staff:audit_log", kwargs={"slug": campaign.slug})).status_code == 403
    assert (
        client.get(reverse("staff:audit_export", kwargs={"slug": campaign.slug})).status_code == 403
    )


def test_csv_export_neutralises_formulas_and_records_itself(client, organizer, campaign):
    audit_record(
        actor=organizer,
        action=AuditAction.CODE_BATCH_CREATE,
        campaign=campaign,
        details={"label": '=HYPERLINK("http://evil")'},
    )
    campaign.name = "@SUM(A1)"
    campaign.save()
    audit_record(actor=None, action=AuditAction.CAMPAIGN_UPDATE, campaign=campaign, target=campaign)
    client.force_login(organizer)
    response = client.get(reverse("staff:audit_export", kwargs={"slug": campaign.slug}))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows[0][0] == "When (UTC)"
    body = rows[1:]
    assert [r[2] for r in body] == [
        "Code batch made",
        "Campaign settings changed",
        "Audit log exported",
    ]
    assert body[0][6] == 'Note: =HYPERLINK("http://evil")'
    assert body[1][5] == "'@SUM(A1)" and body[1][1] == "System"
    for row in body:
        for cell in row:
            assert not cell.startswith(("=", "+", "-", "@"))
    assert body[2][1] == organizer.email


# --- in plain words -----------------------------------------------------------------------

SNAKE_CASE = re.compile(r"\b[a-z][a-z0-9]*(?:_[a-z0-9]+)+\b")
# Stored values that are single words: the raw design and paper, and model names (a raw
# role is checked by "(moderator)" and the "Role: Organizer" lines).
RAW_WORDS = re.compile(r"\b(?:tearoff|a4|petitionkey|codebatch|flyerbatch)\b")


def _readable_text(html: str) -> str:
    main = html.split("<main", 1)[1].split("</main>", 1)[0]
    return unescape(re.sub(r"<[^>]+>", " ", main.split(">", 1)[1]))


def test_every_kind_of_action_reads_in_plain_words_on_the_page(client):
    story = record_every_action()
    recorded = set(
        AuditEntry.objects.filter(campaign=story.campaign).values_list("action", flat=True)
    )
    # Enumerated from the code: a new kind of action needs a step in record_every_action.
    assert recorded == set(AuditAction.values)

    client.force_login(story.organizer)
    response = client.get(reverse("staff:audit_log", kwargs={"slug": story.campaign.slug}))
    assert response.status_code == 200
    text = " ".join(_readable_text(response.content.decode()).split())
    assert SNAKE_CASE.findall(text) == []
    assert RAW_WORDS.findall(text) == []
    for action in AuditAction:
        assert str(action.label) in text
    for words in (
        "Role: Organizer",
        "Role before: Moderator",
        "New role: Organizer",
        "Way to verify: Code from a moderator",
        "Way to verify: Code from a flyer tab",
        "Way to verify: Work email code",
        "Codes: 10",
        "Note: canteen, floor 2",
        "Needs a second person's approval: yes",
        "Design: Poster with tear-off tabs",
        "Paper: A4",
        "Copies: 20",
        "Changed: “Code batches need a second person's approval”, “Accepted work email "
        "domains”, “Days to keep names and comments after delivery”",
        "Changed: “Accept codes from flyer tabs”, “Accept work email codes”",
        "Changed: “Other thresholds”, “Raise the goal automatically when it is reached”, "
        "“Notify at 10, 25, 50, 100, 250, 500, 1,000, then every 1,000”",
        "Changed: “Signature goal”",
        "New goal: 25",
        "Why: the goal was reached",
        "Other thresholds: 5, 15",
        "Change: added",
        "Address: https://chat.example.org/hooks/countersign",
        "Names and comments erased: 2",
        "Language: Español",
        "Language: العربية",
        "Changed: “Title”",
        "Signing key Restore the night breaks",
        "Code batch Restore the night breaks",
        f"Team member {story.second_organizer.email}",
    ):
        assert words in text


def test_every_detail_key_and_object_kind_the_services_record_has_a_label():
    record_every_action()
    recorded = AuditEntry.objects.values_list("details", flat=True)
    keys = {key for details in recorded for key in details}
    kinds = set(AuditEntry.objects.values_list("object_type", flat=True)) - {""}
    # Each label in the mapping is used: none is there for a key nothing records.
    assert keys == set(DETAIL_LABELS)
    # "signature": read in entries of earlier versions, never recorded any more.
    assert kinds == set(OBJECT_KINDS) - {"signature"}


def test_the_csv_uses_the_same_plain_words(client):
    story = record_every_action()
    client.force_login(story.organizer)
    response = client.get(reverse("staff:audit_export", kwargs={"slug": story.campaign.slug}))
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows[0] == ["When (UTC)", "Who", "What", "Kind", "Record number", "On", "Details"]
    text = "\n".join(",".join(row) for row in rows)
    assert SNAKE_CASE.findall(text) == []
    assert RAW_WORDS.findall(text) == []
    key_row = next(row for row in rows if row[2] == "Signing key created")
    assert key_row[3] == "Signing key" and key_row[5] == "Restore the night breaks"
    assert key_row[6].startswith("Way to verify: ") and "; Fingerprint: " in key_row[6]


def test_a_detail_or_object_without_a_label_is_refused(campaign, organizer):
    with pytest.raises(ValueError, match="DETAIL_LABELS"):
        audit_record(
            actor=None,
            action=AuditAction.CAMPAIGN_UPDATE,
            campaign=campaign,
            details={"new_thing": 1},
        )
    with pytest.raises(ValueError, match="OBJECT_KINDS"):
        audit_record(
            actor=None, action=AuditAction.CAMPAIGN_UPDATE, campaign=campaign, target=organizer
        )
    assert not AuditEntry.objects.exists()


def test_entries_recorded_in_the_old_words_read_plainly(client, organizer, campaign):
    # As earlier versions stored them; the log is append-only, so they stay as they are.
    AuditEntry.objects.create(
        campaign=campaign,
        action="code_batch_create",
        object_type="codebatch",
        object_id="7",
        object_label="night-shift-breaks/in_person/10",
        details={"level": "in_person", "old_key": "old_value", "role": "gone_role"},
    )
    AuditEntry.objects.create(
        campaign=campaign,
        action="member_join",
        object_type="membership",
        object_id="3",
        object_label=f"ada@organizers.example - {campaign.name} (moderator)",
        details={"role": "moderator"},
    )
    AuditEntry.objects.create(campaign=campaign, action="made_up_action")
    client.force_login(organizer)
    response = client.get(reverse("staff:audit_log", kwargs={"slug": campaign.slug}))
    text = " ".join(_readable_text(response.content.decode()).split())
    assert SNAKE_CASE.findall(text) == []
    assert RAW_WORDS.findall(text) == []
    assert "Code batch night-shift-breaks" in text
    assert "Team member ada@organizers.example" in text and "(moderator)" not in text
    assert "Old key: old value" in text and "Role: gone role" in text
    assert "Made up action" in text
