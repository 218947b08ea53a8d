from django import template

from petition.markdown import render_markdown

register = template.Library()


@register.filter(name="markdown")
def markdown_filter(text: str):
    return render_markdown(text)


@register.filter
def percent_of(count: int, goal: int) -> int:
    """Progress towards the goal, 0 to 100, for the progress bar.

    Any signature at all shows on the bar: 1 of 500 rounds to 0 %, which draws nothing and
    reads as "nobody signed", so a started bar shows at least 2 %.
    """
    if not goal or count <= 0:
        return 0
    return max(2, min(100, round(100 * count / goal)))
