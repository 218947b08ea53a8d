"""Absolute links for what leaves the site: mails, webhooks, printed codes, the delivery
document, command output. A page's own links stay relative; only these need the public
address, which comes from COUNTERSIGN_BASE_URL (never from a request's Host header, which
a client chooses)."""

from __future__ import annotations

from urllib.parse import urlsplit

from django.conf import settings


def absolute_url(path: str) -> str:
    """The public address of a site path ("/p/night-shift/"), with exactly one slash between."""
    return settings.COUNTERSIGN_BASE_URL.rstrip("/") + "/" + path.lstrip("/")


def site_host() -> str:
    """The host name of the public address (no port), e.g. for a mail's Message-ID."""
    return urlsplit(settings.COUNTERSIGN_BASE_URL).hostname or ""
