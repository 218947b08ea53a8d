"""Staff pages of a petition's code batches: issue, revoke, approve, and usage."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from petition import codes as codes_service

from ..access import petition_for_member
from ..flyers.rendering import default_text
from ..flyers.services import print_run_create
from ..forms import (
    CodeBatchForm,
    create_once,
)
from ..models import Role

CODES_ALREADY_MADE = gettext_lazy(
    "These code cards were already made; no new codes were made. If they were not "
    "printed, revoke that batch and make new ones."
)


def code_batches(request: HttpRequest, slug: str) -> HttpResponse:
    """Moderators and organizers make single-use code cards: the POST makes the codes and
    their PDF in one process, then redirects (a reload makes nothing twice) to the page that
    offers the download. Only keyed hashes of the codes are kept."""
    petition, membership = petition_for_member(request.user, slug)
    form = CodeBatchForm(request.POST or None, petition=petition)

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

    if submission := create_once(request, form, make_cards):
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
    """Usage as a member may see it, never live and never to a batch's maker, who could
    otherwise hand out one card and watch it used: organizers per batch (not their own),
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
        # No count of unused codes here: usage is shown only in steps of 5, so that nobody
        # can hand out one card and watch it being used.
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
