"""Staff pages. Every view here is routed under the `staff` namespace, so the MFA
middleware guards it; access to a campaign goes through organizing.access."""

from __future__ import annotations

from allauth.account.adapter import get_adapter
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.cache import add_never_cache_headers
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from django.views.decorators.http import require_http_methods, require_POST

from petition import codes as codes_service
from petition import services as petition_services
from petition import views as public_views
from petition.models import Level, Petition
from petition.review import purge_due_on
from petition.selectors import petition_counts

from . import audit, selectors, services
from .access import campaign_for_member, petition_for_member, require_site_organizer
from .adapters import INVITED_EMAIL_SESSION_KEY
from .flyers.rendering import default_text
from .flyers.services import print_run_create
from .forms import (
    CampaignCreateForm,
    CampaignForm,
    CodeBatchForm,
    InvitationForm,
    MemberRoleForm,
    PetitionCreateForm,
    PetitionForm,
    apply_validation_error,
)
from .idempotency import earlier_result, submit_once
from .milestones import selectors as milestone_selectors
from .models import AuditAction, Role

ORGANIZER = (Role.ORGANIZER,)


def dashboard(request: HttpRequest) -> HttpResponse:
    campaigns = selectors.dashboard_campaigns(request.user)
    return render(request, "organizing/dashboard.html", {"campaigns": campaigns})


def campaign_create(request: HttpRequest) -> HttpResponse:
    require_site_organizer(request.user)
    if request.method == "POST" and (url := earlier_result(user=request.user, data=request.POST)):
        return redirect(url)
    form = CampaignCreateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():

        def create() -> str:
            campaign = services.campaign_create(creator=request.user, **form.service_fields())
            return campaign_url(campaign)

        try:
            submission = submit_once(
                user=request.user, key=form.cleaned_data["form_key"], action=create
            )
        except ValidationError as exc:
            apply_validation_error(form, exc)
        else:
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
    campaign, _membership = campaign_for_member(request.user, slug, ORGANIZER)
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
    campaign, membership = campaign_for_member(request.user, slug, ORGANIZER)
    if url := earlier_result(user=request.user, data=request.POST):
        return redirect(url)
    form = InvitationForm(request.POST)
    if form.is_valid():

        def invite() -> str:
            services.invitation_create(
                email=form.cleaned_data["email"],
                role=form.cleaned_data["role"],
                campaign=campaign,
                invited_by=request.user,
            )
            return campaign_url(campaign)

        try:
            submission = submit_once(
                user=request.user, key=form.cleaned_data["form_key"], action=invite
            )
        except services.TeamError as exc:
            messages.error(request, str(exc))
            return redirect("staff:campaign", slug=campaign.slug)
        if submission.created:
            messages.success(
                request, _("Invitation sent to %(email)s.") % {"email": form.cleaned_data["email"]}
            )
        return redirect(submission.url)
    return _campaign_page(request, campaign, membership, invite_form=form, status=400)


@require_POST
def invitation_revoke(request: HttpRequest, slug: str, invitation_id: int) -> HttpResponse:
    campaign, _membership = campaign_for_member(request.user, slug, ORGANIZER)
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
    campaign, _membership = campaign_for_member(request.user, slug, ORGANIZER)
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
    campaign, _membership = campaign_for_member(request.user, slug, ORGANIZER)
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
    campaign, membership = campaign_for_member(request.user, slug, ORGANIZER)
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


def petition_create(request: HttpRequest, slug: str) -> HttpResponse:
    campaign, _membership = campaign_for_member(request.user, slug, ORGANIZER)
    if request.method == "POST" and (url := earlier_result(user=request.user, data=request.POST)):
        return redirect(url)
    form = PetitionCreateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():

        def create() -> str:
            petition = petition_services.petition_create(
                campaign=campaign, actor=request.user, **form.service_fields()
            )
            return reverse("staff:petition", kwargs={"slug": petition.slug})

        try:
            submission = submit_once(
                user=request.user, key=form.cleaned_data["form_key"], action=create
            )
        except ValidationError as exc:
            apply_validation_error(form, exc)
        else:
            if submission.created:
                messages.success(request, _("Draft saved. Publish it when it is ready."))
            return redirect(submission.url)
    return render(request, "organizing/petition_form.html", {"form": form, "campaign": campaign})


def petition_detail(request: HttpRequest, slug: str) -> HttpResponse:
    petition, membership = petition_for_member(request.user, slug)
    context = {
        "petition": petition,
        "campaign": petition.campaign,
        "is_organizer": membership.role == Role.ORGANIZER,
        "counts": petition_counts(petition),
        "level_labels": [Level(level).label for level in petition.levels],
        **milestone_selectors.petition_dashboard(petition),
        "keys": petition.keys.select_related("invalidation"),
        "purge_due_on": purge_due_on(petition),
        # Why a key invalidation may be stuck (review L7): see docs/roles.md.
        "membership": membership,
        "confirmed_organizers": selectors.confirmed_organizer_count(petition.campaign),
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


# What each status change says before it happens (a page, so it works without JS).
TRANSITIONS = {
    "publish": {
        "action": petition_services.petition_publish,
        "source": Petition.Status.DRAFT,
        "target": Petition.Status.PUBLISHED,
        "title": _lazy("Publish this petition?"),
        "explain": _lazy(
            "People can sign as soon as it is published, and its public page appears in the "
            "campaign's list."
        ),
        "permanent": _lazy(
            "This cannot be undone. The title, demands, addressee, short name and ways to "
            "verify are then fixed for good, because signers sign exactly that text."
        ),
        "button": _lazy("Publish"),
        "danger": False,
        "done": _lazy("Published: people can sign now."),
    },
    "close": {
        "action": petition_services.petition_close,
        "source": Petition.Status.PUBLISHED,
        "target": Petition.Status.CLOSED,
        "title": _lazy("Close signing?"),
        "explain": _lazy("Nobody can sign after this; the signatures so far stay counted."),
        "permanent": _lazy(
            "This cannot be undone. The signing keys are destroyed, so the petition can never "
            "be reopened and unused codes stop working."
        ),
        "button": _lazy("Close signing"),
        "danger": True,
        "done": _lazy("Closed: no more signatures."),
    },
    "deliver": {
        "action": petition_services.petition_mark_delivered,
        "source": Petition.Status.CLOSED,
        "target": Petition.Status.DELIVERED,
        "title": _lazy("Mark as delivered?"),
        "explain": _lazy(
            "Record that the petition was handed to the people it is addressed to. The public "
            "page then says so."
        ),
        "permanent": _lazy("This cannot be undone."),
        "button": _lazy("Mark as delivered"),
        "danger": False,
        "done": _lazy("Marked as delivered."),
    },
}


def _transition_view(request: HttpRequest, slug: str, name: str) -> HttpResponse:
    """GET asks for confirmation; POST changes the status, then redirects (POST-redirect-GET).

    A second POST (double click, reload) finds the petition already changed and says so
    instead of reporting an error.
    """
    petition, _membership = petition_for_member(request.user, slug, ORGANIZER)
    transition = TRANSITIONS[name]
    if request.method != "POST":
        if petition.status != transition["source"]:
            return redirect("staff:petition", slug=petition.slug)
        context = {
            "petition": petition,
            "campaign": petition.campaign,
            "transition": transition,
            "cancel_url": reverse("staff:petition", kwargs={"slug": petition.slug}),
        }
        return render(request, "organizing/confirm.html", context)
    try:
        transition["action"](petition=petition, actor=request.user)
    except ValidationError as exc:  # e.g. a draft's publication policy below the safe floor
        messages.error(request, " ".join(exc.messages))
        return redirect("staff:petition", slug=petition.slug)
    except petition_services.TransitionError:
        petition.refresh_from_db()
        if petition.status != transition["target"]:
            messages.error(
                request, _("That change is not possible in the petition's current state.")
            )
        return redirect("staff:petition", slug=petition.slug)
    messages.success(request, transition["done"])
    return redirect("staff:petition", slug=petition.slug)


@require_http_methods(["GET", "HEAD", "POST"])
def petition_publish(request: HttpRequest, slug: str) -> HttpResponse:
    return _transition_view(request, slug, "publish")


@require_http_methods(["GET", "HEAD", "POST"])
def petition_close(request: HttpRequest, slug: str) -> HttpResponse:
    return _transition_view(request, slug, "close")


@require_http_methods(["GET", "HEAD", "POST"])
def petition_deliver(request: HttpRequest, slug: str) -> HttpResponse:
    return _transition_view(request, slug, "deliver")


def petition_preview(request: HttpRequest, slug: str) -> HttpResponse:
    """The exact public page of a petition, for its team, before anyone else can see it."""
    petition, _membership = petition_for_member(request.user, slug)
    context = public_views.petition_page_context(request, petition)
    context["preview"] = True
    response = render(request, "petition/detail.html", context)
    add_never_cache_headers(response)
    return response


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


CODES_ALREADY_MADE = _lazy(
    "These code cards were already made; no new codes were made. If they were not "
    "printed, revoke that batch and make new ones."
)


def code_batches(request: HttpRequest, slug: str) -> HttpResponse:
    """Moderators and organizers make single-use code cards: the POST makes the codes and
    their PDF in one process, then redirects (a reload makes nothing twice) to the page that
    offers the download. Only keyed hashes of the codes are kept."""
    petition, membership = petition_for_member(request.user, slug)
    if request.method == "POST" and (url := earlier_result(user=request.user, data=request.POST)):
        messages.info(request, CODES_ALREADY_MADE)
        return redirect(url)
    form = CodeBatchForm(request.POST or None, petition=petition)
    if request.method == "POST" and form.is_valid():

        def make_cards() -> str:
            run = print_run_create(
                petition=petition,
                design="cards",
                paper=form.cleaned_data["paper"] or "letter",
                copies=form.cleaned_data["size"],
                text=default_text(petition),
                code_level=form.cleaned_data["level"],
                code_label=form.cleaned_data["label"],
                code_expires_at=form.service_fields()["expires_at"],
                created_by=request.user,
            )
            return reverse("staff:print_run", kwargs={"slug": petition.slug, "run_id": run.pk})

        try:
            submission = submit_once(
                user=request.user, key=form.cleaned_data["form_key"], action=make_cards
            )
        except ValidationError as exc:
            apply_validation_error(form, exc)
        else:
            if not submission.created:
                messages.info(request, CODES_ALREADY_MADE)
            return redirect(submission.url)
    context = {
        "petition": petition,
        "campaign": petition.campaign,
        "form": form,
        **_code_usage_context(petition, request.user, membership),
    }
    status = 400 if form.is_bound else 200
    return render(request, "organizing/code_batches.html", context, status=status)


def _code_usage_context(petition, user, membership) -> dict:
    """Usage as a member may see it (review M2): organizers per batch (not their own),
    moderators campaign-wide only; both as of the end of the previous day."""
    is_organizer = membership.role == Role.ORGANIZER
    context = {
        "batches": codes_service.code_batches_for_petition(petition, user, per_batch=is_organizer),
        "usage_per_batch": is_organizer,
        "membership": membership,
    }
    if not is_organizer:
        context["campaign_usage"] = codes_service.code_usage_for_campaign(petition.campaign_id)
    return context


@require_http_methods(["GET", "HEAD", "POST"])
def code_batch_revoke(request: HttpRequest, slug: str, batch_id: int) -> HttpResponse:
    petition, _membership = petition_for_member(request.user, slug)
    batch = get_object_or_404(petition.code_batches, pk=batch_id)
    back = reverse("staff:code_batches", kwargs={"slug": petition.slug})
    if batch.revoked_at is not None:
        return redirect(back)
    if request.method != "POST":
        # No count of unused codes here: usage is shown only in steps of 5 (review S7).
        transition = {
            "title": _("Revoke this batch of codes?"),
            "explain": _(
                "Its unused codes stop working at once (for a stack of cards that went "
                "missing, for example). Signatures already made stay counted."
            ),
            "permanent": _("This cannot be undone: revoked codes never work again."),
            "button": _("Revoke the batch"),
            "danger": True,
        }
        context = {
            "petition": petition,
            "campaign": petition.campaign,
            "transition": transition,
            "batch": batch,
            "cancel_url": back,
        }
        return render(request, "organizing/confirm.html", context)
    codes_service.code_batch_revoke(batch=batch, actor=request.user)
    messages.success(request, _("Batch revoked: its unused codes no longer work."))
    return redirect(back)


@require_POST
def code_batch_approve(request: HttpRequest, slug: str, batch_id: int) -> HttpResponse:
    """The second pair of eyes, when the campaign asks for one."""
    petition, _membership = petition_for_member(request.user, slug)
    batch = get_object_or_404(petition.code_batches, pk=batch_id)
    try:
        codes_service.code_batch_approve(batch=batch, actor=request.user)
    except codes_service.CodeBatchError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("Batch approved: its codes work now."))
    return redirect("staff:code_batches", slug=petition.slug)


AUDIT_PAGE_SIZE = 100


def audit_log(request: HttpRequest, slug: str) -> HttpResponse:
    """The campaign's record of staff actions, newest first. Organizers only."""
    campaign, _membership = campaign_for_member(request.user, slug, ORGANIZER)
    paginator = Paginator(audit.audit_entries_for_campaign(campaign), AUDIT_PAGE_SIZE)
    page = paginator.get_page(request.GET.get("page"))
    return render(
        request,
        "organizing/audit_log.html",
        {
            "campaign": campaign,
            "page": page,
            "rows": audit.audit_rows(page),
            "head": audit.audit_chain_head(campaign),
        },
    )


def audit_export(request: HttpRequest, slug: str) -> HttpResponse:
    """The whole log as CSV. The export itself is recorded (before the rows are read, so
    the file ends with it)."""
    campaign, _membership = campaign_for_member(request.user, slug, ORGANIZER)
    audit.audit_record(
        actor=request.user, action=AuditAction.AUDIT_EXPORT, campaign=campaign, target=campaign
    )
    entries = audit.audit_entries_for_campaign(campaign).order_by("created_at", "id")
    response = StreamingHttpResponse(
        audit.audit_csv_lines(entries.iterator(chunk_size=500), get_language()),
        content_type="text/csv; charset=utf-8",
    )
    response["Content-Disposition"] = f'attachment; filename="audit-{campaign.slug}.csv"'
    add_never_cache_headers(response)
    return response
