"""The access checks for staff views: one place, tested for every cast member."""

from __future__ import annotations

from collections.abc import Iterable

from django.core.exceptions import PermissionDenied
from django.http import Http404

from petition.models import Petition

from .models import Campaign, Membership, Role, User

# The roles a staff page names as its first line: any member of the campaign, or its
# organizers only. docs/roles.md and tests/staff_urls.py write out which page takes which.
ANY_ROLE = (Role.ORGANIZER, Role.MODERATOR)
ORGANIZERS = (Role.ORGANIZER,)


def _check_role(membership: Membership | None, roles: Iterable[str]) -> Membership:
    # Someone outside the campaign learns nothing, not even that it exists.
    if membership is None:
        raise Http404
    if membership.role not in roles:
        raise PermissionDenied
    return membership


def require_site_organizer(user: User) -> None:
    """Creating a campaign is the installation's decision, not any staff member's."""
    if not user.is_site_organizer:
        raise PermissionDenied


def campaign_for_member(
    user: User, slug: str, roles: Iterable[str] = ANY_ROLE
) -> tuple[Campaign, Membership]:
    membership = (
        Membership.objects.select_related("campaign").filter(user=user, campaign__slug=slug).first()
    )
    membership = _check_role(membership, roles)
    return membership.campaign, membership


def petition_for_member(
    user: User, slug: str, roles: Iterable[str] = ANY_ROLE
) -> tuple[Petition, Membership]:
    petition = Petition.objects.select_related("campaign").filter(slug=slug).first()
    if petition is None:
        raise Http404
    membership = Membership.objects.filter(user=user, campaign=petition.campaign).first()
    return petition, _check_role(membership, roles)
