"""Markdown for petition demands: rendered, then sanitized, so no raw HTML reaches a page.

Organizers are trusted only so far (an infiltrator may hold an organizer account, threat
model adversary 3): a `<script>` or an `onerror=` in the demands must never run in a
signer's browser. CSP would block it too; sanitizing is the first line.
"""

import markdown as md
import nh3
from django.utils.safestring import SafeString, mark_safe

ALLOWED_TAGS = {
    "p",
    "br",
    "hr",
    "h2",
    "h3",
    "h4",
    "strong",
    "em",
    "del",
    "blockquote",
    "code",
    "pre",
    "ul",
    "ol",
    "li",
    "a",
    "table",
    "thead",
    "tbody",
    "tr",
    "th",
    "td",
}
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "th": {"align"}, "td": {"align"}}


def render_markdown(text: str) -> SafeString:
    html = md.markdown(text or "", extensions=["tables", "sane_lists"], output_format="html")
    clean = nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes={"https", "http", "mailto"},
        # Links leave the site without telling it where the reader came from.
        link_rel="noopener noreferrer nofollow",
    )
    # Sanitized by nh3 just above.
    return mark_safe(clean)  # noqa: S308  # nosec B308 B703
