"""Request bodies are refused by their declared size, before anything reads them.

The signer API takes JSON objects of at most 16 KiB (docs/protocol.md §5); staff forms are
small too (no file uploads anywhere). A body over the cap answers 413 at once, from its
Content-Length: nothing is read, parsed or written, and the API's answer keeps the API's
JSON error shape. A body without a Content-Length (chunked) is read by Django as empty
under WSGI, so it cannot get around the cap. DATA_UPLOAD_MAX_MEMORY_SIZE stays as a second
fence for whatever reaches a form parser.
"""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template.loader import render_to_string

API_PREFIX = "/api/"


def declared_length(request: HttpRequest) -> int:
    try:
        return max(0, int(request.META.get("CONTENT_LENGTH") or 0))
    except ValueError:
        return 0  # Django reads a malformed Content-Length as an empty body too


class BodySizeLimitMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        length = declared_length(request)
        if request.path_info.startswith(API_PREFIX):
            if length > settings.COUNTERSIGN_API_MAX_BODY:
                return JsonResponse(
                    {
                        "error": {
                            "code": "payload_too_large",
                            "message": "The request body is too large.",
                        }
                    },
                    status=413,
                )
        elif length > settings.COUNTERSIGN_MAX_BODY:
            # No context processors: no session or database for a refused request.
            return HttpResponse(render_to_string("413.html"), status=413)
        return self.get_response(request)


class PermissionsPolicyMiddleware:
    """`Permissions-Policy` on every answer (settings.PERMISSIONS_POLICY): Django has no
    setting for it. Here because it is one header next to the other response limits."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        response.headers.setdefault("Permissions-Policy", settings.PERMISSIONS_POLICY)
        return response
