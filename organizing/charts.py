"""Charts drawn on the server as SVG: no chart library, no script, no inline style (the
Content Security Policy allows neither). Colours come from classes in static/css/app.css.

`growth_chart` is the per-petition chart of the staff petition page; `sparkline` is the
small trend line for lists. Both take plain numbers and return markup that is safe to
insert; both carry a text alternative (`<title>` and `<desc>`) for screen readers.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from datetime import date, timedelta

from django.utils.formats import date_format, number_format
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString
from django.utils.translation import get_language_bidi
from django.utils.translation import gettext as _

_ids = itertools.count(1)


def _nice_ceiling(value: int) -> int:
    """The smallest 1, 2 or 5 times 10^n at or above `value` (a readable top for an axis)."""
    value = max(value, 1)
    magnitude = 1
    while True:
        for step in (1, 2, 5):
            if step * magnitude >= value:
                return step * magnitude
        magnitude *= 10


def _fmt(value: float) -> str:
    return f"{value:.1f}"


def growth_chart(
    series: Sequence[tuple[date, int]],
    *,
    goal: int | None = None,
    today: date | None = None,
    width: int = 480,
    height: int = 220,
    title: str | None = None,
) -> SafeString:
    """Cumulative total per day as a stepped line over a shaded area, with the goal as a
    dashed line when it is in sight (at most twice the current total)."""
    uid = next(_ids)
    title = title or _("Signatures over time")
    left, right, top, bottom = 44, 10, 12, 26
    plot_w, plot_h = width - left - right, height - top - bottom
    if not series:
        desc = _("No published signatures yet.")
        return format_html(
            '<svg class="chart chart-growth" viewBox="0 0 {w} {h}" role="img" '
            'aria-labelledby="chart-{id}-t chart-{id}-d" xmlns="http://www.w3.org/2000/svg">'
            '<title id="chart-{id}-t">{title}</title><desc id="chart-{id}-d">{desc}</desc>'
            '<text class="chart-empty" x="{cx}" y="{cy}" text-anchor="middle">{desc}</text>'
            "</svg>",
            w=width,
            h=height,
            id=uid,
            title=title,
            desc=desc,
            cx=width // 2,
            cy=height // 2,
        )
    first = series[0][0] - timedelta(days=1)  # start from zero the day before
    last = max(series[-1][0], today or series[-1][0])
    span = max((last - first).days, 1)
    latest = series[-1][1]
    show_goal = goal is not None and 0 < goal <= max(latest * 2, 1)
    top_value = _nice_ceiling(
        max([latest, *(v for _d, v in series)] + ([goal] if show_goal else []))
    )

    # Right to left (Arabic): time runs from right to left and the scale sits on the right.
    # Every x is mirrored; the text anchors stay, since `direction="rtl"` turns them too.
    rtl = get_language_bidi()

    def fx(value: float) -> str:
        return _fmt(width - value if rtl else value)

    def x(day: date) -> float:
        value = left + plot_w * (day - first).days / span
        return width - value if rtl else value

    def y(value: int) -> float:
        return top + plot_h * (1 - value / top_value)

    points = [(x(first), y(0))]
    previous = 0
    for day, value in series:
        points.append((x(day), y(previous)))
        points.append((x(day), y(value)))
        previous = value
    points.append((x(last), y(previous)))
    line = " ".join(f"{_fmt(px)},{_fmt(py)}" for px, py in points)
    area = f"{line} {_fmt(x(last))},{_fmt(y(0))} {_fmt(x(first))},{_fmt(y(0))}"

    ticks = format_html_join(
        "",
        '<line class="chart-grid" x1="{}" y1="{}" x2="{}" y2="{}"/>'
        '<text class="chart-label" x="{}" y="{}" text-anchor="end">{}</text>',
        (
            (
                fx(left),
                _fmt(y(v)),
                fx(width - right),
                _fmt(y(v)),
                fx(left - 6),
                _fmt(y(v) + 4),
                number_format(v, force_grouping=True),
            )
            for v in (0, top_value // 2, top_value)
        ),
    )
    goal_line = (
        format_html(
            '<line class="chart-goal" x1="{x1}" y1="{y}" x2="{x2}" y2="{y}"/>'
            '<text class="chart-label chart-goal-label" x="{x2}" y="{ly}" text-anchor="end">'
            "{text}</text>",
            x1=fx(left),
            x2=fx(width - right),
            y=_fmt(y(goal)),
            ly=_fmt(y(goal) - 4),
            text=_("goal %(goal)s") % {"goal": number_format(goal, force_grouping=True)},
        )
        if show_goal
        else ""
    )
    desc = _("%(total)s published signatures on %(last)s, from 0 on %(first)s.") % {
        "total": number_format(latest, force_grouping=True),
        "last": date_format(series[-1][0]),
        "first": date_format(first),
    }
    return format_html(
        '<svg class="chart chart-growth" viewBox="0 0 {w} {h}" role="img" '
        'aria-labelledby="chart-{id}-t chart-{id}-d" direction="{direction}" '
        'xmlns="http://www.w3.org/2000/svg">'
        '<title id="chart-{id}-t">{title}</title><desc id="chart-{id}-d">{desc}</desc>'
        "{ticks}{goal_line}"
        '<polygon class="chart-area" points="{area}"/>'
        '<polyline class="chart-line" points="{line}"/>'
        '<text class="chart-label" x="{x0}" y="{yl}" text-anchor="start">{d0}</text>'
        '<text class="chart-label" x="{x1}" y="{yl}" text-anchor="end">{d1}</text>'
        "</svg>",
        w=width,
        h=height,
        id=uid,
        title=title,
        desc=desc,
        ticks=ticks,
        goal_line=goal_line,
        area=area,
        line=line,
        x0=fx(left),
        x1=fx(width - right),
        yl=height - 8,
        direction="rtl" if rtl else "ltr",
        d0=date_format(first, "MONTH_DAY_FORMAT"),
        d1=date_format(last, "MONTH_DAY_FORMAT"),
    )


def sparkline(
    values: Sequence[int], *, width: int = 120, height: int = 28, label: str | None = None
) -> SafeString:
    """A small trend line of `values` (e.g. the cumulative total of the last 14 days)."""
    label = label or _("Trend")
    if len(values) < 2:
        values = [0, *(values or [0])]
    low, high = min(values), max(values)
    spread = max(high - low, 1)
    step = (width - 2) / (len(values) - 1)
    rtl = get_language_bidi()  # right to left: the latest value on the left
    points = " ".join(
        f"{_fmt(width - 1 - i * step if rtl else 1 + i * step)},"
        f"{_fmt(height - 2 - (height - 4) * (v - low) / spread)}"
        for i, v in enumerate(values)
    )
    desc = _("From %(first)s to %(last)s.") % {
        "first": number_format(values[0], force_grouping=True),
        "last": number_format(values[-1], force_grouping=True),
    }
    return format_html(
        '<svg class="chart chart-sparkline" viewBox="0 0 {w} {h}" width="{w}" height="{h}" '
        'role="img" aria-label="{label}: {desc}" xmlns="http://www.w3.org/2000/svg">'
        '<polyline class="chart-line" points="{points}"/></svg>',
        w=width,
        h=height,
        label=label,
        desc=desc,
        points=points,
    )
