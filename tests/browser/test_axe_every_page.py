"""axe-core over every page a person can open, beyond the journeys: every staff URL that
answers a GET with a page (tests/staff_urls.py lists them all, so a new one is swept too),
the account and two-factor pages, the public pages and the error pages. Findings are
gathered per page and reported together; any critical or serious one fails."""

from __future__ import annotations

import pytest

from organizing.invitations import invitation_token
from organizing.models import Invitation, Role
from organizing.services import invitation_create
from petition.codes import code_batch_create
from petition.services import petition_publish
from tests.browser.axe import BLOCKING, axe_violations
from tests.browser.conftest import sign_in
from tests.factories import PASSWORD, MembershipFactory, PetitionFactory, UserFactory
from tests.organizing.notices.helpers import sign_and_publish
from tests.staff_urls import STAFF_URLS

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _sweep(page, base: str, paths: list[str], read: list[str]) -> dict[str, list[dict]]:
    """Run axe on each path that answers with a page; `read` collects where it landed."""
    found = {}
    for path in paths:
        # Asked first without the page: a POST-only URL (405), a CSV or a PDF is no page to
        # read, and Chromium's error page for an empty 405 would cut into the next visit.
        probe = page.context.request.get(f"{base}{path}")
        kind = probe.headers.get("content-type", "")
        if probe.status == 405 or not kind.startswith("text/html"):
            continue
        page.goto(f"{base}{path}")
        landed = page.url.removeprefix(base)
        read.append(landed)
        blocking = [v for v in axe_violations(page) if v["impact"] in BLOCKING]
        if blocking:
            found[f"{path} -> {landed}"] = blocking
    return found


@pytest.fixture
def open_campaign():
    membership = MembershipFactory(role=Role.ORGANIZER, user__is_site_organizer=True)
    petition = petition_publish(
        petition=PetitionFactory(campaign=membership.campaign, accepts_flyer=True, goal=50)
    )
    code_batch_create(petition=petition, level="in_person", size=10, label="canteen")
    sign_and_publish(petition, 6)
    return membership, petition


@pytest.mark.parametrize("size", ["desktop", "phone"])
def test_every_staff_page_has_no_blocking_finding(live_server, browser, open_campaign, size):
    membership, petition = open_campaign
    viewport = {"width": 1280, "height": 800} if size == "desktop" else None
    context = browser.new_context(viewport=viewport or {"width": 390, "height": 844})
    try:
        page = context.new_page()
        sign_in(page, live_server, membership.user)
        # POST-only URLs answer a GET with their confirmation page, or refuse plainly.
        paths = [url.path(membership.campaign, petition) for url in STAFF_URLS]
        read: list[str] = []
        found = _sweep(page, live_server.url, paths, read)
        # Every staff page answering GET was read where it is (no sign-in detour).
        pages = [u for u in STAFF_URLS if u.method == "get"]
        assert all(path.startswith("/staff/") for path in read)
        assert len(read) >= len(pages) - 3  # the CSV, the status JSON and the PDF are not pages
        assert found == {}
    finally:
        context.close()


def test_account_and_two_factor_pages_have_no_blocking_finding(live_server, page, open_campaign):
    membership, _petition = open_campaign
    sign_in(page, live_server, membership.user)
    read: list[str] = []
    found = _sweep(
        page,
        live_server.url,
        [
            "/accounts/2fa/",
            "/accounts/2fa/recovery-codes/",
            "/accounts/2fa/recovery-codes/generate/",
            "/accounts/2fa/webauthn/",
            "/accounts/2fa/webauthn/add/",
            "/accounts/2fa/totp/deactivate/",
            "/accounts/2fa/reauthenticate/",
            "/accounts/reauthenticate/",
            "/accounts/email/",
            "/accounts/password/change/",
            "/accounts/logout/",
        ],
        read,
    )
    # Someone invited, before an account exists: the link, sign-up, then setting up TOTP.
    page.context.clear_cookies()
    invitation = invitation_create(
        email="invited@organizers.example",
        role=Role.MODERATOR,
        campaign=membership.campaign,
        invited_by=membership.user,
    )
    found |= _sweep(
        page,
        live_server.url,
        [
            f"/invitations/{invitation_token(invitation)}/",
            # The invitation page says what it is, then links to the sign-up it opened.
            "/accounts/signup/",
            "/invitations/not-a-token/",
            "/accounts/login/",
            "/accounts/password/reset/",
        ],
        read,
    )
    # Signed in with a password just now, without a second factor yet: setting one up.
    without_mfa = UserFactory(totp=False)
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("Email").fill(without_mfa.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign In", exact=True).click()
    page.wait_for_url(lambda url: "/accounts/login/" not in url)
    found |= _sweep(page, live_server.url, ["/accounts/2fa/"], read)
    page.goto(f"{live_server.url}/accounts/2fa/totp/activate/")
    if "/reauthenticate/" in page.url:
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Confirm").click()
        page.wait_for_url("**/totp/activate/")
    found |= _sweep(page, live_server.url, ["/accounts/2fa/totp/activate/"], read)
    for expected in (
        "/accounts/2fa/recovery-codes/",
        "/accounts/signup/",
        "/invitations/not-a-token/",
        "/accounts/2fa/totp/activate/",
    ):
        assert expected in read
    assert Invitation.objects.filter(email="invited@organizers.example").exists()
    assert found == {}


def test_public_and_error_pages_have_no_blocking_finding(live_server, page, open_campaign):
    membership, petition = open_campaign
    read: list[str] = []
    found = _sweep(
        page,
        live_server.url,
        [
            "/",
            f"/c/{membership.campaign.slug}/",
            f"/p/{petition.slug}/",
            f"/p/{petition.slug}/audit/",
            "/p/no-such-petition/",
            "/no/such/page/",
        ],
        read,
    )
    assert len(read) == 6
    assert found == {}
