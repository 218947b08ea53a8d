"""Moderators review what signers chose to show; the public page shows what they approve;
the count never changes; the moderation page gathers what waits."""

from __future__ import annotations

import importlib
import json

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format

from organizing.models import AuditEntry
from petition.codes import code_batch_create
from petition.models import EntryReview, Signature
from petition.review import ReviewError, entry_approve, entry_hide, entry_show
from petition.selectors import petition_counts
from tests.signing_client import mint

pytestmark = pytest.mark.django_db


def sign(petition, **fields) -> Signature:
    credential = mint(petition)
    response = Client().post(
        f"/api/v1/petitions/{petition.slug}/signatures",
        json.dumps(credential.payload(**fields)),
        content_type="application/json",
    )
    assert response.status_code == 201, response.content
    return Signature.objects.get(petition=petition, nullifier=credential_nullifier(credential))


def credential_nullifier(credential) -> bytes:
    from petition import blindrsa

    return blindrsa.nullifier(credential.token)


def _moderation_page(campaign) -> str:
    return reverse("staff:moderation", kwargs={"slug": campaign.slug})


def _act(name, signature) -> str:
    return reverse(
        f"staff:{name}",
        kwargs={"slug": signature.petition.campaign.slug, "review_id": signature.review_id},
    )


def test_a_comment_waits_for_review_then_shows_once_approved(client, moderator, open_petition):
    signature = sign(open_petition, display_name="Ada", comment="Stop the tracking")
    public = client.get(open_petition.get_absolute_url()).content.decode()
    assert "Stop the tracking" not in public and "Ada" not in public
    client.force_login(moderator)
    page = client.get(_moderation_page(open_petition.campaign)).content.decode()
    assert "Stop the tracking" in page and "1 name or comment to review" in page
    client.post(_act("entry_approve", signature))
    signature.refresh_from_db()
    assert signature.review == EntryReview.APPROVED
    client.logout()
    public = client.get(open_petition.get_absolute_url()).content.decode()
    assert "Stop the tracking" in public and "Ada" in public
    approval = AuditEntry.objects.get(action="entry_approve")
    assert approval.actor_id == moderator.pk
    assert "Stop the tracking" not in json.dumps(approval.details) + approval.object_label


def test_hiding_needs_a_reason_and_keeps_the_count(client, moderator, open_petition):
    signature = sign(open_petition, comment="My manager Bob Smith on floor 3 agrees")
    counts = petition_counts(open_petition)
    client.force_login(moderator)
    client.post(_act("entry_hide", signature), {"reason": ""})
    client.post(_act("entry_hide", signature), {"reason": "other", "other_reason": " "})
    signature.refresh_from_db()
    assert signature.review == EntryReview.WAITING
    client.post(_act("entry_hide", signature), {"reason": "other", "other_reason": "a coworker"})
    signature.refresh_from_db()
    assert (signature.review, signature.hidden_reason) == ("hidden", "a coworker")
    assert petition_counts(open_petition) == counts
    client.logout()
    assert "Bob Smith" not in client.get(open_petition.get_absolute_url()).content.decode()
    hidden = AuditEntry.objects.get(action="entry_hide")
    assert "coworker" not in json.dumps(hidden.details)


def test_a_campaign_without_review_shows_at_once_and_can_still_hide(
    client, moderator, open_petition
):
    campaign = open_petition.campaign
    campaign.entries_need_review = False
    campaign.save()
    signature = sign(open_petition, comment="Shown at once")
    assert "Shown at once" in client.get(open_petition.get_absolute_url()).content.decode()
    client.force_login(moderator)
    page = client.get(_moderation_page(campaign)).content.decode()
    assert "appear at once" in page and "Shown at once" in page
    client.post(_act("entry_hide", signature), {"reason": "spam", "part": "both"})
    client.logout()
    assert "Shown at once" not in client.get(open_petition.get_absolute_url()).content.decode()


def test_a_decision_is_taken_once(open_petition, moderator, organizer):
    signature = sign(open_petition, comment="Twice?")
    entry_approve(signature=signature, actor=moderator)
    with pytest.raises(ReviewError):
        entry_approve(signature=signature, actor=organizer)
    entry_hide(signature=signature, actor=organizer, reason="off_topic")
    with pytest.raises(ReviewError):
        entry_approve(signature=signature, actor=moderator)
    assert AuditEntry.objects.filter(action__startswith="entry_").count() == 2


def test_signatures_without_text_are_not_in_the_queue(client, moderator, open_petition):
    sign(open_petition)
    client.force_login(moderator)
    response = client.get(_moderation_page(open_petition.campaign))
    assert response.context["queue"].paginator.count == 0


def test_the_moderation_page_shows_no_signer_metadata(client, moderator, open_petition):
    signature = sign(open_petition, display_name="Ada", comment="Hello")
    client.force_login(moderator)
    page = client.get(_moderation_page(open_petition.campaign)).content.decode()
    queue = page.split("Names and comments to review")[1].split("</section>")[0]
    assert "Ada" in queue and "Hello" in queue
    assert bytes(signature.nullifier).hex()[:16] not in page
    today = timezone.localdate()
    for telltale in ("in_person", "Code from a moderator", date_format(today), str(today)):
        assert telltale not in queue


def test_another_campaigns_staff_cannot_decide(client, outsider, open_petition):
    signature = sign(open_petition, comment="Mine")
    client.force_login(outsider)
    for name in ("entry_approve", "entry_hide", "entry_show"):
        assert client.post(_act(name, signature), {"reason": "spam"}).status_code == 404
    signature.refresh_from_db()
    assert signature.review == EntryReview.WAITING


def test_an_entry_of_another_campaign_is_not_found_under_mine(
    client, outsider, organizer, open_petition
):
    signature = sign(open_petition, comment="Elsewhere")
    own = outsider.memberships.get().campaign
    client.force_login(outsider)
    url = reverse(
        "staff:entry_approve", kwargs={"slug": own.slug, "review_id": signature.review_id}
    )
    assert client.post(url).status_code == 404


def test_the_moderation_page_lists_batches_and_what_waits(
    client, moderator, organizer, open_petition
):
    campaign = open_petition.campaign
    campaign.code_batches_need_approval = True
    campaign.save()
    code_batch_create(
        petition=open_petition, level="in_person", size=10, actor=moderator, label="lobby"
    )
    client.force_login(moderator)
    page = client.get(_moderation_page(campaign)).content.decode()
    assert "1 code batch waiting for approval" in page and "lobby" in page
    assert "someone else approves it" in page
    client.force_login(organizer)
    page = client.get(_moderation_page(campaign)).content.decode()
    assert (
        reverse(
            "staff:code_batch_approve",
            kwargs={"slug": open_petition.slug, "batch_id": open_petition.code_batches.get().pk},
        )
        in page
    )


def test_review_records_and_moderation_links_cannot_be_tied_to_a_nullifier(
    client, moderator, organizer, open_petition
):
    """Before: an approval's audit row carried the signature's id and its nullifier's
    prefix, and the moderation page's form actions carried the same id next to the comment."""
    signature = sign(open_petition, display_name="Ada", comment="Tie me to my key")
    hidden = sign(open_petition, comment="Hide me")
    telltales = []
    for row in (signature, hidden):
        nullifier = bytes(row.nullifier).hex()
        telltales += [str(row.pk), row.pk.hex, nullifier[:16], nullifier[:8]]
    client.force_login(moderator)
    page = client.get(_moderation_page(open_petition.campaign)).content.decode()
    assert "Tie me to my key" in page
    assert not [t for t in telltales if t in page]
    assert str(signature.review_id) in page  # what the moderation page uses instead
    client.post(_act("entry_approve", signature))
    client.post(_act("entry_hide", hidden), {"reason": "spam"})

    client.force_login(organizer)
    csv_text = client.get(
        reverse("staff:audit_export", kwargs={"slug": open_petition.campaign.slug})
    )
    csv_text = b"".join(csv_text.streaming_content).decode()
    assert "Name or comment approved" in csv_text and "Name or comment hidden" in csv_text
    log_page = client.get(
        reverse("staff:audit_log", kwargs={"slug": open_petition.campaign.slug})
    ).content.decode()
    for text in (csv_text, log_page):
        assert not [t for t in telltales if t in text]
        assert str(signature.review_id) not in text
    stored = AuditEntry.objects.filter(action__in=["entry_approve", "entry_hide"])
    assert {(e.object_type, e.object_id) for e in stored} == {("petition", str(open_petition.pk))}


def test_older_review_records_no_longer_show_the_signature(client, organizer, open_petition):
    """Rows recorded before the fix keep their id and prefix (the log is append-only), but
    the page and the CSV leave them out."""
    signature = sign(open_petition, comment="Old times")
    AuditEntry.objects.create(
        campaign=open_petition.campaign,
        actor=organizer,
        actor_email=organizer.email,
        action="entry_approve",
        object_type="signature",
        object_id=str(signature.pk),
        object_label=bytes(signature.nullifier).hex()[:16],
    )
    client.force_login(organizer)
    response = client.get(
        reverse("staff:audit_export", kwargs={"slug": open_petition.campaign.slug})
    )
    csv_text = b"".join(response.streaming_content).decode()
    page = client.get(
        reverse("staff:audit_log", kwargs={"slug": open_petition.campaign.slug})
    ).content.decode()
    for text in (csv_text, page):
        assert "Name or comment approved" in text
        assert str(signature.pk) not in text
        assert bytes(signature.nullifier).hex()[:16] not in text


def test_the_migration_gives_each_existing_signature_its_own_review_id(open_petition):
    """Rows published before review ids existed get a fresh random one each (not one value
    for all, the usual trap of a column added with a Python default)."""
    from django.apps import apps
    from django.db import connection

    migration = importlib.import_module("petition.migrations.0015_signature_review_id")
    rows = [sign(open_petition, comment=f"Old {n}") for n in range(3)]
    with connection.cursor() as cursor:
        cursor.execute(
            "SET CONSTRAINTS ALL IMMEDIATE;"
            " ALTER TABLE petition_signature ALTER COLUMN review_id DROP NOT NULL;"
            " UPDATE petition_signature SET review_id = NULL"
        )
    migration.fill_review_ids(apps, connection.schema_editor())
    ids = set(Signature.objects.values_list("review_id", flat=True))
    assert len(ids) == len(rows) and None not in ids
    assert not ids & {row.pk for row in rows}


# --- decisions that can be corrected (review M5) and what waits on the dashboard (M2) -------


def test_hiding_the_name_only_shows_the_comment_unnamed(client, moderator, open_petition):
    signature = sign(open_petition, display_name="Tom, desk 4B", comment="Cut the overtime")
    client.force_login(moderator)
    response = client.post(
        _act("entry_hide", signature), {"part": "name", "reason": "identifies"}, follow=True
    )
    assert "Name hidden, comment shown." in response.content.decode()
    signature.refresh_from_db()
    assert (signature.review, signature.hidden_part, signature.hide_reason) == (
        "hidden",
        "name",
        "identifies",
    )
    assert signature.display_name == "Tom, desk 4B"  # kept, until retention erases it
    client.logout()
    public = client.get(open_petition.get_absolute_url()).content.decode()
    assert "Cut the overtime" in public and "desk 4B" not in public
    entry = AuditEntry.objects.get(action="entry_hide")
    assert entry.details == {"hidden_part": "name", "hide_reason": "identifies"}


def test_hiding_the_comment_only_shows_the_name(client, moderator, open_petition):
    signature = sign(open_petition, display_name="Ana", comment="My boss Bob is on floor 3")
    client.force_login(moderator)
    client.post(_act("entry_hide", signature), {"part": "comment", "reason": "identifies"})
    client.logout()
    public = client.get(open_petition.get_absolute_url()).content.decode()
    assert "Ana" in public and "Bob" not in public


def test_a_single_part_is_hidden_whole_whatever_part_is_asked(moderator, open_petition):
    signature = sign(open_petition, comment="Only a comment")
    entry_hide(signature=signature, actor=moderator, reason="spam", part="name")
    signature.refresh_from_db()
    assert signature.hidden_part == "both"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({}, "This field is required."),
        ({"reason": "because"}, "Select a valid choice."),
        ({"reason": "other"}, "Say why, for the rest of the team."),
        ({"reason": "other", "other_reason": "x" * 201}, "at most 200 characters"),
        ({"reason": "spam", "part": "title"}, "Select a valid choice."),
    ],
)
def test_a_bad_hide_says_why_and_changes_nothing(client, moderator, open_petition, data, message):
    signature = sign(open_petition, display_name="Ada", comment="Hello")
    client.force_login(moderator)
    response = client.post(_act("entry_hide", signature), data, follow=True)
    assert message in response.content.decode()
    signature.refresh_from_db()
    assert (signature.review, signature.hidden_part, signature.hide_reason) == ("waiting", "", "")
    assert not AuditEntry.objects.filter(action="entry_hide").exists()


def test_hidden_entries_are_listed_with_their_reason_and_can_be_shown_again(
    client, moderator, organizer, open_petition
):
    signature = sign(open_petition, display_name="Ada", comment="Wrongly hidden")
    entry_hide(
        signature=signature, actor=moderator, reason="other", other_reason="looked like a name"
    )
    client.force_login(organizer)
    page = client.get(_moderation_page(open_petition.campaign)).content.decode()
    hidden = page.split('id="hidden-title"')[1]
    assert "Wrongly hidden" in hidden and "looked like a name" in hidden
    assert "Other (say why)" in hidden and "1 hidden name or comment, with its reason" in page
    response = client.post(_act("entry_show", signature), follow=True)
    assert "Shown again on the petition page." in response.content.decode()
    signature.refresh_from_db()
    assert (signature.review, signature.hidden_part, signature.hide_reason) == ("approved", "", "")
    assert signature.hidden_reason == ""
    shown = AuditEntry.objects.get(action="entry_show")
    assert shown.actor_id == organizer.pk and shown.object_id == str(open_petition.pk)
    assert "looked like" not in json.dumps(shown.details)
    client.logout()
    assert "Wrongly hidden" in client.get(open_petition.get_absolute_url()).content.decode()
    # Twice: the second click finds nothing hidden and says so.
    client.force_login(organizer)
    response = client.post(_act("entry_show", signature), follow=True)
    assert "already dealt with" in response.content.decode()
    assert AuditEntry.objects.filter(action="entry_show").count() == 1


def test_an_entry_shown_again_after_an_audit_failure_stays_hidden(moderator, open_petition):
    """The decision and its audit row are one transaction: no row, no change."""
    from unittest import mock

    signature = sign(open_petition, comment="Hidden for good reason")
    entry_hide(signature=signature, actor=moderator, reason="offensive")
    with (
        mock.patch("petition.review.audit_record", side_effect=RuntimeError("disk full")),
        pytest.raises(RuntimeError),
    ):
        entry_show(signature=signature, actor=moderator)
    signature.refresh_from_db()
    assert (signature.review, signature.hide_reason) == ("hidden", "offensive")


def test_the_database_refuses_incoherent_hidden_states(open_petition, moderator):
    from django.db import IntegrityError, transaction

    both = sign(open_petition, display_name="Ada", comment="Hello")
    only_comment = sign(open_petition, comment="Hi")
    rows = Signature.objects.filter
    for pk, fields in (
        (both.pk, {"review": "hidden", "hidden_part": "both", "hide_reason": ""}),
        (both.pk, {"review": "hidden", "hidden_part": "", "hide_reason": "spam"}),
        (both.pk, {"review": "approved", "hidden_part": "name", "hide_reason": "spam"}),
        (both.pk, {"review": "hidden", "hidden_part": "both", "hide_reason": "other"}),
        (
            both.pk,
            {
                "review": "hidden",
                "hidden_part": "both",
                "hide_reason": "spam",
                "hidden_reason": "x",
            },
        ),
        (only_comment.pk, {"review": "hidden", "hidden_part": "name", "hide_reason": "spam"}),
    ):
        with pytest.raises(IntegrityError), transaction.atomic():
            rows(pk=pk).update(**fields)


def test_the_dashboard_shows_what_waits_for_moderators(client, moderator, open_petition):
    campaign = open_petition.campaign
    campaign.code_batches_need_approval = True
    campaign.save()
    client.force_login(moderator)
    page = client.get(reverse("staff:dashboard")).content.decode()
    assert "Nothing waits for moderation." in page
    sign(open_petition, comment="One")
    sign(open_petition, display_name="Two")
    code_batch_create(petition=open_petition, level="in_person", size=10, actor=moderator)
    page = client.get(reverse("staff:dashboard")).content.decode()
    assert "2 names or comments to review · 1 code batch waiting for approval" in page
    assert _moderation_page(campaign) in page


def test_erasure_clears_what_was_hidden_and_why(moderator, open_petition):
    from petition.review import entries_purge
    from petition.services import petition_close

    signature = sign(open_petition, display_name="Ada", comment="Bob on floor 3")
    entry_hide(signature=signature, actor=moderator, reason="identifies", part="comment")
    petition_close(petition=open_petition)
    assert entries_purge(petition=open_petition) == 1
    signature.refresh_from_db()
    assert (signature.display_name, signature.comment, signature.hidden_part) == ("", "", "")
    assert (signature.hide_reason, signature.review) == ("", "erased")
