"""Sign-up is by invitation only (P5)."""

from __future__ import annotations

import io
import re
from datetime import timedelta

import pytest
from allauth.account.models import EmailAddress
from django.core import mail
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from organizing.models import Invitation, Membership, Role, User
from organizing.services import InvitationError, invitation_accept, invitation_create
from tests.factories import form_key

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "a long and unusual passphrase 7"


@pytest.fixture
def invite(django_capture_on_commit_callbacks):
    """Invite through the service and run the after-commit mail task, as production would."""

    def _invite(email, role=Role.MODERATOR, campaign=None):
        with django_capture_on_commit_callbacks(execute=True):
            return invitation_create(email=email, role=role, campaign=campaign, invited_by=None)

    return _invite


def _link_from_mail() -> str:
    body = mail.outbox[-1].body
    return re.search(r"https?://\S+(/invitations/\S+/)", body).group(1)


def _signup(client, email):
    return client.post(
        reverse("account_signup"),
        {"email": email, "password1": NEW_PASSWORD, "password2": NEW_PASSWORD},
    )


def test_uninvited_sign_up_is_refused(client):
    page = client.get(reverse("account_signup"))
    assert b"Sign Up Closed" in page.content
    _signup(client, "walk-in@example.com")
    assert not User.objects.filter(email="walk-in@example.com").exists()


def test_organizer_invites_and_the_invitee_joins_the_campaign(
    client, organizer, campaign, django_capture_on_commit_callbacks
):
    client.force_login(organizer)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("staff:invitation_create", kwargs={"slug": campaign.slug}),
            {"email": "New.Mod@Example.com", "role": Role.MODERATOR, "form_key": form_key()},
        )
    assert response.status_code == 302
    assert mail.outbox[-1].to == ["new.mod@example.com"]
    link = _link_from_mail()

    client.logout()
    assert client.get(link)["Location"] == reverse("account_signup")
    response = _signup(client, "new.mod@example.com")
    assert response.status_code == 302

    user = User.objects.get(email="new.mod@example.com")
    assert Membership.objects.get(user=user, campaign=campaign).role == Role.MODERATOR
    # The mailed link proved the address: no second verification mail is needed.
    assert EmailAddress.objects.get(user=user).verified
    assert Invitation.objects.get(email="new.mod@example.com").accepted_by == user
    # The link is spent.
    client.logout()
    assert client.get(link).status_code == 404


def test_invitee_cannot_sign_up_with_another_address(client, campaign, invite):
    invite("invited@example.com", Role.MODERATOR, campaign)
    client.get(_link_from_mail())
    response = _signup(client, "someone-else@example.com")
    assert response.status_code == 200
    assert "email" in response.context["form"].errors
    assert not User.objects.filter(email="someone-else@example.com").exists()


def test_expired_invitation_is_refused(client, campaign, invite):
    invitation = invite("late@example.com", Role.MODERATOR, campaign)
    Invitation.objects.filter(pk=invitation.pk).update(expires_at=timezone.now() - timedelta(1))
    response = client.get(_link_from_mail())
    assert response.status_code == 404
    assert b"Sign Up Closed" in client.get(reverse("account_signup")).content


def test_tampered_invitation_token_is_refused(client, campaign, invite):
    invite("t@example.com", Role.MODERATOR, campaign)
    link = _link_from_mail()
    response = client.get(link[:-3] + "xx/")
    assert response.status_code == 404


def test_inviting_twice_renews_one_invitation(campaign, invite):
    invite("twice@example.com", Role.MODERATOR, campaign)
    invite("TWICE@example.com", Role.ORGANIZER, campaign)
    invitations = Invitation.objects.filter(email__iexact="twice@example.com")
    assert invitations.count() == 1
    assert invitations.get().role == Role.ORGANIZER
    assert len(mail.outbox) == 2


def test_invitation_form_rejects_a_bad_address(client, organizer, campaign):
    client.force_login(organizer)
    response = client.post(
        reverse("staff:invitation_create", kwargs={"slug": campaign.slug}),
        {"email": "not-an-address", "role": Role.MODERATOR, "form_key": form_key()},
    )
    assert response.status_code == 400
    assert "email" in response.context["invite_form"].errors
    assert not Invitation.objects.exists()


def test_accepting_checks_the_address_whoever_calls_it(campaign, invite, outsider):
    """The rule lives in the service, not only in the view and the adapter."""
    invitation = invite("invited@example.com", Role.ORGANIZER, campaign)
    with pytest.raises(InvitationError):
        invitation_accept(invitation=invitation, user=outsider)
    invitation.refresh_from_db()
    assert invitation.accepted_at is None
    assert not Membership.objects.filter(user=outsider, campaign=campaign).exists()


def test_invite_site_organizer_grants_the_right_to_create_campaigns(client, outsider):
    out = io.StringIO()
    call_command("invite", "first@example.org", "--site-organizer", stdout=out)
    link = re.search(r"(/invitations/\S+/)", out.getvalue()).group(1)
    client.get(link)
    assert _signup(client, "first@example.org").status_code == 302
    assert User.objects.get(email="first@example.org").is_site_organizer
    # An existing account gets it at once; a plain invitation never grants it.
    call_command("invite", outsider.email, "--site-organizer", stdout=io.StringIO())
    outsider.refresh_from_db()
    assert outsider.is_site_organizer
    call_command("invite", "plain@example.org", stdout=io.StringIO())
    assert not Invitation.objects.get(email="plain@example.org").site_organizer
