"""Staff pages. Every view here is routed under the `staff` namespace, so the MFA
middleware guards it; access to a campaign goes through organizing.access."""

from __future__ import annotations

from allauth.account.adapter import get_adapter
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.cache import add_never_cache_headers
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from petition import services as petition_services
from petition.credentials import code_batch_create, code_batch_revoke
from petition.selectors import petition_counts

from . import audit, selectors, services
from .access import campaign_for_member, petition_for_member
from .adapters import INVITED_EMAIL_SESSION_KEY
from .forms import (
    CampaignForm,
    CodeBatchForm,
    InvitationForm,
    PetitionForm,
    apply_validation_error,
)
from .models import AuditAction, Role

ORGANIZER = (Role.ORGANIZER,)


def dashboard(request: HttpRequest) -> HttpResponse:
    memberships = selectors.memberships_for_user(request.user)
    return render(request, "organizing/dashboard.html", {"memberships": memberships})


def campaign_create(request: HttpRequest) -> HttpResponse:
    form = CampaignForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            campaign = services.campaign_create(creator=request.user, **form.service_fields())
        except ValidationError as exc:
            apply_validation_error(form, exc)
        else:
            messages.success(request, _("Campaign created."))
            return redirect("staff:campaign", slug=campaign.slug)
    return render(request, "organizing/campaign_form.html", {"form": form})


def _campaign_page(request, campaign, membership, invite_form=None, status=200) -> HttpResponse:
    context = {
        "campaign": campaign,
        "membership": membership,
        "is_organizer": membership.role == Role.ORGANIZER,
        "petitions": selectors.campaign_petitions(campaign),
        "members": selectors.campaign_members(campaign),
        "invitations": selectors.campaign_pending_invitations(campaign),
        "invite_form": invite_form or InvitationForm(),
    }
    return render(request, "organizing/campaign_detail.html", context, status=status)


def campaign_detail(request: HttpRequest, slug: str) -> HttpResponse:
    campaign, membership = campaign_for_member(request.user, slug)
    return _campaign_page(request, campaign, membership)


def campaign_edit(request: HttpRequest, slug: str) -> HttpResponse:
    campaign, _membership = campaign_for_member(request.user, slug, ORGANIZER)
    form = CampaignForm(request.POST or None, instance=campaign)
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
    campaign, membership = campaign_for_member(request.user, slug, ORGANIZER)
    form = InvitationForm(request.POST)
    if form.is_valid():
        services.invitation_create(
            email=form.cleaned_data["email"],
            role=form.cleaned_data["role"],
            campaign=campaign,
            invited_by=request.user,
        )
        messages.success(
            request, _("Invitation sent to %(email)s.") % {"email": form.cleaned_data["email"]}
        )
        return redirect("staff:campaign", slug=campaign.slug)
    return _campaign_page(request, campaign, membership, invite_form=form, status=400)


def petition_create(request: HttpRequest, slug: str) -> HttpResponse:
    campaign, _membership = campaign_for_member(request.user, slug, ORGANIZER)
    form = PetitionForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            petition = petition_services.petition_create(
                campaign=campaign, actor=request.user, **form.service_fields()
            )
        except ValidationError as exc:
            apply_validation_error(form, exc)
        else:
            messages.success(request, _("Draft saved. Publish it when it is ready."))
            return redirect("staff:petition", slug=petition.slug)
    return render(request, "organizing/petition_form.html", {"form": form, "campaign": campaign})


def petition_detail(request: HttpRequest, slug: str) -> HttpResponse:
    petition, membership = petition_for_member(request.user, slug)
    context = {
        "petition": petition,
        "campaign": petition.campaign,
        "is_organizer": membership.role == Role.ORGANIZER,
        "counts": petition_counts(petition),
    }
    return render(request, "organizing/petition_detail.html", context)


def petition_edit(request: HttpRequest, slug: str) -> HttpResponse:
    petition, _membership = petition_for_member(request.user, slug, ORGANIZER)
    locked = (
        frozenset()
        if petition.status == petition.Status.DRAFT
        else petition_services.FIELDS_LOCKED_AFTER_PUBLISH
    )
    form = PetitionForm(request.POST or None, instance=petition, locked=locked)
    if request.method == "POST" and form.is_valid():
        try:
            petition_services.petition_update(
                petition=petition, actor=request.user, **form.service_fields()
            )
        except (ValidationError, petition_services.TransitionError) as exc:
            apply_validation_error(form, exc)
        else:
            messages.success(request, _("Petition saved."))
            return redirect("staff:petition", slug=petition.slug)
    context = {"form": form, "campaign": petition.campaign, "petition": petition}
    return render(request, "organizing/petition_form.html", context)


def _transition_view(request: HttpRequest, slug: str, action, done: str) -> HttpResponse:
    petition, _membership = petition_for_member(request.user, slug, ORGANIZER)
    try:
        action(petition=petition, actor=request.user)
    except petition_services.TransitionError:
        messages.error(request, _("That change is not possible in the petition's current state."))
        return redirect("staff:petition", slug=petition.slug)
    messages.success(request, done)
    return redirect("staff:petition", slug=petition.slug)


@require_POST
def petition_publish(request: HttpRequest, slug: str) -> HttpResponse:
    return _transition_view(
        request, slug, petition_services.petition_publish, _("Published: people can sign now.")
    )


@require_POST
def petition_close(request: HttpRequest, slug: str) -> HttpResponse:
    return _transition_view(
        request, slug, petition_services.petition_close, _("Closed: no more signatures.")
    )


@require_POST
def petition_deliver(request: HttpRequest, slug: str) -> HttpResponse:
    return _transition_view(
        request, slug, petition_services.petition_mark_delivered, _("Marked as delivered.")
    )


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


def code_batches(request: HttpRequest, slug: str) -> HttpResponse:
    """Moderators and organizers make single-use code cards. The codes appear once, on the
    page that answers the POST, for printing; only keyed hashes are kept."""
    petition, _membership = petition_for_member(request.user, slug)
    form = CodeBatchForm(request.POST or None, petition=petition)
    if request.method == "POST" and form.is_valid():
        if petition.status != petition.Status.PUBLISHED:
            form.add_error(None, _("Codes can be made only while the petition is open."))
        else:
            batch, codes = code_batch_create(
                petition=petition,
                level=form.cleaned_data["level"],
                size=form.cleaned_data["size"],
                label=form.cleaned_data["label"],
                created_by=request.user,
            )
            base = settings.COUNTERSIGN_BASE_URL.rstrip("/") + petition.get_absolute_url()
            response = render(
                request,
                "organizing/code_cards.html",
                {"petition": petition, "batch": batch, "codes": codes, "base_url": base},
            )
            add_never_cache_headers(response)
            return response
    context = {
        "petition": petition,
        "campaign": petition.campaign,
        "form": form,
        "batches": petition.code_batches.annotate(
            used_count=Count("codes", filter=Q(codes__used=True))
        ),
    }
    return render(request, "organizing/code_batches.html", context)


@require_POST
def code_batch_revoke_view(request: HttpRequest, slug: str, batch_id: int) -> HttpResponse:
    petition, _membership = petition_for_member(request.user, slug)
    batch = get_object_or_404(petition.code_batches, pk=batch_id)
    unused = code_batch_revoke(batch=batch, actor=request.user)
    messages.success(
        request, _("Batch revoked: %(count)d unused codes no longer work.") % {"count": unused}
    )
    return redirect("staff:code_batches", slug=petition.slug)


AUDIT_PAGE_SIZE = 100


def audit_log(request: HttpRequest, slug: str) -> HttpResponse:
    """The campaign's record of staff actions, newest first. Organizers only."""
    campaign, _membership = campaign_for_member(request.user, slug, ORGANIZER)
    paginator = Paginator(audit.audit_entries_for_campaign(campaign), AUDIT_PAGE_SIZE)
    page = paginator.get_page(request.GET.get("page"))
    return render(request, "organizing/audit_log.html", {"campaign": campaign, "page": page})


def audit_export(request: HttpRequest, slug: str) -> HttpResponse:
    """The whole log as CSV. The export itself is recorded (before the rows are read, so
    the file ends with it)."""
    campaign, _membership = campaign_for_member(request.user, slug, ORGANIZER)
    audit.audit_record(
        actor=request.user, action=AuditAction.AUDIT_EXPORT, campaign=campaign, target=campaign
    )
    entries = audit.audit_entries_for_campaign(campaign).order_by("created_at", "id")
    response = StreamingHttpResponse(
        audit.audit_csv_lines(entries.iterator(chunk_size=500)),
        content_type="text/csv; charset=utf-8",
    )
    response["Content-Disposition"] = f'attachment; filename="audit-{campaign.slug}.csv"'
    add_never_cache_headers(response)
    return response
