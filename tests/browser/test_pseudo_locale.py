"""Every page in the pseudo-locale (tests/browser/pseudo_locale.py), in Chromium at 390 px:
any visible text outside ⟦…⟧ is a string nobody marked for translation, named with its
page; no page may scroll sideways with every string 40% longer (issue 18, item 6)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from django.test import override_settings
from django.utils import translation

from organizing.invitations import invitation_token
from organizing.models import Role
from organizing.services import invitation_create
from petition.codes import code_batch_create
from petition.models import PetitionTranslation
from petition.services import petition_publish
from tests.browser.conftest import sign_in
from tests.browser.pseudo_locale import PSEUDO_LANGUAGES, build, leftovers
from tests.factories import CampaignFactory, MembershipFactory, PetitionFactory
from tests.organizing.notices.helpers import sign_and_publish
from tests.staff_urls import STAFF_URLS

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# COUNTERSIGN_SHOTS=/some/dir keeps a phone screenshot of each step of the signer's journey.
SHOTS = os.environ.get("COUNTERSIGN_SHOTS")

# Visible text and the texts people read without seeing them: titles, labels, placeholders.
# Content marked translate="no" (HTML's own "do not translate": code samples) is left out.
READ_PAGE = """() => {
  const skip = '.language-switcher, [translate="no"]';
  for (const el of document.querySelectorAll(skip)) el.hidden = true;
  const attrs = [];
  for (const el of document.querySelectorAll('[aria-label], [placeholder], [title], img[alt]')) {
    if (el.closest('.language-switcher, svg title')) continue;
    for (const name of ['aria-label', 'placeholder', 'title', 'alt']) {
      const value = el.getAttribute(name);
      if (value && value.trim()) attrs.push(value);
    }
  }
  const text = document.body.innerText;
  for (const el of document.querySelectorAll(skip)) el.hidden = false;
  const wide = document.documentElement.scrollWidth - window.innerWidth;
  const over = [];  // the innermost elements that stick out, to name in the report
  if (wide > 0) {
    for (const el of document.querySelectorAll('body *')) {
      const box = el.getBoundingClientRect();
      if (box.right <= window.innerWidth + 1 || !box.width) continue;
      const sticksOut = (c) => c.getBoundingClientRect().right > window.innerWidth + 1;
      if ([...el.children].some(sticksOut)) continue;
      over.push(el.tagName.toLowerCase() + (el.id ? `#${el.id}` : ''));
    }
  }
  return { text, attrs, title: document.title, wide, over: over.slice(0, 5) };
}"""


@pytest.fixture(scope="session")
def pseudo_catalogue(tmp_path_factory):
    return build(tmp_path_factory.mktemp("pseudo"))


@pytest.fixture
def pseudo_language(pseudo_catalogue, settings):
    settings.LANGUAGES = [*settings.LANGUAGES, *PSEUDO_LANGUAGES]
    with override_settings(LOCALE_PATHS=[pseudo_catalogue]):
        yield
    translation.activate("en")


@pytest.fixture
def marked_world():
    """Content the organizers typed is marked too: only the interface may show up."""
    campaign = CampaignFactory(name="⟦Night shift⟧", employer_name="⟦Example Corp⟧")
    membership = MembershipFactory(
        campaign=campaign, role=Role.ORGANIZER, user__is_site_organizer=True
    )
    petition = petition_publish(
        petition=PetitionFactory(
            campaign=campaign,
            title="⟦Breaks for the night shift⟧",
            summary="⟦We ask for two paid breaks.⟧",
            demands="1. ⟦Two paid breaks.⟧\n2. ⟦A quiet room.⟧",
            addressed_to="⟦The plant manager⟧",
            accepts_flyer=True,
            goal=50,
        )
    )
    # A translation: the staff pages list it, the pages in other languages offer it.
    PetitionTranslation.objects.create(
        petition=petition,
        language="es",
        title="⟦Pausas para el turno de noche⟧",
        demands="⟦Dos pausas pagadas.⟧",
        addressed_to="⟦La dirección de la planta⟧",
    )
    _batch, codes = code_batch_create(
        petition=petition, level="in_person", size=10, label="⟦canteen⟧"
    )
    sign_and_publish(petition, 3)
    return membership, petition, codes


class Sweep:
    def __init__(self, page, base: str, language: str):
        self.page, self.base, self.prefix = page, base, f"/{language}"
        self.unmarked: dict[str, list[str]] = {}
        self.sideways: dict[str, tuple[int, list[str]]] = {}
        self.read: list[str] = []

    def visit(self, path: str) -> bool:
        probe = self.page.context.request.get(f"{self.base}{self.prefix}{path}")
        if probe.status == 405 or not probe.headers.get("content-type", "").startswith("text/html"):
            return False
        self.page.goto(f"{self.base}{self.prefix}{path}")
        self.check(path)
        return True

    def check(self, label: str) -> None:
        if SHOTS and not label.startswith("/"):
            name = f"{self.prefix.strip('/')}-{label.replace(' ', '-')}.png"
            self.page.screenshot(path=str(Path(SHOTS) / name), full_page=True)
        found = self.page.evaluate(READ_PAGE)
        where = f"{label} ({self.page.url.removeprefix(self.base)})"
        self.read.append(where)
        texts = [found["text"], found["title"], *found["attrs"]]
        pieces = [piece for text in texts for piece in leftovers(text)]
        if pieces:
            self.unmarked[where] = sorted(set(pieces))
        if found["wide"] > 0:
            self.sideways[where] = (found["wide"], found["over"])

    def assert_clean(self) -> None:
        report = "\n".join(f"{url}: {pieces}" for url, pieces in self.unmarked.items())
        assert not self.unmarked, f"Unmarked text (mark it for translation):\n{report}"
        wide = "\n".join(
            f"{url}: {px} px too wide, {over}" for url, (px, over) in self.sideways.items()
        )
        assert not self.sideways, f"Pages wider than the phone:\n{wide}"


@pytest.mark.parametrize("language", ["en-xa", "ar-xb"])
def test_every_page_is_marked_and_fits_a_phone(
    live_server, browser, pseudo_language, marked_world, language
):
    membership, petition, codes = marked_world
    context = browser.new_context(viewport={"width": 390, "height": 844})
    page = context.new_page()
    page.set_default_timeout(15_000)
    problems: list[str] = []
    page.on("pageerror", lambda exc: problems.append(str(exc)))
    page.on("console", lambda msg: problems.append(msg.text) if msg.type == "error" else None)
    sweep = Sweep(page, live_server.url, language)
    try:
        # Public pages, then the signer's journey from a code link to the receipt.
        for path in (
            "/",
            f"/c/{petition.campaign.slug}/",
            f"/p/{petition.slug}/",
            f"/p/{petition.slug}/audit/",
            "/p/no-such-petition/",
        ):
            sweep.visit(path)
        page.goto(f"{live_server.url}/{language}/p/{petition.slug}/#code={codes[0]}")
        page.locator("#method-in_person").wait_for()
        sweep.check("which code")
        page.locator("#method-in_person").click()
        page.locator("#code-input").wait_for()
        sweep.check("code step")
        page.locator("#code-submit").click()
        page.locator("#step-credential").wait_for()
        sweep.check("credential step")
        page.locator("#sign-now").click()
        page.locator("#step-done").wait_for()
        sweep.check("receipt")

        # Signed-out account pages, and an invitation.
        context.clear_cookies()
        invitation = invitation_create(
            email="newcomer@organizers.example",
            role=Role.MODERATOR,
            campaign=membership.campaign,
            invited_by=membership.user,
        )
        for path in (
            "/accounts/login/",
            "/accounts/password/reset/",
            f"/invitations/{invitation_token(invitation)}/",
            "/accounts/signup/",
        ):
            sweep.visit(path)

        # Every staff page, signed in with a second factor.
        sign_in(page, live_server, membership.user)
        for url in STAFF_URLS:
            sweep.visit(url.path(membership.campaign, petition))
        for path in ("/accounts/2fa/", "/accounts/password/change/", "/accounts/email/"):
            sweep.visit(path)
        page.goto(f"{live_server.url}/{language}/staff/p/{petition.slug}/")
        sweep.check("staff petition")  # the growth chart, mirrored in ar-xb
        page.goto(f"{live_server.url}/{language}/staff/account/")
        sweep.check("staff account")
    finally:
        context.close()
    assert len(sweep.read) > 30
    assert [p for p in problems if "404" not in p] == []  # the unknown petition's page
    sweep.assert_clean()
