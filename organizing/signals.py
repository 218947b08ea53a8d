"""Hooks into allauth's sign-up: an invited account joins its campaigns at once."""

from allauth.account.models import EmailAddress
from allauth.account.signals import user_signed_up
from django.dispatch import receiver

from .adapters import INVITED_EMAIL_SESSION_KEY
from .services import invitations_accept_for_email


@receiver(user_signed_up)
def accept_invitations_on_signup(sender, request, user, **kwargs) -> None:
    # The address is verified because it came from the invitation mail (allauth's stash);
    # never grant a role to an address nobody has proven to own.
    if EmailAddress.objects.filter(user=user, email__iexact=user.email, verified=True).exists():
        invitations_accept_for_email(user=user)
    if request is not None and hasattr(request, "session"):
        request.session.pop(INVITED_EMAIL_SESSION_KEY, None)
