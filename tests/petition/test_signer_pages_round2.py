"""What a signer is told on the petition and audit pages (issue 17, items 2 and 3): the
accepted work-email domains, what happens to a name and a comment, the final state of a
delivered petition, the receipt check one tap away, and a way to pass the petition on that
involves nobody else. Every page here sets no cookie and runs no inline script."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from django.utils import timezone
from django.utils.formats import date_format

from petition.models import Petition
from petition.services import petition_close, petition_mark_delivered
from petition.views import share_panel

pytestmark = pytest.mark.django_db


def _page(client, url):
    response = client.get(url)
    assert response.status_code == 200, url
    assert not response.cookies and "Set-Cookie" not in response.headers, url
    html = response.content.decode()
    for match in re.finditer(r"<script\b([^>]*)>(.*?)</script>", html, re.S):
        assert "src=" in match.group(1) and not match.group(2).strip(), url
    assert "style=" not in html, url
    return html


def _text(html):
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def test_the_work_email_form_and_its_refusal_name_the_accepted_domains(client, open_petition):
    campaign = open_petition.campaign
    campaign.email_domains = ["acme.example", "acme-logistics.example"]
    campaign.save()
    html = _page(client, open_petition.get_absolute_url())
    text = _text(html)
    assert "Addresses at these domains can sign: acme.example, acme-logistics.example." in text
    refusal = re.search(r'<template id="msg-domain_not_accepted">(.*?)</template>', html, re.S)
    assert "accepts only addresses at these domains: acme.example, acme-logistics.example" in (
        refusal.group(1)
    )
    assert 'id="email-have-code"' in html
    assert "Each code works for 15 minutes." in text


def test_one_accepted_domain_reads_as_one(client, open_petition):
    html = _page(client, open_petition.get_absolute_url())
    assert "Addresses at example.com can sign." in _text(html)
    assert "This petition accepts only addresses at example.com." in html


@pytest.mark.parametrize(
    ("need_review", "form_says", "thanks_says"),
    [
        (
            True,
            "A moderator reads names and comments before they appear on this page, and may "
            "decide not to show them.",
            "Your name or comment waits for a moderator",
        ),
        (
            False,
            "Names and comments appear on this page at once; a moderator may hide them later.",
            "Your name or comment appears on this page now",
        ),
    ],
)
def test_the_form_and_the_thank_you_say_what_a_moderator_does(
    client, open_petition, need_review, form_says, thanks_says
):
    campaign = open_petition.campaign
    campaign.entries_need_review = need_review
    campaign.save()
    text = _text(_page(client, open_petition.get_absolute_url()))
    assert form_says in text
    assert thanks_says in text
    assert "Your signature counts either way." in text


def test_the_thank_you_links_the_receipt_check_and_the_share_panel(client, open_petition):
    html = _page(client, open_petition.get_absolute_url())
    done = re.search(r'<div id="step-done".*?</div>\s*</div>', html, re.S).group(0)
    assert f'href="/p/{open_petition.slug}/audit/#check"' in done
    assert 'href="#share"' in done
    audit = _page(client, f"/p/{open_petition.slug}/audit/")
    assert '<h2 id="check">' in audit
    assert 'id="audit-msg-empty"' in audit


def test_the_share_panel_draws_the_qr_code_here_and_links_nowhere_else(
    client, open_petition, settings
):
    settings.COUNTERSIGN_BASE_URL = "https://sign.example.org"
    html = _page(client, open_petition.get_absolute_url())
    share = re.search(r'<section id="share".*?</section>', html, re.S).group(0)
    url = f"https://sign.example.org/p/{open_petition.slug}/"
    assert f'value="{url}"' in share
    svg = re.search(r"<svg class=\"qr\".*?</svg>", share, re.S).group(0)
    assert "<path" in svg and "<image" not in svg  # vector, drawn here
    assert not re.search(r"""(src|href)=["'](https?:)?//""", share)
    assert 'src="/static/js/share.js"' in html
    assert share_panel(open_petition)["url"] == url


def test_the_qr_code_on_screen_encodes_the_petition_link(open_petition, settings):
    from petition.qr import qr_matrix, qr_svg

    settings.COUNTERSIGN_BASE_URL = "https://sign.example.org"
    url = f"https://sign.example.org/p/{open_petition.slug}/"
    panel = share_panel(open_petition)
    assert panel["qr_svg"] == qr_svg(url, "M").svg
    assert qr_matrix(url, "M")[0]  # the same data a phone camera reads


def test_a_delivered_petition_says_when_it_was_delivered(client, open_petition):
    petition_close(petition=open_petition)
    delivered = petition_mark_delivered(petition=Petition.objects.get(pk=open_petition.pk))
    Petition.objects.filter(pk=delivered.pk).update(
        delivered_at=datetime(2027, 2, 14, 15, 0, tzinfo=UTC),
        deadline=datetime(2027, 1, 31, tzinfo=UTC).date(),
    )
    text = _text(_page(client, delivered.get_absolute_url()))
    day = date_format(timezone.localtime(datetime(2027, 2, 14, 15, 0, tzinfo=UTC)))
    assert f"Delivered on {day}" in text
    assert "more to reach the goal" not in text
    assert "The goal is reached." not in text
    assert "until" not in text.split("Delivered on")[1].split("To:")[0]
    assert "Delivered · until" not in text
    assert 'id="share"' not in text and "Pass it on" not in text
    _page(client, f"/p/{delivered.slug}/audit/")


def test_a_closed_petition_says_when_signing_closed(client, open_petition):
    closed = petition_close(petition=open_petition)
    text = _text(_page(client, closed.get_absolute_url()))
    assert f"Signing closed on {date_format(timezone.localtime(closed.closed_at))}" in text
    assert "more to reach the goal" not in text
    assert "Pass it on" not in text


def test_an_open_petition_still_says_what_is_left(client, open_petition):
    text = _text(_page(client, open_petition.get_absolute_url()))
    assert f"{open_petition.goal} more to reach the goal" in text
    assert "Delivered on" not in text and "Signing closed on" not in text
