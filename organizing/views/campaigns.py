"""Staff pages of campaigns: the dashboard, campaign create/detail/edit, the team
(memberships) and invitations."""

from __future__ import annotations

from allauth.account.adapter import get_adapter
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

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
    form = CampaignCreateForm(request.POST or None, creator=request.user)

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
        # infiltrated moderator must not learn the organizers' addresses.
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
        "invite_form": invite_form or InvitationForm(campaign=campaign),
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
    form = InvitationForm(request.POST, campaign=campaign)

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
    member = get_object_or_404(campaign.memberships.select_related("user"), pk=membership_id)
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
        messages.success(
            request,
            _("%(email)s is now %(role)s.")
            % {"email": member.user.email, "role": Role(form.cleaned_data["role"]).label},
        )
    return redirect("staff:campaign", slug=campaign.slug)


@require_POST
def member_confirm(request: HttpRequest, slug: str, membership_id: int) -> HttpResponse:
    """A second organizer vouches for a new member, so that one person with two accounts
    cannot meet a two-person rule alone."""
    campaign, _membership = campaign_for_member(request.user, slug, ORGANIZERS)
    member = get_object_or_404(campaign.memberships, pk=membership_id)
    try:
        services.membership_confirm(membership=member, actor=request.user)
    except services.TeamError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("Confirmed: they now count in two-person decisions."))
    return redirect("staff:moderation", slug=campaign.slug)


@require_http_methods(["GET", "HEAD", "POST"])
def member_remove(request: HttpRequest, slug: str, membership_id: int) -> HttpResponse:
    """Remove a teammate, or leave: a GET shows who and which campaign, and only the POST
    from that page acts, as publish and close do (review O17). No JavaScript needed."""
    campaign, membership = campaign_for_member(request.user, slug, ORGANIZERS)
    member = get_object_or_404(campaign.memberships.select_related("user"), pk=membership_id)
    leaving = member.pk == membership.pk
    if request.method != "POST":
        context = {
            "campaign": campaign,
            "member": member,
            "leaving": leaving,
            "cancel_url": campaign_url(campaign),
        }
        return render(request, "organizing/member_remove.html", context)
    try:
        services.membership_remove(membership=member, actor=request.user)
    except services.TeamError as exc:
        messages.error(request, str(exc))
        return redirect("staff:campaign", slug=campaign.slug)
    if leaving:
        messages.success(request, _("You left %(campaign)s.") % {"campaign": campaign.name})
        return redirect("staff:dashboard")
    messages.success(
        request,
        _("%(email)s was removed from the team of %(campaign)s. To undo, invite them again.")
        % {"email": member.user.email, "campaign": campaign.name},
    )
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

    has_account = get_user_model().objects.filter(email__iexact=invitation.email).exists()
    if has_account:
        # An existing account accepts by signing in: the login comes back to this link.
        next_url = f"{reverse('account_login')}?{urlencode({'next': request.get_full_path()})}"
    else:
        # Opening the mailed link proves the address; allauth then treats it as verified.
        request.session[INVITED_EMAIL_SESSION_KEY] = invitation.email
        get_adapter(request).stash_verified_email(request, invitation.email)
        next_url = reverse("account_signup")
    # Say what the invitation is before any sign-up form (review M1): campaign, role, who.
    context = {"invitation": invitation, "has_account": has_account, "next_url": next_url}
    return render(request, "organizing/invitation.html", context)
