"""Template filters and tags of the public pages: Markdown, progress percent, policy durations
in words, and the transparency log's identity."""

import unicodedata

from django import template
from django.utils.translation import ngettext

from petition.markdown import render_markdown
from petition.selectors import percent_of
from petition.tlog.services import log_identity

register = template.Library()


@register.filter(name="markdown")
def markdown_filter(text: str):
    return render_markdown(text)


@register.filter(name="percent_of")
def percent_of_filter(count: int, goal: int) -> int:
    return percent_of(count, goal)


@register.filter
def duration(seconds: int) -> str:
    """A policy duration in words: "1 hour", "90 minutes", "2 days" (translated)."""
    seconds = int(seconds or 0)
    if seconds and seconds % 86400 == 0:
        days = seconds // 86400
        return ngettext("%(n)d day", "%(n)d days", days) % {"n": days}
    if seconds and seconds % 3600 == 0:
        hours = seconds // 3600
        return ngettext("%(n)d hour", "%(n)d hours", hours) % {"n": hours}
    minutes = max(1, round(seconds / 60))
    return ngettext("%(n)d minute", "%(n)d minutes", minutes) % {"n": minutes}


@register.simple_tag
def transparency_log() -> dict[str, str]:
    """{"origin", "vkey"} of the transparency log, for `{% transparency_log as log %}`: the
    verifier key that petition pages, printed cards and the delivery document show."""
    return log_identity()


@register.filter(name="text_dir")
def text_dir(text, fallback: str = "auto") -> str:
    """The direction of `text` by its first letter that has one ("rtl" for Arabic or
    Hebrew, "ltr" for Latin), for `dir=`: the PDF renderer (WeasyPrint) does not know
    dir="auto", so an English line on an Arabic sheet would put its full stop on the wrong
    side. `fallback` when the text has no such letter (digits, punctuation, empty)."""
    for ch in str(text or ""):
        kind = unicodedata.bidirectional(ch)
        if kind == "L":
            return "ltr"
        if kind in ("R", "AL"):
            return "rtl"
    return fallback
