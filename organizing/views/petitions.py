"""Staff pages of a petition: create, detail, edit, preview, its translations, and the
publish, close and deliver transitions."""

from __future__ import annotations

from datetime import timedelta

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import add_never_cache_headers
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods

from petition import services as petition_services
from petition import views as public_views
from petition.models import Level, Petition, PetitionTranslation
from petition.review import entries_kept, purge_due_on
from petition.selectors import petition_counts, petition_translations

from .. import selectors
from ..access import ORGANIZERS, campaign_for_member, petition_for_member
from ..forms import (
    DeliveryForm,
    PetitionCreateForm,
    PetitionForm,
    PetitionTranslationCreateForm,
    PetitionTranslationForm,
    apply_validation_error,
    create_once,
    missing_translation_languages,
)
from ..models import Role
from ..notices import selectors as notice_selectors


def petition_create(request: HttpRequest, slug: str) -> HttpResponse:
    campaign, _membership = campaign_for_member(request.user, slug, ORGANIZERS)
    form = PetitionCreateForm(request.POST or None, campaign=campaign)

    def create() -> str:
        petition = petition_services.petition_create(
            campaign=campaign, actor=request.user, **form.service_fields()
        )
        return reverse("staff:petition", kwargs={"slug": petition.slug})

    if submission := create_once(request, form, create):
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
        **notice_selectors.petition_dashboard(petition),
        "keys": petition.keys.select_related("invalidation"),
        "purge_due_on": purge_due_on(petition),
        # Why a key invalidation may be stuck (a member not yet confirmed by a second
        # organizer): see docs/roles.md.
        "membership": membership,
        "confirmed_organizers": selectors.confirmed_organizer_count(petition.campaign),
        "translations": petition_translations(petition),
        "written_in": public_views.written_in_sentence(petition.language),
        "can_add_translation": bool(missing_translation_languages(petition)),
    }
    return render(request, "organizing/petition_detail.html", context)


def petition_edit(request: HttpRequest, slug: str) -> HttpResponse:
    petition, _membership = petition_for_member(request.user, slug, ORGANIZERS)
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


def _translations_url(petition: Petition) -> str:
    return reverse("staff:petition", kwargs={"slug": petition.slug}) + "#translations"


def petition_translation_create(request: HttpRequest, slug: str) -> HttpResponse:
    petition, _membership = petition_for_member(request.user, slug, ORGANIZERS)
    form = PetitionTranslationCreateForm(request.POST or None, petition=petition)
    if request.method != "POST" and not form.fields["language"].choices:
        messages.info(request, _("This petition has a translation in every language."))
        return redirect(_translations_url(petition))

    def create() -> str:
        petition_services.petition_translation_create(
            petition=petition, actor=request.user, **form.service_fields()
        )
        return _translations_url(petition)

    if submission := create_once(request, form, create):
        if submission.created:
            messages.success(request, _("Translation saved."))
        return redirect(submission.url)
    context = {"form": form, "campaign": petition.campaign, "petition": petition}
    return render(request, "organizing/petition_translation_form.html", context)


def petition_translation_edit(request: HttpRequest, slug: str, language: str) -> HttpResponse:
    petition, _membership = petition_for_member(request.user, slug, ORGANIZERS)
    translation = get_object_or_404(PetitionTranslation, petition=petition, language=language)
    locked = (
        frozenset()
        if petition.status == Petition.Status.DRAFT
        else petition_services.TRANSLATION_FIELDS_LOCKED_AFTER_PUBLISH
    )
    form = PetitionTranslationForm(
        request.POST or None, instance=translation, petition=petition, locked=locked
    )
    if request.method == "POST" and form.is_valid():
        try:
            petition_services.petition_translation_update(
                translation=translation, actor=request.user, **form.service_fields()
            )
        except (ValidationError, petition_services.TransitionError) as exc:
            apply_validation_error(form, exc)
        else:
            messages.success(request, _("Translation saved."))
            return redirect(_translations_url(petition))
    context = {
        "form": form,
        "campaign": petition.campaign,
        "petition": petition,
        "translation": translation,
    }
    return render(request, "organizing/petition_translation_form.html", context)


@require_http_methods(["GET", "HEAD", "POST"])
def petition_translation_delete(request: HttpRequest, slug: str, language: str) -> HttpResponse:
    """POST deletes (a draft's translation only); GET goes back to the petition's page."""
    petition, _membership = petition_for_member(request.user, slug, ORGANIZERS)
    translation = get_object_or_404(PetitionTranslation, petition=petition, language=language)
    if request.method == "POST":
        try:
            petition_services.petition_translation_delete(
                translation=translation, actor=request.user
            )
        except petition_services.TransitionError:
            messages.error(
                request,
                _(
                    "The petition is open: people may have signed after reading this "
                    "translation, so it stays."
                ),
            )
        else:
            messages.success(request, _("Translation deleted."))
    return redirect(_translations_url(petition))


# What each status change says before it happens (a page, so it works without JS).
TRANSITIONS = {
    "publish": {
        "action": petition_services.petition_publish,
        "source": Petition.Status.DRAFT,
        "target": Petition.Status.PUBLISHED,
        "title": gettext_lazy("Publish this petition?"),
        "explain": gettext_lazy(
            "People can sign as soon as it is published, and its public page appears in the "
            "campaign's list."
        ),
        "permanent": gettext_lazy(
            "This cannot be undone. The title, demands, addressee, short name and ways to "
            "verify are then fixed for good, because signers sign exactly that text."
        ),
        "button": gettext_lazy("Publish"),
        "danger": False,
        "done": gettext_lazy("Published: people can sign now."),
    },
    "close": {
        "action": petition_services.petition_close,
        "source": Petition.Status.PUBLISHED,
        "target": Petition.Status.CLOSED,
        "title": gettext_lazy("Close signing?"),
        "explain": gettext_lazy("Nobody can sign after this; the signatures so far stay counted."),
        "permanent": gettext_lazy(
            "This cannot be undone. The signing keys are destroyed, so the petition can never "
            "be reopened and unused codes stop working."
        ),
        "button": gettext_lazy("Close signing"),
        "danger": True,
        "done": gettext_lazy("Closed: no more signatures."),
    },
}


def _transition_view(request: HttpRequest, slug: str, name: str) -> HttpResponse:
    """GET asks for confirmation; POST changes the status, then redirects (POST-redirect-GET).

    A second POST (double click, reload) finds the petition already changed and says so
    instead of reporting an error.
    """
    petition, _membership = petition_for_member(request.user, slug, ORGANIZERS)
    transition = TRANSITIONS[name]
    if request.method != "POST":
        if petition.status != transition["source"]:
            return redirect("staff:petition", slug=petition.slug)
        context = {
            "petition": petition,
            "campaign": petition.campaign,
            "transition": transition,
            "cancel_url": reverse("staff:petition", kwargs={"slug": petition.slug}),
            # Publishing is the last moment to notice an unsafe policy (review O4).
            "policy_warning": name == "publish" and petition.publication_is_unsafe,
            # Closing: what is still pending, each with its link (review O20).
            "checklist": selectors.close_checklist(petition) if name == "close" else None,
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
    """Mark as delivered: asks for the day and a note, lists what is still pending, and
    says when names and comments will be erased (review O22)."""
    petition, _membership = petition_for_member(request.user, slug, ORGANIZERS)
    if petition.status != Petition.Status.CLOSED:
        if request.method == "POST" and petition.status != Petition.Status.DELIVERED:
            messages.error(
                request, _("That change is not possible in the petition's current state.")
            )
        return redirect("staff:petition", slug=petition.slug)
    form = DeliveryForm(request.POST or None, petition=petition)
    if request.method == "POST" and form.is_valid():
        try:
            petition_services.petition_mark_delivered(
                petition=petition,
                actor=request.user,
                delivered_on=form.cleaned_data["delivered_on"],
                note=form.cleaned_data["delivery_note"],
            )
        except ValidationError as exc:
            apply_validation_error(form, exc)
        except petition_services.TransitionError:
            return redirect("staff:petition", slug=petition.slug)  # delivered meanwhile
        else:
            messages.success(request, _("Marked as delivered."))
            return redirect("staff:petition", slug=petition.slug)
    context = {
        "petition": petition,
        "campaign": petition.campaign,
        "form": form,
        "checklist": selectors.delivery_checklist(petition),
        # Counted from the moment it is marked, whatever day is given (petition/review.py).
        "erase_on": timezone.localdate() + timedelta(days=petition.campaign.retention_days),
        "entries_kept": entries_kept(petition),
        "cancel_url": reverse("staff:petition", kwargs={"slug": petition.slug}),
    }
    status = 400 if request.method == "POST" else 200
    return render(request, "organizing/deliver.html", context, status=status)


def petition_preview(request: HttpRequest, slug: str) -> HttpResponse:
    """The exact public page of a petition, for its team, before anyone else can see it."""
    petition, _membership = petition_for_member(request.user, slug)
    context = public_views.petition_page_context(request, petition)
    context["preview"] = True
    response = render(request, "petition/detail.html", context)
    add_never_cache_headers(response)
    return response
