"""Which language a page is in, chosen without a cookie and without storing anything.

- A language prefix in the address (`/es/p/<slug>/`, `/ar/…`, `/en/…`) decides.
- Without one (every address printed on flyers and code cards today), a signed-in staff
  member's own language (User.language) decides, else the browser's `Accept-Language` for
  this one request, else English. Nothing redirects: the printed address answers itself.
- Links on a page carry the page's language (`/es/…` for Spanish, none for English), so the
  language picked for the first page stays with the visitor through the URL alone.

Django's LocaleMiddleware is not used: it reads the `django_language` cookie, and signer
pages must neither set nor depend on a cookie (threat model, "Cookies and identifiers").
The JSON API, the transparency log and the flyers' short links are outside the prefixed
routes: their addresses are printed, pinned or verified and never change with the language.
"""

from __future__ import annotations

import re

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.urls import get_script_prefix
from django.utils import translation
from django.utils.cache import patch_vary_headers
from django.utils.regex_helper import _lazy_re_compile

_PREFIX = _lazy_re_compile(r"^/([a-z]{2,3}(?:-[a-z0-9]{2,8})?)(?=/|$)")
# A language range of Accept-Language with its optional weight: "es-MX;q=0.8".
_RANGE = _lazy_re_compile(
    r"^\s*([A-Za-z]{1,8}(?:-[A-Za-z0-9]{1,8})*|\*)\s*(?:;\s*q=([0-9.]+))?\s*$"
)


def language_codes() -> list[str]:
    return [code for code, _name in settings.LANGUAGES]


def language_from_path(path: str) -> str | None:
    """The language named by the address's first segment, if it is one we ship."""
    found = _PREFIX.match(path)
    if found and found.group(1) in language_codes():
        return found.group(1)
    return None


def path_without_language(path: str) -> str:
    """`/es/p/x/` → `/p/x/`; an address without a prefix is returned as it is."""
    code = language_from_path(path)
    return path[len(code) + 1 :] or "/" if code else path


def language_from_header(header: str) -> str | None:
    """The first language of an Accept-Language header that we ship, by weight then order;
    `es-MX` picks `es`. Malformed ranges are skipped, never an error."""
    ranges = []
    for position, item in enumerate(header.split(",")[:32]):
        found = _RANGE.match(item)
        if not found:
            continue
        try:
            weight = float(found.group(2)) if found.group(2) is not None else 1.0
        except ValueError:
            continue
        if weight > 0:
            ranges.append((-weight, position, found.group(1).lower()))
    codes = language_codes()
    for _weight, _position, tag in sorted(ranges):
        for candidate in (tag, tag.split("-")[0]):
            if candidate in codes:
                return candidate
    return None


class LanguagePrefix:
    """The URL pattern of every page: matches with or without a language prefix, and
    reverses with the active language's prefix (none for the default language).

    Like Django's LocalePrefixPattern, but `/en/` is accepted too (the switcher's English
    link, so that an explicit choice of English beats a Spanish browser), and matching does
    not depend on the active language. Not a LocalePrefixPattern subclass on purpose:
    Django refuses those inside included URLconfs, and the pages of each app are wrapped in
    their own urls.py, beside their API routes that stay unprefixed.
    """

    converters: dict = {}

    @property
    def language_prefix(self) -> str:
        code = translation.get_language() or settings.LANGUAGE_CODE
        return "" if code == settings.LANGUAGE_CODE else f"{code}/"

    @property
    def regex(self):
        return re.compile(re.escape(self.language_prefix))

    def match(self, path: str):
        code = language_from_path("/" + path)
        if code:
            return path[len(code) + 1 :], (), {}
        return path, (), {}

    def check(self) -> list:
        return []

    def describe(self) -> str:
        return f"'{self}'"

    def __str__(self) -> str:
        return self.language_prefix


def language_patterns(*urls):
    """Wrap page routes so that they answer with and without a language prefix."""
    from django.urls import URLResolver

    return URLResolver(LanguagePrefix(), list(urls))


def request_language(request: HttpRequest) -> tuple[str, bool]:
    """(language, chosen by the address?) for this request."""
    code = language_from_path(request.path_info)
    if code:
        return code, True
    user = getattr(request, "user", None)
    preferred = getattr(user, "language", "") if user is not None else ""
    if preferred and user.is_authenticated and preferred in language_codes():
        return preferred, False
    header = request.headers.get("Accept-Language", "")
    return (language_from_header(header) if header else None) or settings.LANGUAGE_CODE, False


class LanguageMiddleware:
    """Activate the request's language (see the module docstring); read no cookie, set none."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        code, from_address = request_language(request)
        translation.activate(code)
        request.LANGUAGE_CODE = code
        response = self.get_response(request)
        if not from_address:
            # The same address answers in several languages: caches must key on the header.
            patch_vary_headers(response, ("Accept-Language",))
        response.headers.setdefault("Content-Language", code)
        return response


def languages(request: HttpRequest) -> dict:
    """Template context: the same page in every language, for the switcher and hreflang.

    Every link names its language (`/en/…` too): a visitor who picks one keeps it even if
    the browser prefers another. `x-default` is the unprefixed address, the printed one.
    """
    path = get_script_prefix().rstrip("/") + path_without_language(request.path_info)
    query = request.META.get("QUERY_STRING", "")
    suffix = f"?{query}" if query else ""
    current = translation.get_language()
    links = [
        {
            "code": code,
            "name": name,
            "url": f"/{code}{path}{suffix}",
            "current": code == current,
            "bidi": translation.get_language_info(code)["bidi"] if code in _KNOWN else False,
        }
        for code, name in settings.LANGUAGES
    ]
    return {"language_links": links, "language_default_url": f"{path}{suffix}"}


def _known() -> set[str]:
    from django.conf.locale import LANG_INFO

    return set(LANG_INFO)


_KNOWN = _known()
