import re
from datetime import date

from django.utils import translation

from organizing.charts import growth_chart, sparkline


def test_the_growth_chart_is_svg_with_a_text_alternative_and_no_inline_style():
    svg = growth_chart([(date(2026, 11, 2), 40), (date(2026, 11, 5), 90)], goal=100)
    assert svg.startswith('<svg class="chart chart-growth"')
    assert "<title" in svg and "90 published signatures" in svg
    assert "chart-goal" in svg  # the goal is in sight
    assert "style=" not in svg and "<script" not in svg


def test_a_far_goal_is_left_off_so_the_line_stays_readable():
    svg = growth_chart([(date(2026, 11, 2), 10)], goal=10_000)
    assert "chart-goal" not in svg


def test_an_empty_history_says_so():
    assert "No published signatures yet." in growth_chart([], goal=100)


def test_titles_are_escaped():
    assert "<b>" not in growth_chart([], title="<b>x</b>")


def test_the_sparkline_draws_one_point_per_value():
    svg = sparkline([1, 3, 2, 8])
    assert svg.count(",") == 4
    assert 'aria-label="Trend: From 1 to 8."' in svg


def test_dates_follow_the_language_like_every_other_date_on_the_page():
    # The line starts from 0 the day before the first publication: 1 November here.
    history = [(date(2026, 11, 2), 40), (date(2026, 11, 5), 90)]
    with translation.override("en"):
        english = growth_chart(history, goal=100)
    with translation.override("de"):
        german = growth_chart(history, goal=100)
    assert ">November 1<" in english and "Nov. 5, 2026" in english
    assert ">1. November<" in german and "5. November 2026" in german


def test_the_growth_chart_runs_right_to_left_in_arabic():
    series = [(date(2026, 11, 1), 10), (date(2026, 11, 5), 90)]
    with translation.override("en"):
        english = growth_chart(series, goal=100)
    with translation.override("ar"):
        arabic = growth_chart(series, goal=100)
    assert 'direction="ltr"' in english and 'direction="rtl"' in arabic

    def line_xs(svg):
        points = re.search(r'<polyline class="chart-line" points="([^"]+)"', svg).group(1)
        return [float(p.split(",")[0]) for p in points.split()]

    # Time runs leftwards: the first point is on the right, the last on the left, mirrored.
    ltr, rtl = line_xs(english), line_xs(arabic)
    assert ltr[0] < ltr[-1] and rtl[0] > rtl[-1]
    assert [round(480 - v, 1) for v in ltr] == rtl


def test_the_sparkline_ends_on_the_left_in_arabic():
    with translation.override("ar"):
        svg = sparkline([1, 4, 8])
    points = re.search(r'points="([^"]+)"', svg).group(1).split()
    assert float(points[0].split(",")[0]) > float(points[-1].split(",")[0])
