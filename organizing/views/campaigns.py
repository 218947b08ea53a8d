"""Staff pages of campaigns: the dashboard, campaign create/detail/edit, the team
(memberships) and invitations."""

from __future__ import annotations

from allauth.account.adapter import get_adapter
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from .. import selectors, services
from ..access import ORGANIZERS, campaign_for_member, require_site_organizer
from ..adapters import INVITED_EMAIL_SESSION_KEY
from ..forms import (
    CampaignCreateForm,
    CampaignForm,
    InvitationForm,
    MemberRoleForm,
    apply_validation_error,
    create_once,
)
from ..models import Role


def dashboard(request: HttpRequest) -> HttpResponse:
    campaigns = selectors.dashboard_campaigns(request.user)
    return render(request, "organizing/dashboard.html", {"campaigns": campaigns})


def campaign_create(request: HttpRequest) -> HttpResponse:
    require_site_organizer(request.user)
    form = CampaignCreateForm(request.POST or None)

    def create() -> str:
        campaign = services.campaign_create(creator=request.user, **form.service_fields())
        return campaign_url(campaign)

    if submission := create_once(request, form, create):
        if submission.created:
            messages.success(request, _("Campaign created."))
        return redirect(submission.url)
    return render(request, "organizing/campaign_form.html", {"form": form})


def campaign_url(campaign) -> str:
    return reverse("staff:campaign", kwargs={"slug": campaign.slug})


def _campaign_page(request, campaign, membership, invite_form=None, status=200) -> HttpResponse:
    is_organizer = membership.role == Role.ORGANIZER
    if is_organizer:
        members = selectors.campaign_members(campaign)
        invitations = selectors.campaign_pending_invitations(campaign)
    else:
        # A moderator sees their own row and how many people hold each role, never who: an
        # infiltrated moderator must not learn the organizers' addresses (review L6).
        members = [membership]
        invitations = []
    context = {
        "campaign": campaign,
        "membership": membership,
        "is_organizer": is_organizer,
        "petitions": selectors.campaign_petitions(campaign),
        "members": members,
        "team_counts": None if is_organizer else selectors.campaign_role_counts(campaign),
        "invitations": invitations,
        "invite_form": invite_form or InvitationForm(),
        "roles": Role.choices,
    }
    return render(request, "organizing/campaign_detail.html", context, status=status)


def campaign_detail(request: HttpRequest, slug: str) -> HttpResponse:
    campaign, membership = campaign_for_member(request.user, slug)
    return _campaign_page(request, campaign, membership)


def campaign_edit(request: HttpRequest, slug: str) -> HttpResponse:
    campaign, _membership = campaign_for_member(request.user, slug, ORGANIZERS)
    form = CampaignForm(
        request.POST or None,
        instance=campaign,
        work_email_locked=services.campaign_work_email_locked(campaign),
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.campaign_update(campaign=campaign, actor=request.user, **form.service_fields())
        except ValidationError as exc:
            apply_validation_error(form, exc)
        else:
            messages.success(request, _("Campaign saved."))
            return redirect("staff:campaign", slug=campaign.slug)
    return render(request, "organizing/campaign_form.html", {"form": form, "campaign": campaign})


@require_POST
def invitation_create(request: HttpRequest, slug: str) -> HttpResponse:
    campaign, membership = campaign_for_member(request.user, slug, ORGANIZERS)
    form = InvitationForm(request.POST)

    def invite() -> str:
        services.invitation_create(
            email=form.cleaned_data["email"],
            role=form.cleaned_data["role"],
            campaign=campaign,
            invited_by=request.user,
        )
        return campaign_url(campaign)

    try:
        submission = create_once(request, form, invite)
    except services.TeamError as exc:
        messages.error(request, str(exc))
        return redirect("staff:campaign", slug=campaign.slug)
    if submission:
        if submission.created:
            messages.success(
                request, _("Invitation sent to %(email)s.") % {"email": form.cleaned_data["email"]}
            )
        return redirect(submission.url)
    return _campaign_page(request, campaign, membership, invite_form=form, status=400)


@require_POST
def invitation_revoke(request: HttpRequest, slug: str, invitation_id: int) -> HttpResponse:
    campaign, _membership = campaign_for_member(request.user, slug, ORGANIZERS)
    invitation = get_object_or_404(campaign.invitations, pk=invitation_id)
    try:
        services.invitation_revoke(invitation=invitation, actor=request.user)
    except services.TeamError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("Invitation withdrawn: its link no longer works."))
    return redirect("staff:campaign", slug=campaign.slug)


@require_POST
def member_role(request: HttpRequest, slug: str, membership_id: int) -> HttpResponse:
    campaign, _membership = campaign_for_member(request.user, slug, ORGANIZERS)
    member = get_object_or_404(campaign.memberships, pk=membership_id)
    form = MemberRoleForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose a role."))
        return redirect("staff:campaign", slug=campaign.slug)
    try:
        services.membership_change_role(
            membership=member, role=form.cleaned_data["role"], actor=request.user
        )
    except services.TeamError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("Role changed."))
    return redirect("staff:campaign", slug=campaign.slug)


@require_POST
def member_confirm(request: HttpRequest, slug: str, membership_id: int) -> HttpResponse:
    """A second organizer vouches for a new member (review L7)."""
    campaign, _membership = campaign_for_member(request.user, slug, ORGANIZERS)
    member = get_object_or_404(campaign.memberships, pk=membership_id)
    try:
        services.membership_confirm(membership=member, actor=request.user)
    except services.TeamError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("Confirmed: they now count in two-person decisions."))
    return redirect("staff:console", slug=campaign.slug)


@require_POST
def member_remove(request: HttpRequest, slug: str, membership_id: int) -> HttpResponse:
    campaign, membership = campaign_for_member(request.user, slug, ORGANIZERS)
    member = get_object_or_404(campaign.memberships, pk=membership_id)
    try:
        services.membership_remove(membership=member, actor=request.user)
    except services.TeamError as exc:
        messages.error(request, str(exc))
        return redirect("staff:campaign", slug=campaign.slug)
    messages.success(request, _("Removed from the team."))
    if member.pk == membership.pk:
        return redirect("staff:dashboard")
    return redirect("staff:campaign", slug=campaign.slug)


def invitation_open(request: HttpRequest, token: str) -> HttpResponse:
    """The link in an invitation mail. Not a staff page: the visitor has no account yet."""
    try:
        invitation = services.invitation_from_token(token)
    except services.InvitationError:
        return render(request, "organizing/invitation_invalid.html", status=404)

    if request.user.is_authenticated:
        if request.user.email.lower() != invitation.email.lower():
            return render(
                request,
                "organizing/invitation_other_account.html",
                {"invitation": invitation},
                status=403,
            )
        try:
            services.invitation_accept(invitation=invitation, user=request.user)
        except services.InvitationError:
            return render(request, "organizing/invitation_invalid.html", status=404)
        messages.success(request, _("Invitation accepted."))
        return redirect("staff:dashboard")

    if get_user_model().objects.filter(email__iexact=invitation.email).exists():
        # An existing account accepts by signing in and opening the link again.
        return redirect_to_login(request.get_full_path())

    # Opening the mailed link proves the address; allauth then treats it as verified.
    request.session[INVITED_EMAIL_SESSION_KEY] = invitation.email
    get_adapter(request).stash_verified_email(request, invitation.email)
    return redirect("account_signup")
