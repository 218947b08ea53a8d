"""Flyer pages: the designer (staff), print runs with progress and download (staff), and the
public /f/<code> redirect that counts scans per batch and day."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import translation
from django.utils.cache import add_never_cache_headers
from django.utils.text import slugify
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST, require_safe

from config.i18n import language_codes
from organizing.access import ORGANIZERS, petition_for_member
from organizing.forms import create_once
from organizing.models import Role
from petition.ratelimits import RateLimit, rate_limited

from ..models import FlyerBatch, PrintRun
from . import selectors, services
from .designs import DESIGNS, PAPERS, build_sheets
from .forms import FlyerForm
from .rendering import FlyerText, level_in_url, petition_target_url, sheet_context

# Shown on preview tabs and cards; a scan of a preview leads to the petition with a code
# the server does not know.
PREVIEW_CODES = [f"PREVW-{n:05d}" for n in range(1, 11)]


def _previews(petition, text, paper: str) -> list[dict]:
    """One sheet of every design, rendered by the same templates and context as the PDF
    (sheet_context: the second language's text too), QR codes leading where the PDF's do."""
    target = petition_target_url(petition, language=text.language)
    previews = []
    for name, design in DESIGNS.items():
        if name == "cards":
            continue
        context = sheet_context(
            petition=petition,
            design=name,
            paper=paper,
            text=text,
            target_url=target,
            key_prefix="preview0",
        )
        context["sheet"] = next(
            build_sheets(
                design,
                copies=design.items_per_sheet,
                target_url=target,
                codes=PREVIEW_CODES,
                key_prefix="preview0",
                level_in_url=level_in_url(petition, design.code_level),
            )
        )
        previews.append(context)
    return previews


def flyer_designer(request: HttpRequest, slug: str) -> HttpResponse:
    petition, _membership = petition_for_member(request.user, slug, ORGANIZERS)
    initial = selectors.designer_initial(petition)
    form = FlyerForm(request.POST or None, initial=initial, petition=petition)

    def make_run() -> str:
        services.flyer_settings_remember(
            petition=petition,
            design=form.cleaned_data["design"],
            paper=form.cleaned_data["paper"],
            text=form.text(),
        )
        run = services.print_run_create(
            petition=petition,
            design=form.cleaned_data["design"],
            paper=form.cleaned_data["paper"],
            copies=form.cleaned_data["copies"],
            text=form.text(),
            batch_label=form.cleaned_data["batch_label"],
            created_by=request.user,
        )
        return reverse("staff:print_run", kwargs={"slug": petition.slug, "run_id": run.pk})

    # "Show in the preview": the form's text and languages laid out, nothing made.
    previewing = request.method == "POST" and request.POST.get("action") == "preview"
    # A reload or double click lands on the first run, not a second one.
    if not previewing and (submission := create_once(request, form, make_run)):
        return redirect(submission.url)
    text = form.text() if form.is_bound and form.is_valid() else FlyerText.from_dict(initial)
    paper = form.data.get("paper", initial["paper"])
    paper = paper if paper in PAPERS else "letter"
    context = {
        "petition": petition,
        "campaign": petition.campaign,
        "form": form,
        "previews": _previews(petition, text, paper),
        "paper": paper,
        "batches": selectors.flyer_batches(petition),
        "runs": selectors.print_runs(petition),
        "scan_floor": selectors.SCAN_COUNT_FLOOR,
        "remembered": selectors.designer_remembers(petition),
    }
    status = 400 if form.is_bound and not (previewing and form.is_valid()) else 200
    return render(request, "organizing/flyers/designer.html", context, status=status)


@require_POST
def flyer_batch_retire(request: HttpRequest, slug: str, batch_id: int) -> HttpResponse:
    petition, _membership = petition_for_member(request.user, slug, ORGANIZERS)
    batch = get_object_or_404(FlyerBatch, petition=petition, pk=batch_id)
    if services.flyer_batch_retire(batch=batch, actor=request.user):
        messages.success(
            request, _("Batch retired: its QR codes still lead to the petition, uncounted.")
        )
    return redirect("staff:flyers", slug=petition.slug)


def _run_for_member(request: HttpRequest, slug: str, run_id) -> tuple:
    """The run, if this member may open it; else 404, never 403: someone else's PDF of
    codes is not even confirmed to exist at that address. An expired run is deleted here
    and then, so expiry holds while the beat scheduler is down."""
    petition, membership = petition_for_member(request.user, slug)
    run = (
        PrintRun.objects.select_related("petition__campaign")
        .filter(petition=petition, pk=run_id)
        .first()
    )
    if run is None or not selectors.print_run_visible_to(run, request.user):
        raise Http404
    if run.is_expired:
        services.print_run_delete(run)
        raise Http404
    if services.print_run_is_stale(run) and services.print_run_give_up(run):
        run.refresh_from_db()  # its worker died: the page says so and offers a retry
    return petition, membership, run


def print_run_detail(request: HttpRequest, slug: str, run_id) -> HttpResponse:
    petition, _membership, run = _run_for_member(request, slug, run_id)
    context = {
        "petition": petition,
        "campaign": petition.campaign,
        "run": run,
        "design": DESIGNS[run.design],
        "paper": PAPERS[run.paper],
    }
    response = render(request, "organizing/flyers/print_run.html", context)
    add_never_cache_headers(response)
    return response


@require_safe
def print_run_status(request: HttpRequest, slug: str, run_id) -> JsonResponse:
    _petition, _membership, run = _run_for_member(request, slug, run_id)
    response = JsonResponse(selectors.print_run_status(run))
    add_never_cache_headers(response)
    return response


@require_safe
def print_run_download(request: HttpRequest, slug: str, run_id) -> HttpResponse:
    _petition, _membership, run = _run_for_member(request, slug, run_id)
    if run.status != PrintRun.Status.DONE:
        raise Http404
    services.print_run_download_record(run=run, actor=request.user)
    response = FileResponse(
        run.file.open("rb"),
        as_attachment=True,
        filename=download_name(run),
        content_type="application/pdf",
    )
    add_never_cache_headers(response)  # it holds single-use codes: no cache keeps a copy
    return response


def download_name(run: PrintRun) -> str:
    """The PDF's file name: petition, batch (or design) and paper, so a folder of downloads
    says which poster is which ("fair-ai-break-room-building-2-tearoff-letter.pdf")."""
    parts = [run.petition.slug]
    if run.flyer_batch_id is not None and run.flyer_batch is not None:
        parts.append(slugify(run.flyer_batch.label)[:40].strip("-"))
    parts += [run.design, run.paper]
    return "-".join(part for part in parts if part) + ".pdf"


@require_POST
def print_run_retry(request: HttpRequest, slug: str, run_id) -> HttpResponse:
    petition, membership, run = _run_for_member(request, slug, run_id)
    # The role that makes this design (code cards: any member; the designer's: organizers),
    # checked again now: a member demoted since cannot make codes by retrying.
    if run.design != "cards" and membership.role != Role.ORGANIZER:
        raise PermissionDenied
    if not services.print_run_retry(run=run, actor=request.user):
        messages.error(request, _("Only a failed run can be tried again."))
    return redirect("staff:print_run", slug=petition.slug, run_id=run.pk)


# Each counted scan is a write on one counter row. Generous, because a whole office may
# share one address; past it the reader is still sent on, and the scan is not counted.
# Closed when Redis is down: the scan is not counted (the reader is still sent on).
SCAN_LIMIT = RateLimit("flyer_scans", per_window=60, fail_open=False)


def _scan_counts(request: HttpRequest) -> bool:
    """True if this scan may be counted: the client is within SCAN_LIMIT. If the cache
    cannot be reached the scan is not counted, and the reader is still sent on: a flyer
    must lead to the petition whatever happens to the counter (the cache's own errors show
    on every other page that uses it)."""
    try:
        return not rate_limited(request, SCAN_LIMIT)
    except Exception:  # any cache failure: redis, network, timeout
        return False


@require_safe
def flyer_redirect(request: HttpRequest, code: str) -> HttpResponse:
    """Where a flyer's QR code leads: the petition, in the flyer's language when the code
    names one (`?l=es`, petition_target_url), else as the reader's browser asks. Counts one
    scan for the batch and today (nothing else: no row per scan, no address, no time) and
    sends the reader to the petition; the
    `#code=…` fragment of a tab stays in the browser across the redirect. A retired batch
    still redirects, without counting, and so does a scan past the per-address limit: a
    reader is never kept from the petition (docs/threat-model.md)."""
    batch = (
        FlyerBatch.objects.select_related("petition")
        .filter(code=code.lower(), petition__status__in=["published", "closed", "delivered"])
        .first()
    )
    if batch is None:
        response = render(request, "petition/not_found.html", status=404)
    else:
        if batch.retired_at is None and request.method == "GET" and _scan_counts(request):
            services.flyer_scan_record(batch_id=batch.pk)
        language = request.GET.get("l", "")
        if language in language_codes():
            with translation.override(language):
                response = redirect(batch.petition.get_absolute_url())
        else:
            response = redirect(batch.petition.get_absolute_url())
    response["Referrer-Policy"] = "no-referrer"
    add_never_cache_headers(response)  # each scan must reach us to be counted, once
    return response
