"""Public pages: what signers and the public read.

These pages set no cookie (no session, no CSRF token, no messages) and load nothing from
another host; tests assert both. Templates for them extend `petition/base_public.html`.
"""

from __future__ import annotations

import functools

from django.db.models import Prefetch
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils import translation
from django.utils.html import format_html
from django.utils.translation import gettext, gettext_lazy

from config.i18n import languages
from organizing.models import Campaign
from petition.links import absolute_url
from petition.qr import qr_svg

from . import pagecache, review, selectors
from .models import Level
from .network import on_employer_network
from .text import COMMENT_MAX, DISPLAY_NAME_MAX
from .tlog import witness
from .workemail import EMAIL_CODE_TTL


def home(request: HttpRequest) -> HttpResponse:
    # Each campaign with its public petitions, so a petition is one tap from the home page.
    campaigns = selectors.public_campaigns().prefetch_related(
        Prefetch(
            "petitions",
            queryset=selectors.public_petitions().order_by("-published_at"),
            to_attr="public_petitions",
        )
    )
    return render(request, "petition/home.html", {"campaigns": campaigns})


def campaign_detail(request: HttpRequest, slug: str) -> HttpResponse:
    campaign = get_object_or_404(Campaign, slug=slug)
    petitions = selectors.public_petitions().filter(campaign=campaign)
    if not petitions:
        # A campaign with only drafts is not public yet.
        return render(request, "petition/not_found.html", status=404)
    return render(request, "petition/campaign.html", {"campaign": campaign, "petitions": petitions})


def petition_detail(request: HttpRequest, slug: str) -> HttpResponse:
    """The public page, kept rendered between the writes that change it (petition/pagecache.py);
    a query string (which the language links repeat) is rendered each time."""
    if request.GET or not pagecache.enabled():
        petition = get_object_or_404(selectors.public_petitions(), slug=slug)
        warning = on_employer_network(request, petition.campaign.employer_networks)
        rendered = _rendered_page(request, petition, "", warning=warning)
        return pagecache.respond(request, rendered, shared=not rendered.networks)
    language = translation.get_language()

    def render_variant(warning: bool):
        def render_page(generation: str) -> pagecache.Rendered:
            petition = get_object_or_404(selectors.public_petitions(), slug=slug)
            return _rendered_page(request, petition, generation, warning=warning)

        key = pagecache.body_key("page", slug, language, "network" if warning else "plain")
        return pagecache.fetch(slug, key, render_page)

    rendered = render_variant(False)
    # The employer-network warning (P6): the address is used here, in memory, and nowhere
    # else; the variant with the warning is a body of its own.
    if rendered.networks and on_employer_network(request, list(rendered.networks)):
        rendered = render_variant(True)
    return pagecache.respond(request, rendered, shared=not rendered.networks)


def _rendered_page(request: HttpRequest, petition, generation: str, *, warning: bool):
    context = petition_page_context(request, petition)
    context["on_employer_network"] = warning
    body = render(request, "petition/detail.html", context)
    return pagecache.Rendered(
        generation=generation,
        body=body.content,
        content_type=body["Content-Type"],
        etag=pagecache.etag_of(body.content),
        networks=tuple(petition.campaign.employer_networks),
    )


def petition_page_context(request: HttpRequest, petition) -> dict:
    """The public page's context; the staff preview of a draft renders the same page."""
    counts = selectors.petition_counts(petition)
    return {
        "petition": petition,
        # The title, summary, demands and addressee in the page's language when the team
        # translated them, else as written; the rest of the page is the same everywhere.
        **petition_text_context(request, petition),
        "counts": counts,
        # How each signature was verified: the count a decision-maker can trust (P4).
        "level_counts": [(Level(level).label, counts[level]) for level in petition.levels],
        # When new signatures become public; never how many are waiting.
        "publication": selectors.petition_publication(petition),
        "level_counts_by_key": [
            (level, Level(level).label, counts[level]) for level in petition.levels
        ],
        "remaining": max(petition.goal - counts["total"], 0),
        "keys": selectors.petition_public_keys(petition),
        # Names and comments signers chose to show, once moderation allows (review.py).
        "entries": review.public_entries(petition),
        # Computed per request in memory; the address is neither stored nor logged (P6).
        "on_employer_network": on_employer_network(request, petition.campaign.employer_networks),
        "display_name_max": DISPLAY_NAME_MAX,
        "comment_max": COMMENT_MAX,
        # Named on the work-email form and in its refusal (review S9).
        "email_domains": petition.campaign.email_domains,
        "email_code_minutes": int(EMAIL_CODE_TTL.total_seconds() // 60),
        # "Pass it on" while it can be signed: the petition's address, as a link and a QR
        # code drawn here (review S4).
        "share": share_panel(petition) if petition.is_open else None,
    }


# One sentence per language, not a name put into a sentence: Spanish writes language names
# in lower case ("en inglés"), Arabic joins them to the preposition ("بالإنجليزية").
WRITTEN_IN = {
    "en": gettext_lazy("This petition is written in English."),
    "es": gettext_lazy("This petition is written in Spanish."),
    "ar": gettext_lazy("This petition is written in Arabic."),
}


def written_in_sentence(language: str) -> str:
    """The sentence that names the language of a petition's text, in the page's language."""
    if language in WRITTEN_IN:
        return str(WRITTEN_IN[language])
    name = translation.get_language_info(language)["name_translated"]
    return gettext("This petition is written in %(language)s.") % {"language": name}


def petition_text_context(request: HttpRequest, petition) -> dict:
    """Which text the page shows, the other languages it can be read in (links to the same
    page in those languages, as the language switcher makes them), and, when the page's
    language has no translation, which language the text is in."""
    page_language = translation.get_language()
    text = selectors.petition_text(petition, page_language)
    links = {link["code"]: link for link in languages(request)["language_links"]}
    also_in = [
        links[code]
        for code in selectors.petition_text_languages(petition)
        if code != text.language and code in links
    ]
    written_in = written_in_sentence(text.language) if text.language != page_language else None
    return {
        "text": text,
        # The addressee inside the page's sentence "To: …", marked with its own language.
        "text_addressee": format_html('<bdi lang="{}">{}</bdi>', text.language, text.addressed_to),
        "text_also_in": also_in,
        "text_written_in": written_in,
    }


def share_panel(petition) -> dict:
    """The petition's address and its QR code as inline vector SVG, made on this server:
    no QR service, no share widget, nothing that tells a third party who passed it on."""
    url = absolute_url(petition.get_absolute_url())
    return {"url": url, "qr_svg": _qr_markup(url)}


@functools.lru_cache(maxsize=512)
def _qr_markup(url: str) -> str:
    # About 8 ms to draw; the address of a petition never changes.
    return qr_svg(url, "M").svg


def petition_audit(request: HttpRequest, slug: str) -> HttpResponse:
    """Everything needed to re-check the count, readable by a person: key fingerprints,
    counts by method and by publication batch, the signed log's checkpoint and witnesses,
    and a receipt check that runs on the device (static/js/audit.js) against the whole tiles
    of the transparency log it downloads."""
    petition = get_object_or_404(selectors.public_petitions(), slug=slug)
    context = petition_page_context(request, petition)
    context["log_url"] = reverse("petition:api_log", kwargs={"slug": petition.slug})
    context["keys_url"] = reverse("petition:api_keys", kwargs={"slug": petition.slug})
    # The tlog-tiles prefix (…/log/): the page's script fetches the checkpoint and tiles
    # under it and checks them against the log key and witness keys printed on the page.
    context["tlog_prefix"] = reverse("petition:log_checkpoint").removesuffix("checkpoint")
    context["witnesses"] = witness.public_witnesses()
    context.update(audit_batches(petition))
    return render(request, "petition/audit.html", context)


AUDIT_BATCHES = 100


def audit_batches(petition) -> dict:
    batches = selectors.petition_publication_batches(petition, limit=AUDIT_BATCHES + 1)
    return {"batches": batches[:AUDIT_BATCHES], "more_batches": len(batches) > AUDIT_BATCHES}
