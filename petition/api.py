"""JSON API v1 (docs/protocol.md). Errors are
`{"error": {"code", "message"}}` with the right status; nothing here sets a cookie."""

from __future__ import annotations

import functools
import hashlib
import json
from urllib.parse import urlencode

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import reverse
from django.utils import translation
from django.views.decorators.csrf import csrf_exempt

from . import blindrsa, pagecache, sealing, selectors, signing
from .credentials import credential_issue, email_code_request
from .models import Petition
from .protocol import ProtocolError, decode_b64
from .ratelimits import RETRY_WHEN_DOWN, LimitsUnavailable, RateLimit, rate_limited
from .tlog.services import log_identity

ALG = "RSABSSA-SHA384-PSS-Randomized"
MAX_BODY = 16 * 1024


def error(status: int, code: str, message: str) -> JsonResponse:
    return JsonResponse({"error": {"code": code, "message": message}}, status=status)


def _unavailable() -> JsonResponse:
    """Redis (rate limits or the sealing store) is down and this action cannot proceed
    without it: nothing was changed, send the same request again later."""
    response = error(
        503, "unavailable", "The server cannot take this request right now. Send it again later."
    )
    response["Retry-After"] = str(RETRY_WHEN_DOWN)
    return response


def _protocol_error(exc: ProtocolError) -> JsonResponse:
    response = error(exc.status, exc.code, exc.message)
    if exc.status == 503:
        response["Retry-After"] = str(RETRY_WHEN_DOWN)
    return response


def _not_allowed(allowed: str) -> JsonResponse:
    response = error(405, "method_not_allowed", f"Use {allowed}.")
    response["Allow"] = allowed
    return response


def _public_petition(slug: str) -> Petition:
    petition = selectors.public_petitions().filter(slug=slug).first()
    if petition is None:
        raise ProtocolError(404, "not_found", "No public petition with this slug.")
    return petition


def _redeemable_petition(slug: str) -> Petition:
    petition = selectors.redeemable_petition(slug)
    if petition is None:
        raise ProtocolError(404, "not_found", "No public petition with this slug.")
    return petition


def get_only(view):
    """GET/HEAD endpoints about one public petition; errors in the API's JSON format."""

    # CSRF-exempt: these views never act on an unsafe method, and without the exemption
    # CSRF's 403 would answer a PUT before the contract's JSON 405 could.
    @csrf_exempt
    @functools.wraps(view)
    def wrapper(request: HttpRequest, slug: str) -> JsonResponse:
        if request.method not in ("GET", "HEAD"):
            return _not_allowed("GET, HEAD")
        try:
            return view(_public_petition(slug))
        except ProtocolError as exc:
            return error(exc.status, exc.code, exc.message)

    return wrapper


@csrf_exempt  # GET only: a wrong method gets the JSON 405, not CSRF's 403
def petition_detail(request: HttpRequest, slug: str) -> HttpResponse:
    """The petition's published state, kept rendered between the writes that change it
    (petition/pagecache.py); a proxy or CDN may keep it for a short while too."""
    if request.method not in ("GET", "HEAD"):
        return _not_allowed("GET, HEAD")

    def render_detail(generation: str) -> pagecache.Rendered:
        petition = _public_petition(slug)
        body = JsonResponse(
            {
                "slug": petition.slug,
                "title": petition.title,
                "status": petition.status,
                "goal": petition.goal,
                # Published counts: what the last publication batch of each level says.
                "counts": selectors.petition_counts(petition),
                "publication": _publication(petition),
                # Additive (protocol v1, §5.1): the language `title` is written in, and the
                # organizers' translations, each whole. None of it is part of a signed message.
                "language": petition.language,
                "translations": {
                    row.language: {
                        "title": row.title,
                        "summary": row.summary,
                        "demands": row.demands,
                        "addressed_to": row.addressed_to,
                    }
                    for row in selectors.petition_translations(petition)
                },
            }
        )
        return pagecache.Rendered(
            generation=generation,
            body=body.content,
            content_type=body["Content-Type"],
            etag=pagecache.etag_of(body.content),
        )

    try:
        rendered = pagecache.fetch(slug, pagecache.body_key("api", slug), render_detail)
    except ProtocolError as exc:
        return error(exc.status, exc.code, exc.message)
    return pagecache.respond(request, rendered, shared=True)


def _publication(petition: Petition) -> dict:
    info = selectors.petition_publication(petition)
    last = info["last_published_on"]
    return {
        **info,
        "last_published_on": last.isoformat() if last else None,
        "public_by": info["public_by"].isoformat(),
    }


@get_only
def petition_keys(petition: Petition) -> JsonResponse:
    return JsonResponse(
        {
            "alg": ALG,
            "petition_id": blindrsa.b64url_encode(petition.id.bytes),
            # The transparency log that holds this petition's entries (docs/protocol.md).
            "log": log_identity(),
            "keys": [
                {
                    "level": key.level,
                    "key_id": blindrsa.b64url_encode(bytes(key.key_id)),
                    "spki": blindrsa.b64url_encode(bytes(key.spki)),
                    "modulus_bits": key.modulus_bits,
                    # Additive (protocol v1): entries signed with an invalidated key do
                    # not count.
                    "invalidated_at": (
                        key.invalidated_at.isoformat(timespec="seconds")
                        if key.invalidated_at
                        else None
                    ),
                    "invalidation_reason": key.invalidation_reason or None,
                }
                for key in selectors.petition_public_keys(petition)
            ],
        }
    )


def _json_body(request: HttpRequest) -> dict:
    # Only JSON: a browser posts text/plain or a form across sites without asking (no CORS
    # preflight), so accepting those would let any web page make its visitors call us.
    if request.content_type != "application/json":
        raise ProtocolError(
            415, "unsupported_media_type", "Send the body as Content-Type: application/json."
        )
    if len(request.body) > MAX_BODY:
        raise ProtocolError(400, "malformed", "The request body is too large.")
    try:
        payload = json.loads(request.body or b"null")
    except (ValueError, UnicodeDecodeError) as exc:
        raise ProtocolError(400, "malformed", "The body must be a JSON object.") from exc
    if not isinstance(payload, dict):
        raise ProtocolError(400, "malformed", "The body must be a JSON object.")
    return payload


def post_endpoint(limit: RateLimit, *, lookup=_public_petition):
    """POST-only, CSRF-exempt (the blind signature is the authorization and these requests
    carry no cookie), rate limited by `limit` per hashed client address, JSON in and out,
    protocol errors mapped to their status. When Redis is down: a closed limit or the
    sealing store answers 503 with Retry-After and changes nothing (docs/operations.md).
    `lookup` reads the petition from its slug (404 if it is not public)."""

    def decorate(action):
        @csrf_exempt
        @functools.wraps(action)
        def view(request: HttpRequest, slug: str) -> JsonResponse:
            if request.method != "POST":
                return _not_allowed("POST")
            try:
                if rate_limited(request, limit):
                    response = error(429, "rate_limited", "Too many requests. Try again later.")
                    response["Retry-After"] = str(limit.effective()[1])
                    return response
                return action(lookup(slug), _json_body(request))
            except ProtocolError as exc:
                return _protocol_error(exc)
            except (LimitsUnavailable, sealing.StoreUnavailable):
                return _unavailable()

        view.rate_limit = limit
        return view

    return decorate


# Signing and withdrawing: the blind signature authorizes and the nullifier's uniqueness
# in the database stops a second use, so the limit only spreads load: open when Redis is
# down (docs/threat-model.md, "Rate limits when Redis is down").
@post_endpoint(RateLimit("signatures", per_window=30, fail_open=True), lookup=_redeemable_petition)
def signatures(petition: Petition, payload: dict) -> JsonResponse:
    # Accepted now, public with its batch: the receipt says by when at the latest. Read
    # before redeeming: once the signature has committed nothing may fail the answer (a 503
    # sent after the commit, say during a database restart, would make the client's retry
    # find its own signature and answer "already used").
    publication = _publication(petition)
    nullifier = signing.signature_redeem(petition=petition, payload=payload)
    return JsonResponse(
        {"nullifier": blindrsa.b64url_encode(nullifier), "publication": publication},
        status=201,
    )


@post_endpoint(RateLimit("withdrawals", per_window=30, fail_open=True))
def withdrawals(petition: Petition, payload: dict) -> JsonResponse:
    signing.signature_withdraw(petition=petition, payload=payload)
    return JsonResponse({"withdrawn": True})


# Public data: reading it never depends on Redis.
LOG_LIMIT = RateLimit("log", per_window=120, fail_open=True)


@csrf_exempt  # GET only: a wrong method gets the JSON 405, not CSRF's 403
def log(request: HttpRequest, slug: str) -> JsonResponse:
    """The public log, one page of at most 1,000 entries (`?after=<nullifier>` for the next
    page; the answer links it). Published entries only; rate limited like the POSTs, since
    paging through a big petition is heavier than any other GET."""
    if request.method not in ("GET", "HEAD"):
        return _not_allowed("GET, HEAD")
    if rate_limited(request, LOG_LIMIT):
        response = error(429, "rate_limited", "Too many requests. Try again later.")
        response["Retry-After"] = str(LOG_LIMIT.effective()[1])
        return response
    try:
        petition = _public_petition(slug)
        after = request.GET.get("after")
        cursor = None if after is None else decode_b64(after, "after", length=32)
    except ProtocolError as exc:
        return _protocol_error(exc)
    entries, next_cursor = selectors.public_log(petition, after=cursor)
    next_url = None
    if next_cursor is not None:
        query = urlencode({"after": blindrsa.b64url_encode(next_cursor)})
        next_url = f"{reverse('petition:api_log', args=[petition.slug])}?{query}"
    return JsonResponse({"entries": entries, "next": next_url})


# Every request mails someone: without a counter a stranger could fill a colleague's
# mailbox (and the mail needs the broker, the same Redis): closed, 503 while it is down.
@post_endpoint(RateLimit("email_codes", per_window=5, fail_open=False))
def email_codes(petition: Petition, payload: dict) -> JsonResponse:
    # The request's language (the page sends its own in Accept-Language; config/i18n.py).
    email_code_request(
        petition=petition, email=payload.get("email"), language=translation.get_language()
    )
    # One body for every address at an accepted domain (P3).
    return JsonResponse({"status": "accepted"}, status=202)


# A credential needs a 50-bit single-use code or a mailed code with 5 attempts counted in
# the database: the limit is not what stops guessing, so it stays open while Redis is down.
@post_endpoint(RateLimit("credentials", per_window=20, fail_open=True))
def credentials(petition: Petition, payload: dict) -> JsonResponse:
    return JsonResponse(credential_issue(petition=petition, payload=payload))


OPENAPI_CACHE = "public, max-age=3600"


@functools.cache
def _openapi_document() -> tuple[bytes, str]:
    data = (settings.BASE_DIR / "docs" / "openapi.yaml").read_bytes()
    return data, '"' + hashlib.sha256(data).hexdigest()[:32] + '"'


@csrf_exempt  # GET only: a wrong method gets the JSON 405, not CSRF's 403
def openapi(request: HttpRequest) -> HttpResponse:
    """docs/openapi.yaml, the machine-readable protocol v1: public, cookieless, cacheable."""
    if request.method not in ("GET", "HEAD"):
        return _not_allowed("GET, HEAD")
    data, etag = _openapi_document()
    if etag in request.headers.get("If-None-Match", ""):
        response = HttpResponse(status=304)
    else:
        response = HttpResponse(data, content_type="application/yaml; charset=utf-8")
    response["ETag"] = etag
    response["Cache-Control"] = OPENAPI_CACHE
    return response
