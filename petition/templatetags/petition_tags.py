from django import template

from petition.markdown import render_markdown

register = template.Library()


@register.filter(name="markdown")
def markdown_filter(text: str):
    return render_markdown(text)


@register.filter
def percent_of(count: int, goal: int) -> int:
    """Progress towards the goal, 0 to 100, for the progress bar."""
    if not goal:
        return 0
    return max(0, min(100, round(100 * count / goal)))
