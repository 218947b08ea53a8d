"""An operator who serves one signer a key or petition id of their own could
recognise that signer's signature later. The browser client pins both on first sight and
refuses, sending nothing, when `…/keys` changes, or when the key differs from the one
printed with the code (`&k=`). In Chromium, with the altered answers served by Playwright;
axe-core checks every state the page passes through (refusals included), CSP enforced."""

from __future__ import annotations

import json

import pytest
from playwright.sync_api import expect

from petition.blindrsa import b64url_encode
from petition.codes import code_batch_create
from petition.keys import code_fragment
from petition.models import Signature
from petition.services import petition_publish
from tests.browser.axe import assert_accessible
from tests.factories import PetitionFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def petition():
    return petition_publish(petition=PetitionFactory())


@pytest.fixture
def other_key():
    """A genuine key of another petition: valid SPKI, key id = SHA-256(spki)."""
    key = petition_publish(petition=PetitionFactory()).keys.get(level="in_person")
    return {"key_id": b64url_encode(bytes(key.key_id)), "spki": b64url_encode(bytes(key.spki))}


def _code(petition) -> str:
    return code_batch_create(petition=petition, level="in_person", size=10)[1][0]


def _record_posts(page) -> list[str]:
    posts: list[str] = []
    page.on("request", lambda r: posts.append(r.url) if r.method == "POST" else None)
    return posts


def _open_and_pin(page, live_server, petition, fragment: str) -> None:
    page.goto(f"{live_server.url}/p/{petition.slug}/{fragment}")
    expect(page.locator("#sign-steps")).to_be_visible()
    page.wait_for_function(
        "slug => localStorage.getItem(`countersign:v1:pins:${slug}`) !== null", arg=petition.slug
    )


def _serve_altered_keys(page, petition, alter) -> None:
    def handle(route):
        answer = route.fetch()
        doc = alter(answer.json())
        route.fulfill(response=answer, body=json.dumps(doc))

    page.route(f"**/api/v1/petitions/{petition.slug}/keys", handle)


def _swap_key(other_key):
    def alter(doc):
        for key in doc["keys"]:
            if key["level"] == "in_person":
                key.update(other_key)
        return doc

    return alter


def _expect_refusal(page, words: str) -> None:
    expect(page.locator("#sign-error")).to_contain_text(words)
    expect(page.locator("#sign-error")).to_contain_text("Nothing was sent")
    assert_accessible(page, f"refusal: {words}")


def test_a_swapped_key_is_refused_before_asking_for_a_credential(
    live_server, page, petition, other_key
):
    posts = _record_posts(page)
    _open_and_pin(page, live_server, petition, f"#code={_code(petition)}")
    assert_accessible(page, "code step, key pinned")
    _serve_altered_keys(page, petition, _swap_key(other_key))
    page.locator("#code-submit").click()
    _expect_refusal(page, "signing key is not the one this device saw before")
    expect(page.locator("#step-code")).to_be_visible()
    assert posts == []  # no credential request left the page
    assert page.problems == []


def test_a_swapped_petition_id_is_refused_before_asking_for_a_credential(
    live_server, page, petition
):
    posts = _record_posts(page)
    _open_and_pin(page, live_server, petition, f"#code={_code(petition)}")
    _serve_altered_keys(page, petition, lambda doc: {**doc, "petition_id": "A" * 21 + "Q"})
    page.locator("#code-submit").click()
    _expect_refusal(page, "describes this petition differently")
    assert posts == []


def test_a_key_swapped_after_issuance_is_refused_before_signing(
    live_server, page, petition, other_key
):
    posts = _record_posts(page)
    _open_and_pin(page, live_server, petition, f"#code={_code(petition)}")
    page.locator("#code-submit").click()
    expect(page.locator("#step-credential")).to_be_visible()
    assert_accessible(page, "credential step")
    assert [p.rsplit("/", 1)[1] for p in posts] == ["credentials"]

    _serve_altered_keys(page, petition, _swap_key(other_key))
    page.locator("#sign-now").click()
    _expect_refusal(page, "signing key is not the one this device saw before")
    assert [p.rsplit("/", 1)[1] for p in posts] == ["credentials"]  # no signature sent
    assert not Signature.objects.exists()

    # Served honestly again, the same credential signs.
    page.unroute(f"**/api/v1/petitions/{petition.slug}/keys")
    page.locator("#sign-now").click()
    expect(page.locator("#step-done")).to_be_visible()
    assert_accessible(page, "signed after the refusal")
    assert Signature.objects.count() == 1


def test_a_key_other_than_the_one_printed_with_the_code_is_refused(live_server, page, petition):
    posts = _record_posts(page)
    code = _code(petition)
    fragment = code_fragment(petition.keys.get(level="in_person"), code)
    prefix = fragment.rsplit("&k=", 1)[1]
    wrong = ("B" if prefix[0] == "A" else "A") + prefix[1:]
    page.goto(f"{live_server.url}/p/{petition.slug}/#code={code}&level=in_person&k={wrong}")
    expect(page.locator("#sign-steps")).to_be_visible()
    _expect_refusal(page, "does not match the one printed with your code")
    page.locator("#code-submit").click()
    _expect_refusal(page, "does not match the one printed with your code")
    assert posts == []


def test_the_printed_link_with_the_right_key_prefix_signs(live_server, page, petition):
    code = _code(petition)
    fragment = code_fragment(petition.keys.get(level="in_person"), code)
    page.goto(f"{live_server.url}/p/{petition.slug}/{fragment}")
    expect(page.locator("#code-input")).to_have_value(code)
    assert "&k=" not in page.url and code not in page.url
    assert_accessible(page, "code step from a printed link")
    page.locator("#code-submit").click()
    expect(page.locator("#step-credential")).to_be_visible()
    assert_accessible(page, "credential step from a printed link")
    page.locator("#sign-now").click()
    expect(page.locator("#step-done")).to_be_visible()
    assert_accessible(page, "signed from a printed link")
    assert page.problems == []
