"""axe-core in Chromium, loaded as a same-origin static file so the page's CSP stays on.

`make test` installs the pinned axe-core (package-lock.json) with `npm ci`; the test
settings serve node_modules/axe-core under /static/test-assets/. The script is added as
`<script src>` from the page's own origin, which `script-src 'self'` allows: nothing about
the CSP is relaxed for the check.
"""

from __future__ import annotations

from pathlib import Path

AXE_URL = "/static/test-assets/axe.min.js"
# WCAG 2.0-2.2 A and AA, plus axe's best practices (the newcomer review ran the same set).
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"]
BLOCKING = {"critical", "serious"}
AXE_FILE = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"


def serve_axe_same_origin(context) -> None:
    """For a server without the test settings (the `make run-phone` demo): Chromium asks the
    page's own origin for AXE_URL and Playwright answers with the pinned file, so the
    script is still same-origin to the page and its CSP."""
    context.route(
        f"**{AXE_URL}",
        lambda route: route.fulfill(path=AXE_FILE, content_type="text/javascript"),
    )


def axe_violations(page) -> list[dict]:
    # A caller waits for the page it means to check (wait_for_url, expect): a click that
    # navigates returns before the next document exists, and axe run on the old one, or on
    # a document whose <head> is not parsed yet, checks the wrong page or fails. This wait
    # covers the second case; the first is each test's to get right.
    page.wait_for_load_state("load")
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.add_script_tag(url=AXE_URL)
    return page.evaluate(
        "async (tags) => (await axe.run(document, {runOnly: {type: 'tag', values: tags}}))"
        ".violations.map(v => ({id: v.id, impact: v.impact, help: v.help,"
        " targets: v.nodes.map(n => n.target.join(' '))}))",
        AXE_TAGS,
    )


def assert_accessible(page, state: str) -> None:
    """Fail on any critical or serious axe violation in the page's current state."""
    blocking = [v for v in axe_violations(page) if v["impact"] in BLOCKING]
    assert blocking == [], f"axe found in {state}: {blocking}"
