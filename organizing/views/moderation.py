"""The moderation page: one page per campaign with what waits (names and comments to
review, code batches to approve) and the code batches of its open petitions.

Moderators and organizers of the campaign use it; access goes through organizing.access
like every staff page, and the MFA middleware guards it (namespace `staff`).
"""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from django.views.decorators.http import require_POST

from petition import codes, invalidation, review
from petition.models import (
    HiddenPart,
    HideReason,
    KeyInvalidation,
    Petition,
    PetitionKey,
    Signature,
)

from .. import selectors
from ..access import ORGANIZERS, campaign_for_member, petition_for_member
from ..forms import EntryHideForm
from ..models import Campaign, Role

QUEUE_PAGE_SIZE = 50


def _open_petitions(campaign: Campaign):
    return campaign.petitions.filter(status=Petition.Status.PUBLISHED).order_by("title")


def moderation(request: HttpRequest, slug: str) -> HttpResponse:
    campaign, membership = campaign_for_member(request.user, slug)
    queue = Paginator(review.review_queue(campaign), QUEUE_PAGE_SIZE).get_page(
        request.GET.get("queue")
    )
    shown = Paginator(review.entries_shown(campaign), QUEUE_PAGE_SIZE).get_page(
        request.GET.get("shown")
    )
    hidden = Paginator(review.entries_hidden(campaign), QUEUE_PAGE_SIZE).get_page(
        request.GET.get("hidden")
    )
    petitions = list(_open_petitions(campaign))
    batches_waiting = list(codes.code_batches_waiting_approval(campaign.petitions.all()))
    is_organizer = membership.role == Role.ORGANIZER
    keys_waiting = (
        invalidation.invalidations_waiting(campaign.petitions.all()) if is_organizer else []
    )
    context = {
        "campaign": campaign,
        "is_organizer": is_organizer,
        "keys_waiting": keys_waiting,
        "queue": queue,
        "shown": shown,
        "hidden": hidden,
        "hide_reasons": HideReason.choices,
        "hidden_parts": HiddenPart.choices,
        "batches_waiting": batches_waiting,
        # Usage as this member may see it, so a code's maker cannot watch one card being
        # used: per batch for organizers, never their own; campaign-wide only for
        # moderators; as of the end of the previous day.
        "petition_batches": [
            (p, codes.code_batches_for_petition(p, request.user, per_batch=is_organizer))
            for p in petitions
        ],
        "usage_per_batch": is_organizer,
        "campaign_usage": None if is_organizer else codes.code_usage_for_campaign(campaign.pk),
        "hide_reason_max": review.HIDE_REASON_MAX,
        "membership": membership,
        "members_waiting": selectors.members_waiting_confirmation(campaign) if is_organizer else [],
        "confirmed_organizers": selectors.confirmed_organizer_count(campaign),
    }
    return render(request, "organizing/moderation.html", context)


def _entry(campaign: Campaign, review_id) -> Signature:
    return get_object_or_404(
        Signature.objects.only("id", "petition_id"),
        review_id=review_id,
        petition__campaign=campaign,
    )


@require_POST
def entry_approve(request: HttpRequest, slug: str, review_id) -> HttpResponse:
    campaign, _membership = campaign_for_member(request.user, slug)
    try:
        review.entry_approve(signature=_entry(campaign, review_id), actor=request.user)
    except review.ReviewError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("Approved: it shows on the petition page."))
    return redirect("staff:moderation", slug=campaign.slug)


HIDDEN_MESSAGES = {
    HiddenPart.NAME: _lazy("Name hidden, comment shown. The signature still counts."),
    HiddenPart.COMMENT: _lazy("Comment hidden, name shown. The signature still counts."),
    HiddenPart.BOTH: _lazy("Hidden. The signature still counts."),
}


@require_POST
def entry_hide(request: HttpRequest, slug: str, review_id) -> HttpResponse:
    campaign, _membership = campaign_for_member(request.user, slug)
    signature = _entry(campaign, review_id)
    form = EntryHideForm(request.POST)
    if not form.is_valid():
        # One form per entry on a long page: its errors come back as one message.
        errors = [str(error) for errors in form.errors.values() for error in errors]
        messages.error(request, " ".join(errors))
        return redirect("staff:moderation", slug=campaign.slug)
    try:
        review.entry_hide(
            signature=signature,
            actor=request.user,
            part=form.cleaned_data["part"],
            reason=form.cleaned_data["reason"],
            other_reason=form.cleaned_data["other_reason"],
        )
    except review.ReviewError as exc:
        messages.error(request, str(exc))
    else:
        signature.refresh_from_db(fields=["hidden_part"])
        messages.success(request, HIDDEN_MESSAGES[signature.hidden_part])
    return redirect("staff:moderation", slug=campaign.slug)


@require_POST
def entry_show(request: HttpRequest, slug: str, review_id) -> HttpResponse:
    """Undo a hide (a wrong click, or a reason that no longer holds)."""
    campaign, _membership = campaign_for_member(request.user, slug)
    try:
        review.entry_show(signature=_entry(campaign, review_id), actor=request.user)
    except review.ReviewError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("Shown again on the petition page."))
    return redirect("staff:moderation", slug=campaign.slug)


@require_POST
def key_invalidation_request(request: HttpRequest, slug: str, key_id: int) -> HttpResponse:
    """First organizer: a key is compromised. Nothing changes until a second one confirms."""
    petition, _membership = petition_for_member(request.user, slug, ORGANIZERS)
    key = get_object_or_404(
        PetitionKey.objects.select_related("petition__campaign"), pk=key_id, petition=petition
    )
    try:
        invalidation.key_invalidation_request(
            key=key, actor=request.user, reason=request.POST.get("reason", "")
        )
    except invalidation.InvalidationError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(
            request, _("Asked. Another organizer must confirm before the key is invalidated.")
        )
    return redirect("staff:petition", slug=petition.slug)


@require_POST
def key_invalidation_confirm(request: HttpRequest, slug: str, key_id: int) -> HttpResponse:
    petition, _membership = petition_for_member(request.user, slug, ORGANIZERS)
    pending = (
        KeyInvalidation.objects.select_related("key__petition__campaign")
        .filter(key_id=key_id, key__petition=petition)
        .first()
    )
    if pending is None:
        messages.error(request, _("Nobody asked to invalidate this key."))
        return redirect("staff:petition", slug=petition.slug)
    try:
        invalidation.key_invalidation_confirm(invalidation=pending, actor=request.user)
    except invalidation.InvalidationError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(
            request, _("Key invalidated: what was signed with it no longer counts, publicly.")
        )
    return redirect("staff:petition", slug=petition.slug)
