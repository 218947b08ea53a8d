"""Charts on staff pages, drawn by organizing/charts.py as SVG (no script, CSP-safe)."""

from __future__ import annotations

from django import template
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _

from organizing.charts import sparkline as draw_sparkline

register = template.Library()


@register.simple_tag
def sparkline(values: list[int]) -> SafeString:
    """The dashboard's 14-day trend line."""
    return draw_sparkline(values, label=_("Signatures over the last 14 days"))
