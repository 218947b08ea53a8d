"""The accessibility check itself: axe-core loads with the CSP enforced and catches what
the newcomer review found (a list with role="status" whose items are no longer list items)."""

from __future__ import annotations

import pytest

from tests.browser.axe import AXE_URL, axe_violations

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_axe_loads_same_origin_under_the_enforced_csp(live_server, page):
    response = page.goto(f"{live_server.url}/")
    csp = response.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    axe_violations(page)
    assert page.evaluate("typeof axe.run") == "function"
    assert page.locator(f"script[src='{AXE_URL}']").count() == 1
    assert page.problems == []  # no CSP report: nothing was relaxed or inlined


def test_axe_reports_the_old_messages_list(live_server, page):
    page.goto(f"{live_server.url}/")
    page.evaluate(
        """() => {
        const list = document.createElement('ul');
        list.setAttribute('role', 'status');
        list.append(document.createElement('li'));
        list.firstChild.textContent = 'Saved.';
        document.querySelector('main').append(list);
    }"""
    )
    found = {(v["id"], v["impact"]) for v in axe_violations(page)}
    assert ("listitem", "serious") in found
