"""The campaign's audit log for organizers: the page and the CSV download."""

from __future__ import annotations

from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.utils.cache import add_never_cache_headers
from django.utils.translation import get_language

from .. import audit
from ..access import ORGANIZERS, campaign_for_member
from ..models import AuditAction

AUDIT_PAGE_SIZE = 100


def audit_log(request: HttpRequest, slug: str) -> HttpResponse:
    """The campaign's record of staff actions, newest first. Organizers only."""
    campaign, _membership = campaign_for_member(request.user, slug, ORGANIZERS)
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
    campaign, _membership = campaign_for_member(request.user, slug, ORGANIZERS)
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
