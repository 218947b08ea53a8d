"""Staff pages of the notices: milestone thresholds of a petition, a campaign's webhooks,
one's own notification settings. Routed in the `staff` namespace (MFA middleware); access through
organizing.access."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.cache import add_never_cache_headers
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from ..access import ORGANIZERS, campaign_for_member, petition_for_member
from . import selectors, services, tasks
from .channels import webhook_secret_text
from .forms import MilestonePlanForm, NotificationPreferenceForm, WebhookForm


def petition_milestones(request: HttpRequest, slug: str) -> HttpResponse:
    petition, _membership = petition_for_member(request.user, slug, ORGANIZERS)
    form = MilestonePlanForm(request.POST or None, instance=selectors.plan_for(petition))
    if request.method == "POST" and form.is_valid():
        services.milestone_plan_update(
            petition=petition, actor=request.user, **form.service_fields()
        )
        messages.success(request, _("Milestone settings saved."))
        return redirect("staff:petition", slug=petition.slug)
    total = selectors.petition_counts(petition)["total"]
    context = {
        "petition": petition,
        "campaign": petition.campaign,
        "form": form,
        "upcoming": selectors.upcoming_thresholds(petition, total, count=5),
    }
    return render(
        request,
        "organizing/notices/settings.html",
        context,
        status=400 if form.errors else 200,
    )


def _webhooks_page(request, campaign, form, secret=None, created=None, status=200):
    context = {
        "campaign": campaign,
        "form": form,
        "webhooks": selectors.campaign_webhooks(campaign),
        "secret": secret,
        "created": created,
    }
    response = render(request, "organizing/notices/webhooks.html", context, status=status)
    if secret:
        add_never_cache_headers(response)
    return response


def webhooks(request: HttpRequest, slug: str) -> HttpResponse:
    """Register webhooks. The signing secret shows once, on the page answering the POST."""
    campaign, _membership = campaign_for_member(request.user, slug, ORGANIZERS)
    form = WebhookForm(request.POST or None, campaign=campaign)
    if request.method == "POST":
        if not form.is_valid():
            return _webhooks_page(request, campaign, form, status=400)
        webhook = services.webhook_create(
            campaign=campaign,
            actor=request.user,
            url=form.cleaned_data["url"],
            label=form.cleaned_data["label"],
        )
        return _webhooks_page(
            request,
            campaign,
            WebhookForm(campaign=campaign),
            secret=webhook_secret_text(webhook.salt),
            created=webhook,
        )
    return _webhooks_page(request, campaign, form)


@require_POST
def webhook_test(request: HttpRequest, slug: str, webhook_id: int) -> HttpResponse:
    """Send a test notice through the outbox; the webhooks page shows how it went."""
    campaign, _membership = campaign_for_member(request.user, slug, ORGANIZERS)
    webhook = get_object_or_404(campaign.webhooks, pk=webhook_id)
    tasks.webhook_test_send(webhook=webhook, actor=request.user)
    messages.success(
        request,
        _("Test notice sent to %(url)s. Its result shows in the table (reload to update).")
        % {"url": webhook.url},
    )
    return redirect("staff:webhooks", slug=campaign.slug)


def webhook_guide(request: HttpRequest, slug: str) -> HttpResponse:
    """How a receiver checks a notice's signature (the same as docs/operations.md)."""
    campaign, _membership = campaign_for_member(request.user, slug, ORGANIZERS)
    return render(request, "organizing/notices/webhook_guide.html", {"campaign": campaign})


def webhook_delete(request: HttpRequest, slug: str, webhook_id: int) -> HttpResponse:
    """GET asks first; POST removes."""
    campaign, _membership = campaign_for_member(request.user, slug, ORGANIZERS)
    webhook = get_object_or_404(campaign.webhooks, pk=webhook_id)
    if request.method != "POST":
        context = {"campaign": campaign, "webhook": webhook}
        return render(request, "organizing/notices/webhook_delete.html", context)
    services.webhook_delete(webhook=webhook, actor=request.user)
    messages.success(request, _("Webhook removed: it gets no more notices."))
    return redirect("staff:webhooks", slug=campaign.slug)


def notification_settings(request: HttpRequest, slug: str) -> HttpResponse:
    """Each member chooses for themselves: organizers and moderators alike."""
    campaign, membership = campaign_for_member(request.user, slug)
    current = services.notification_preference_for(request.user, campaign, membership.role)
    form = NotificationPreferenceForm(request.POST or None, instance=current)
    if request.method == "POST" and form.is_valid():
        services.notification_preference_set(
            user=request.user,
            campaign=campaign,
            mode=form.cleaned_data["mode"],
            email=form.cleaned_data["email"],
        )
        messages.success(request, _("Notification settings saved."))
        return redirect("staff:campaign", slug=campaign.slug)
    context = {"campaign": campaign, "form": form, "membership": membership}
    return render(
        request,
        "organizing/notices/notifications.html",
        context,
        status=400 if form.errors else 200,
    )
