"""Organizers run the team: invite, change roles, remove, withdraw invitations; a campaign
always keeps an organizer."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from organizing.models import AuditEntry, Invitation, Membership, Role
from organizing.services import (
    TeamError,
    invitation_accept,
    invitation_create,
    invitation_from_token,
    invitation_token,
    membership_change_role,
    membership_remove,
)
from tests.factories import CampaignFactory, MembershipFactory

pytestmark = pytest.mark.django_db


def _url(name, campaign, **kwargs):
    return reverse(f"staff:{name}", kwargs={"slug": campaign.slug, **kwargs})


def _membership(user, campaign) -> Membership:
    return Membership.objects.get(user=user, campaign=campaign)


def test_organizer_changes_a_role_and_it_is_recorded(client, organizer, moderator, campaign):
    client.force_login(organizer)
    member = _membership(moderator, campaign)
    response = client.post(
        _url("member_role", campaign, membership_id=member.pk), {"role": "organizer"}
    )
    assert response.status_code == 302
    member.refresh_from_db()
    assert member.role == Role.ORGANIZER
    entry = AuditEntry.objects.get(action="member_role_change")
    assert (entry.actor_id, entry.details) == (
        organizer.pk,
        {"from": "moderator", "to": "organizer"},
    )


def test_organizer_removes_a_member_who_then_sees_nothing(client, organizer, moderator, campaign):
    client.force_login(organizer)
    member = _membership(moderator, campaign)
    client.post(_url("member_remove", campaign, membership_id=member.pk))
    assert not Membership.objects.filter(pk=member.pk).exists()
    assert AuditEntry.objects.get(action="member_remove").details == {"role": "moderator"}
    client.force_login(moderator)
    assert client.get(_url("campaign", campaign)).status_code == 404


def test_the_last_organizer_cannot_be_removed_or_demoted(client, organizer, campaign):
    client.force_login(organizer)
    own = _membership(organizer, campaign)
    page = client.post(_url("member_remove", campaign, membership_id=own.pk), follow=True)
    assert "at least one organizer" in page.content.decode()
    page = client.post(
        _url("member_role", campaign, membership_id=own.pk), {"role": "moderator"}, follow=True
    )
    assert "at least one organizer" in page.content.decode()
    own.refresh_from_db()
    assert own.role == Role.ORGANIZER
    assert not AuditEntry.objects.filter(action__startswith="member_").exists()


def test_an_organizer_may_leave_when_another_stays(client, organizer, campaign):
    other = MembershipFactory(campaign=campaign, role=Role.ORGANIZER)
    client.force_login(organizer)
    response = client.post(
        _url("member_remove", campaign, membership_id=_membership(organizer, campaign).pk)
    )
    assert response["Location"] == reverse("staff:dashboard")
    assert list(campaign.memberships.values_list("pk", flat=True)) == [other.pk]


def test_a_moderator_invitation_never_demotes_an_organizer(organizer, campaign):
    invitation = invitation_create(
        email=organizer.email, role=Role.MODERATOR, campaign=campaign, invited_by=None
    )
    invitation_accept(invitation=invitation, user=organizer)
    assert _membership(organizer, campaign).role == Role.ORGANIZER


def test_members_of_another_campaign_cannot_be_touched(client, organizer, campaign, outsider):
    client.force_login(organizer)
    elsewhere = outsider.memberships.get()
    for name in ("member_role", "member_remove"):
        response = client.post(
            _url(name, campaign, membership_id=elsewhere.pk), {"role": "moderator"}
        )
        assert response.status_code == 404
    elsewhere.refresh_from_db()
    assert elsewhere.role == Role.ORGANIZER


def test_an_unknown_role_is_refused(client, organizer, moderator, campaign):
    client.force_login(organizer)
    member = _membership(moderator, campaign)
    client.post(_url("member_role", campaign, membership_id=member.pk), {"role": "ceo"})
    member.refresh_from_db()
    assert member.role == Role.MODERATOR
    with pytest.raises(TeamError):
        membership_change_role(membership=member, role="ceo", actor=organizer)


def _text(response) -> str:
    return " ".join(response.content.decode().split())


def test_remove_asks_first_and_names_the_person_and_the_campaign(
    client, organizer, moderator, campaign
):
    client.force_login(organizer)
    member = _membership(moderator, campaign)
    url = _url("member_remove", campaign, membership_id=member.pk)
    team_page = _text(client.get(_url("campaign", campaign)))
    # The row links to the question; no one-click form removes anyone (review O17).
    assert f'<a class="button danger" href="{url}">Remove…</a>' in team_page
    assert f'action="{url}"' not in team_page

    question = client.get(url)
    assert question.status_code == 200
    text = _text(question)
    assert f"Remove {moderator.email} from the team?" in text
    assert campaign.name in text and "Moderator" in text
    assert Membership.objects.filter(pk=member.pk).exists()
    assert not AuditEntry.objects.filter(action="member_remove").exists()

    done = client.post(url, follow=True)
    assert not Membership.objects.filter(pk=member.pk).exists()
    assert f"{moderator.email} was removed from the team of {campaign.name}." in _text(done)


def test_leave_asks_first_and_says_what_was_left(client, organizer, campaign):
    MembershipFactory(campaign=campaign, role=Role.ORGANIZER)
    client.force_login(organizer)
    url = _url("member_remove", campaign, membership_id=_membership(organizer, campaign).pk)
    assert f'href="{url}">Leave…</a>' in _text(client.get(_url("campaign", campaign)))
    question = _text(client.get(url))
    assert f"Leave {campaign.name}?" in question
    assert Membership.objects.filter(user=organizer, campaign=campaign).exists()
    done = client.post(url, follow=True)
    assert f"You left {campaign.name}." in _text(done)
    assert not Membership.objects.filter(user=organizer, campaign=campaign).exists()


def test_a_moderator_cannot_open_the_remove_question(client, moderator, organizer, campaign):
    client.force_login(moderator)
    url = _url("member_remove", campaign, membership_id=_membership(organizer, campaign).pk)
    assert client.get(url).status_code == 403  # a member without the role (access.py)


def test_the_role_message_says_the_new_role(client, organizer, moderator, campaign):
    client.force_login(organizer)
    member = _membership(moderator, campaign)
    page = client.post(
        _url("member_role", campaign, membership_id=member.pk), {"role": "organizer"}, follow=True
    )
    assert f"{moderator.email} is now Organizer." in _text(page)


# --- invitations --------------------------------------------------------------------------


def test_a_withdrawn_invitation_link_stops_working(client, organizer, campaign):
    invitation = invitation_create(
        email="new@organizers.example", role=Role.MODERATOR, campaign=campaign, invited_by=organizer
    )
    token = invitation_token(invitation)
    client.force_login(organizer)
    client.post(_url("invitation_revoke", campaign, invitation_id=invitation.pk))
    assert not Invitation.objects.exists()
    client.logout()
    assert client.get(reverse("organizing:invitation", kwargs={"token": token})).status_code == 404
    withdrawn = AuditEntry.objects.get(action="invitation_revoke")
    assert withdrawn.object_label == "new@organizers.example"


def test_an_expired_invitation_is_shown_as_expired_and_does_not_work(client, organizer, campaign):
    invitation = invitation_create(
        email="late@organizers.example",
        role=Role.MODERATOR,
        campaign=campaign,
        invited_by=organizer,
    )
    Invitation.objects.filter(pk=invitation.pk).update(expires_at=timezone.now() - timedelta(1))
    client.force_login(organizer)
    page = client.get(_url("campaign", campaign)).content.decode()
    assert "late@organizers.example" in page and "expired" in page
    from organizing.services import InvitationError

    with pytest.raises(InvitationError):
        invitation_from_token(invitation_token(invitation))


def test_an_organizer_cannot_withdraw_another_campaigns_invitation(client, organizer, campaign):
    elsewhere = invitation_create(
        email="x@organizers.example",
        role=Role.MODERATOR,
        campaign=CampaignFactory(),
        invited_by=None,
    )
    client.force_login(organizer)
    response = client.post(_url("invitation_revoke", campaign, invitation_id=elsewhere.pk))
    assert response.status_code == 404
    assert Invitation.objects.filter(pk=elsewhere.pk).exists()


# --- concurrency (PostgreSQL) -------------------------------------------------------------


def _race(calls) -> list[Exception | None]:
    barrier = threading.Barrier(len(calls), timeout=30)
    results: list[Exception | None] = [None] * len(calls)

    def run(i, call):
        try:
            barrier.wait()
            call()
        except Exception as exc:
            results[i] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads)
    return results


@pytest.mark.django_db(transaction=True)
def test_two_organizers_removing_each_other_at_once_leave_one():
    assert connection.vendor == "postgresql"
    for _round in range(5):
        campaign = CampaignFactory()
        first = MembershipFactory(campaign=campaign, role=Role.ORGANIZER, user__totp=False)
        second = MembershipFactory(campaign=campaign, role=Role.ORGANIZER, user__totp=False)
        results = _race(
            [
                lambda a=first, b=second: membership_remove(membership=a, actor=b.user),
                lambda a=first, b=second: membership_remove(membership=b, actor=a.user),
            ]
        )
        assert sorted(type(r).__name__ for r in results) == ["NoneType", "TeamError"]
        assert campaign.memberships.filter(role=Role.ORGANIZER).count() == 1


@pytest.mark.django_db(transaction=True)
def test_a_demotion_racing_a_removal_leaves_an_organizer():
    for _round in range(5):
        campaign = CampaignFactory()
        first = MembershipFactory(campaign=campaign, role=Role.ORGANIZER, user__totp=False)
        second = MembershipFactory(campaign=campaign, role=Role.ORGANIZER, user__totp=False)
        _race(
            [
                lambda a=first, b=second: membership_change_role(
                    membership=a, role=Role.MODERATOR, actor=b.user
                ),
                lambda a=first, b=second: membership_remove(membership=b, actor=a.user),
            ]
        )
        assert campaign.memberships.filter(role=Role.ORGANIZER).count() == 1


def test_a_moderator_sees_only_their_own_row_of_the_team(client, organizer, moderator, campaign):
    """An infiltrated moderator must not learn who the organizers are, nor who
    else moderates or is invited; organizers keep the full list."""
    other = MembershipFactory(campaign=campaign, role=Role.MODERATOR)
    invitation_create(
        email="newbie@organizers.example",
        role=Role.ORGANIZER,
        campaign=campaign,
        invited_by=organizer,
    )
    client.force_login(moderator)
    page = client.get(_url("campaign", campaign)).content.decode()
    assert moderator.email in page
    for hidden in (organizer.email, other.user.email, "newbie@organizers.example"):
        assert hidden not in page
    assert "Organizers: 1 · Moderators: 2" in page

    client.force_login(organizer)
    page = client.get(_url("campaign", campaign)).content.decode()
    for shown in (organizer.email, moderator.email, other.user.email, "newbie@organizers.example"):
        assert shown in page
    assert "Only organizers see who is on the team" not in page
