"""Two-person rules count people, not accounts: a member an organizer added
takes part in none until another organizer confirms them."""

from __future__ import annotations

import pytest
from django.core.management import CommandError, call_command
from django.db import IntegrityError, transaction
from django.urls import reverse

from organizing.models import AuditAction, AuditEntry, Membership, Role
from organizing.services import (
    TeamError,
    invitation_accept,
    invitation_create,
    membership_change_role,
    membership_confirm,
)
from petition.codes import CodeBatchError, code_batch_approve, code_batch_create
from petition.invalidation import (
    InvalidationError,
    key_invalidation_confirm,
    key_invalidation_request,
)
from tests.factories import MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def two_person_campaign(campaign):
    campaign.code_batches_need_approval = True
    campaign.save()
    return campaign


def join(campaign, inviter, role=Role.ORGANIZER, email=None) -> Membership:
    """The way an organizer adds someone: an invitation, accepted."""
    user = UserFactory(**({"email": email} if email else {}))
    invitation = invitation_create(
        email=user.email, role=role, campaign=campaign, invited_by=inviter
    )
    return invitation_accept(invitation=invitation, user=user)


def waiting_batch(petition, maker):
    batch, _codes = code_batch_create(petition=petition, level="in_person", size=10, actor=maker)
    assert batch.state == "waiting"
    return batch


def approve_url(batch) -> str:
    return reverse(
        "staff:code_batch_approve", kwargs={"slug": batch.petition.slug, "batch_id": batch.pk}
    )


@pytest.mark.parametrize("role", [Role.ORGANIZER, Role.MODERATOR])
def test_an_organizers_second_account_cannot_approve_their_batch(
    client, two_person_campaign, organizer, open_petition, role
):
    """As first reported: an organizer invites a second address of their own and approves
    their own batch with it."""
    sock = join(two_person_campaign, organizer, role, email="my.other.self@mail.example")
    batch = waiting_batch(open_petition, organizer)

    client.force_login(sock.user)
    page = client.post(approve_url(batch), follow=True).content.decode()
    assert "must first confirm your place" in page
    batch.refresh_from_db()
    assert batch.approved_at is None and batch.state == "waiting"
    with pytest.raises(CodeBatchError):
        code_batch_approve(batch=batch, actor=sock.user)


def test_nor_can_it_make_a_batch_for_the_first_account_to_approve(
    two_person_campaign, organizer, open_petition
):
    sock = join(two_person_campaign, organizer, Role.MODERATOR)
    batch = waiting_batch(open_petition, sock.user)
    with pytest.raises(CodeBatchError, match="not confirmed"):
        code_batch_approve(batch=batch, actor=organizer)


def test_a_second_account_cannot_meet_the_key_invalidation_rule(campaign, organizer, open_petition):
    sock = join(campaign, organizer)
    key = open_petition.keys.get(level="in_person")
    request = key_invalidation_request(key=key, actor=organizer, reason="A laptop was stolen.")
    with pytest.raises(InvalidationError):
        key_invalidation_confirm(invalidation=request, actor=sock.user)
    # Nor the other way round: the second account asks, the first confirms.
    other_key = open_petition.keys.get(level="flyer")
    with pytest.raises(InvalidationError):
        key_invalidation_request(key=other_key, actor=sock.user, reason="Copied tabs.")
    key.refresh_from_db()
    assert key.invalidated_at is None


def test_the_adder_cannot_confirm_but_another_organizer_can(
    client, two_person_campaign, organizer, open_petition
):
    newcomer = join(two_person_campaign, organizer)
    assert not newcomer.is_confirmed and newcomer.added_by_id == organizer.pk

    with pytest.raises(TeamError):
        membership_confirm(membership=newcomer, actor=organizer)
    with pytest.raises(TeamError):
        membership_confirm(membership=newcomer, actor=newcomer.user)
    colleague = MembershipFactory(campaign=two_person_campaign, role=Role.ORGANIZER).user
    client.force_login(colleague)
    page = client.get(reverse("staff:moderation", kwargs={"slug": two_person_campaign.slug}))
    assert f"Confirm {newcomer.user.email}" in page.content.decode()
    client.post(
        reverse(
            "staff:member_confirm",
            kwargs={"slug": two_person_campaign.slug, "membership_id": newcomer.pk},
        )
    )
    newcomer.refresh_from_db()
    assert newcomer.is_confirmed and newcomer.confirmed_by_id == colleague.pk
    entry = AuditEntry.objects.get(action=AuditAction.MEMBER_CONFIRM)
    assert entry.actor_id == colleague.pk and entry.object_id == str(newcomer.pk)

    batch = waiting_batch(open_petition, organizer)
    assert code_batch_approve(batch=batch, actor=newcomer.user).state == "active"


def test_the_adder_sees_no_confirm_button_and_a_lone_organizer_is_told_why(
    client, campaign, organizer
):
    newcomer = join(campaign, organizer)
    client.force_login(organizer)
    page = client.get(reverse("staff:moderation", kwargs={"slug": campaign.slug})).content.decode()
    assert newcomer.user.email in page
    assert f"Confirm {newcomer.user.email}" not in page
    assert "only one confirmed organizer" in page
    response = client.post(
        reverse(
            "staff:member_confirm", kwargs={"slug": campaign.slug, "membership_id": newcomer.pk}
        ),
        follow=True,
    )
    assert "an organizer other than you must confirm them" in response.content.decode()
    newcomer.refresh_from_db()
    assert not newcomer.is_confirmed


def test_an_unconfirmed_organizer_cannot_add_anyone(campaign, organizer):
    """Else the second account adds a third, which the first (not its adder) confirms."""
    sock = join(campaign, organizer)
    with pytest.raises(TeamError):
        invitation_create(
            email="third@mail.example", role=Role.ORGANIZER, campaign=campaign, invited_by=sock.user
        )
    moderator = MembershipFactory(campaign=campaign, role=Role.MODERATOR)
    with pytest.raises(TeamError):
        membership_change_role(membership=moderator, role=Role.ORGANIZER, actor=sock.user)


def test_a_member_made_organizer_is_confirmed_again(campaign, organizer, moderator):
    membership = moderator.memberships.get()
    assert membership.is_confirmed
    promoted = membership_change_role(membership=membership, role=Role.ORGANIZER, actor=organizer)
    assert not promoted.is_confirmed and promoted.added_by_id == organizer.pk


def test_the_operator_confirms_from_the_command_line(campaign, organizer):
    newcomer = join(campaign, organizer)
    call_command("confirm_member", campaign.slug, newcomer.user.email)
    newcomer.refresh_from_db()
    assert newcomer.is_confirmed and newcomer.confirmed_by is None
    with pytest.raises(CommandError):
        call_command("confirm_member", campaign.slug, newcomer.user.email)  # already


def test_the_database_refuses_a_confirmation_by_the_adder(campaign, organizer):
    newcomer = join(campaign, organizer)
    with pytest.raises(IntegrityError), transaction.atomic():
        Membership.objects.filter(pk=newcomer.pk).update(confirmed_by=organizer)
    with pytest.raises(IntegrityError), transaction.atomic():
        Membership.objects.filter(pk=newcomer.pk).update(confirmed_by=newcomer.user)


def test_the_pages_say_why_a_two_person_action_waits(
    client, two_person_campaign, organizer, open_petition
):
    client.force_login(organizer)
    petition_page = client.get(reverse("staff:petition", kwargs={"slug": open_petition.slug}))
    assert "only one confirmed organizer" in petition_page.content.decode()
    newcomer = join(two_person_campaign, organizer)
    client.force_login(newcomer.user)
    codes_page = client.get(reverse("staff:code_batches", kwargs={"slug": open_petition.slug}))
    assert "must first confirm your place" in codes_page.content.decode()
