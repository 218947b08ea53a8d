"""Sign-up is by invitation only (P5)."""

from __future__ import annotations

import html
import io
import re
from datetime import timedelta

import pytest
from allauth.account.models import EmailAddress
from django.core import mail
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode

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
            {"email": "New.Mod@Personal.Example", "role": Role.MODERATOR, "form_key": form_key()},
        )
    assert response.status_code == 302
    assert mail.outbox[-1].to == ["new.mod@personal.example"]
    link = _link_from_mail()

    client.logout()
    welcome = client.get(link)
    assert welcome.status_code == 200
    assert f'href="{reverse("account_signup")}"' in welcome.content.decode()
    response = _signup(client, "new.mod@personal.example")
    assert response.status_code == 302

    user = User.objects.get(email="new.mod@personal.example")
    assert Membership.objects.get(user=user, campaign=campaign).role == Role.MODERATOR
    # The mailed link proved the address: no second verification mail is needed.
    assert EmailAddress.objects.get(user=user).verified
    assert Invitation.objects.get(email="new.mod@personal.example").accepted_by == user
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


def _text(response) -> str:
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", response.content.decode())).split())


def test_the_invitation_page_says_campaign_role_and_inviter_before_sign_up(
    client, organizer, campaign, invite, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        invitation_create(
            email="jo@elsewhere.example",
            role=Role.MODERATOR,
            campaign=campaign,
            invited_by=organizer,
        )
    page = client.get(_link_from_mail())
    text = _text(page)
    assert f"You are invited to join {campaign.name}" in text
    assert "Your role Moderator" in text
    assert f"Invited by {organizer.email}" in text
    assert "Create your account" in text
    assert not User.objects.filter(email="jo@elsewhere.example").exists()
    # The page's button leads to the sign-up that this link opened.
    assert _signup(client, "jo@elsewhere.example").status_code == 302


def test_an_existing_account_is_asked_to_sign_in_and_comes_back(
    client, organizer, outsider, campaign, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        invitation_create(
            email=outsider.email, role=Role.ORGANIZER, campaign=campaign, invited_by=organizer
        )
    link = _link_from_mail()
    page = client.get(link)
    text = _text(page)
    assert "Your role Organizer" in text and "Sign in to accept" in text
    back = f"{reverse('account_login')}?{urlencode({'next': link})}"
    assert f'href="{back}"' in page.content.decode()


def test_no_second_password_prompt_when_setting_up_two_factor_after_sign_up(
    client, campaign, invite
):
    """Review M1: the password chosen a moment ago is enough for allauth's reauthentication."""
    from tests.organizing.test_login_mfa import totp_now

    invite("fresh@example.com", Role.MODERATOR, campaign)
    client.get(_link_from_mail())
    _signup(client, "fresh@example.com")
    assert client.get(reverse("staff:dashboard"))["Location"] == reverse("mfa_index")
    page = client.get(reverse("mfa_activate_totp"))
    assert page.status_code == 200  # not a redirect to "Please reauthenticate"
    secret = page.context["form"].secret
    response = client.post(reverse("mfa_activate_totp"), {"code": totp_now(secret)})
    assert response.status_code == 302
    codes = client.get(response["Location"], follow=True)
    # The recovery codes page leads on (review M1).
    assert (
        f'<a class="button" href="{reverse("staff:dashboard")}">Continue to your campaigns</a>'
        in (codes.content.decode())
    )
    assert client.get(reverse("staff:dashboard")).status_code == 200


def test_the_reprieve_ends_with_the_reauthentication_window(client, campaign, invite, settings):
    settings.ACCOUNT_REAUTHENTICATION_TIMEOUT = 0
    invite("later@example.com", Role.MODERATOR, campaign)
    client.get(_link_from_mail())
    _signup(client, "later@example.com")
    response = client.get(reverse("mfa_activate_totp"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_reauthenticate"))


def test_inviting_at_the_employers_domain_warns_first(
    client, organizer, campaign, django_capture_on_commit_callbacks
):
    """Review O15: the invitee's work mail is read by the employer (campaign domain here:
    example.com)."""
    client.force_login(organizer)
    url = reverse("staff:invitation_create", kwargs={"slug": campaign.slug})
    team = _text(client.get(reverse("staff:campaign", kwargs={"slug": campaign.slug})))
    assert "mail at example.com can be read by the employer" in team

    key = form_key()
    first = client.post(url, {"email": "Jo@Example.com", "role": Role.MODERATOR, "form_key": key})
    assert first.status_code == 400
    text = _text(first)
    assert "jo@example.com is at example.com, the employer's domain" in text
    assert "Send to this work address anyway" in text
    assert 'type="checkbox" name="work_address_ok"' in first.content.decode()
    assert not Invitation.objects.exists() and mail.outbox == []

    with django_capture_on_commit_callbacks(execute=True):
        sent = client.post(
            url,
            {
                "email": "jo@example.com",
                "role": Role.MODERATOR,
                "form_key": key,
                "work_address_ok": "on",
            },
        )
    assert sent.status_code == 302
    assert mail.outbox[-1].to == ["jo@example.com"]


@pytest.mark.parametrize("email", ["jo@personal.example", "jo@example.com.evil.example"])
def test_other_addresses_are_invited_without_a_warning(client, organizer, campaign, email):
    client.force_login(organizer)
    response = client.post(
        reverse("staff:invitation_create", kwargs={"slug": campaign.slug}),
        {"email": email, "role": Role.MODERATOR, "form_key": form_key()},
    )
    assert response.status_code == 302
    assert Invitation.objects.filter(email=email).exists()
