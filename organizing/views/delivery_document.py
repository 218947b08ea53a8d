"""The delivery document: what organizers hand over with the petition.

Demands, counts by verification level, the names and comments signers chose to show and
moderators approved, the key fingerprints, and how anyone can check the public log. It is
rendered from one template so the printed and the on-screen versions say the same thing.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.utils.cache import add_never_cache_headers
from django.utils.html import format_html
from django.utils.translation import get_language_bidi

from petition.models import Petition

from ..access import ORGANIZERS, petition_for_member
from ..flyers.pdf import render_pdf
from ..selectors import delivery_context
from ..services import delivery_record

DELIVERABLE = (Petition.Status.CLOSED, Petition.Status.DELIVERED)


def delivery_document(request: HttpRequest, slug: str) -> HttpResponse:
    """Organizers only, once signing is closed (the counts are final then)."""
    petition, _membership = petition_for_member(request.user, slug, ORGANIZERS)
    if petition.status not in DELIVERABLE:
        # Not an error: the page says when the document will exist.
        context = {"petition": petition, "campaign": petition.campaign}
        return render(request, "organizing/delivery_not_yet.html", context)
    delivery_record(petition=petition, actor=request.user)
    context = delivery_context(petition)
    if request.GET.get("format") == "pdf":
        # The organizer chooses the paper; anything else than "letter" is A4.
        paper = "letter" if request.GET.get("paper") == "letter" else "a4"
        # The same template through the flyers' PDF machinery (shipped fonts, exact pages).
        context["as_pdf"] = True
        # Filled in by WeasyPrint's page counters (delivery.css); empty spans, no user text.
        context["page_number"] = format_html('<span class="{}"></span>', "page-number")
        context["page_count"] = format_html('<span class="{}"></span>', "page-count")
        html = render_to_string("organizing/delivery.html", context, request=request)
        stylesheets = ["css/delivery.css", f"css/delivery-{paper}.css"]
        if get_language_bidi():
            stylesheets.append("css/delivery-rtl.css")  # the footer's corners, mirrored
        pdf = render_pdf(html, stylesheets=stylesheets)
        response = HttpResponse(pdf, content_type="application/pdf")
        response["Content-Disposition"] = (
            f'attachment; filename="{petition.slug}-delivery-{paper}.pdf"'
        )
    else:
        response = render(request, "organizing/delivery.html", context)
    add_never_cache_headers(response)
    return response
