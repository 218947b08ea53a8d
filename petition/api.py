"""JSON API v1 (docs/protocol.md): the read endpoints. Errors are
`{"error": {"code", "message"}}` with the right status; nothing here sets a cookie."""

from __future__ import annotations

import functools

from django.http import HttpRequest, JsonResponse

from . import blindrsa, selectors
from .models import Petition

ALG = "RSABSSA-SHA384-PSS-Randomized"


def error(status: int, code: str, message: str) -> JsonResponse:
    return JsonResponse({"error": {"code": code, "message": message}}, status=status)


def get_only(view):
    """Like require_GET, but the 405 speaks the API's JSON error format."""

    @functools.wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs):
        if request.method not in ("GET", "HEAD"):
            response = error(405, "method_not_allowed", "Use GET.")
            response["Allow"] = "GET, HEAD"
            return response
        return view(request, *args, **kwargs)

    return wrapper


def _public_petition(slug: str) -> Petition | None:
    return selectors.public_petitions().filter(slug=slug).first()


@get_only
def petition_detail(request: HttpRequest, slug: str) -> JsonResponse:
    petition = _public_petition(slug)
    if petition is None:
        return error(404, "not_found", "No public petition with this slug.")
    return JsonResponse(
        {
            "slug": petition.slug,
            "title": petition.title,
            "status": petition.status,
            "goal": petition.goal,
            "counts": selectors.petition_counts(petition),
        }
    )


@get_only
def petition_keys(request: HttpRequest, slug: str) -> JsonResponse:
    petition = _public_petition(slug)
    if petition is None:
        return error(404, "not_found", "No public petition with this slug.")
    return JsonResponse(
        {
            "alg": ALG,
            "petition_id": blindrsa.b64url_encode(petition.id.bytes),
            "keys": [
                {
                    "level": key.level,
                    "key_id": blindrsa.b64url_encode(bytes(key.key_id)),
                    "spki": blindrsa.b64url_encode(bytes(key.spki)),
                    "modulus_bits": key.modulus_bits,
                }
                for key in selectors.petition_public_keys(petition)
            ],
        }
    )
