"""The staff pages read well on a desktop (1280x800) and on a phone (390x844): the page never
scrolls sideways, no table needs its own sideways scroll, and no button's words wrap inside
it. With a campaign whose audit log holds every kind of entry, a team with a pending
invitation, and an open petition with signatures. axe-core checks each page at each size.

Screenshots go to $COUNTERSIGN_SCREENSHOTS when set (never the repository)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from playwright.sync_api import expect

from organizing.models import Role
from organizing.services import invitation_create
from petition.codes import code_batch_create
from petition.services import petition_create, petition_publish
from tests.browser.axe import assert_accessible
from tests.browser.conftest import sign_in
from tests.organizing.audit_helpers import record_every_action
from tests.organizing.notices.helpers import sign_and_publish

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

VIEWPORTS = {"desktop": (1280, 800), "phone": (390, 844)}

# Per element: the laid-out height of its words against one line of its text. A button
# whose words wrap is two lines high; the text of a table wider than its column scrolls.
LAYOUT_PROBLEMS = """() => {
  const problems = [];
  const root = document.documentElement;
  if (root.scrollWidth > root.clientWidth) {
    problems.push(`page scrolls sideways: ${root.scrollWidth} > ${root.clientWidth}`);
  }
  const visible = (el) =>
    el.getClientRects().length > 0 && getComputedStyle(el).visibility !== 'hidden';
  const buttons = 'main button, main .button, main input[type=submit]';
  for (const el of document.querySelectorAll(buttons)) {
    if (!visible(el)) continue;
    const style = getComputedStyle(el);
    const line = parseFloat(style.lineHeight) || 1.2 * parseFloat(style.fontSize);
    const range = document.createRange();
    range.selectNodeContents(el);
    const words = range.getBoundingClientRect().height;
    if (words > 1.5 * line) {
      problems.push(`button "${el.textContent.trim()}" wraps: ${words}px for a ${line}px line`);
    }
  }
  for (const box of document.querySelectorAll('main .table-scroll, main table')) {
    if (!visible(box)) continue;
    if (box.scrollWidth > box.clientWidth + 1) {
      const name = box.className || box.tagName;
      problems.push(`${name} scrolls sideways: ${box.scrollWidth} > ${box.clientWidth}`);
    }
  }
  return problems;
}"""


def _shot(page, name: str) -> None:
    folder = os.environ.get("COUNTERSIGN_SCREENSHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(folder) / f"{name}.png"), full_page=True)


@pytest.fixture
def staffed_campaign():
    story = record_every_action()
    invitation_create(
        email="new.moderator@organizers.example",
        role=Role.MODERATOR,
        campaign=story.campaign,
        invited_by=story.organizer,
    )
    invitation_create(
        email="a.rather.long.address.for.a.new.organizer@organizers.example",
        role=Role.ORGANIZER,
        campaign=story.campaign,
        invited_by=story.organizer,
    )
    open_petition = petition_create(
        campaign=story.campaign,
        actor=story.organizer,
        title="Restore two paid fifteen-minute breaks on every night shift at the warehouse",
        slug="night-breaks-warehouse",
        demands="Two paid breaks.",
        addressed_to="Management",
        goal=500,
        accepts_in_person=True,
        accepts_flyer=True,
    )
    open_petition = petition_publish(petition=open_petition, actor=story.organizer)
    code_batch_create(
        petition=open_petition,
        level="in_person",
        size=10,
        actor=story.organizer,
        label="canteen, floor 2",
    )
    sign_and_publish(open_petition, 12)
    sign_and_publish(open_petition, 7, level="flyer")
    return story, open_petition


@pytest.mark.parametrize("size", list(VIEWPORTS))
def test_staff_pages_fit_the_screen_and_buttons_keep_their_words_on_one_line(
    live_server, browser, staffed_campaign, size
):
    story, open_petition = staffed_campaign
    width, height = VIEWPORTS[size]
    context = browser.new_context(viewport={"width": width, "height": height})
    try:
        page = context.new_page()
        page.set_default_timeout(15_000)
        sign_in(page, live_server, story.organizer)
        campaign = story.campaign.slug
        pages = {
            "dashboard": "/staff/",
            "team": f"/staff/c/{campaign}/",
            "audit": f"/staff/c/{campaign}/audit/",
            "petition": f"/staff/p/{open_petition.slug}/",
            "codes": f"/staff/p/{open_petition.slug}/codes/",
            # Was 424 px wide on a 390 px phone: the designer's form kept a minimum width (O23).
            "flyers": f"/staff/p/{open_petition.slug}/flyers/",
            "moderation": f"/staff/c/{campaign}/moderation/",
        }
        problems = {}
        for name, path in pages.items():
            response = page.goto(f"{live_server.url}{path}")
            assert response.status == 200, path
            # .first: the flyer designer's live preview has the flyer's own headline.
            expect(page.get_by_role("heading", level=1).first).to_be_visible()
            _shot(page, f"{name}-{size}")
            found = page.evaluate(LAYOUT_PROBLEMS)
            if found:
                problems[name] = found
            assert_accessible(page, f"{name} page at {width}x{height}")
        assert problems == {}
        # The pages had what they were meant to show.
        page.goto(f"{live_server.url}/staff/c/{campaign}/")
        expect(page.get_by_role("button", name="Withdraw")).to_have_count(2)
    finally:
        context.close()
