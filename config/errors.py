"""The site's error pages (config/urls.py names the handlers): a styled 403 for staff, the
app's 404, a 500 that needs neither database nor session; and DebugNotFoundMiddleware, which
keeps Django's route-listing debug 404 away from a demo on a LAN."""

from django.conf import settings
from django.core.exceptions import MiddlewareNotUsed
from django.http import (
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseBadRequest,
    HttpResponseServerError,
    JsonResponse,
)
from django.shortcuts import render
from django.template.loader import render_to_string
from django.urls import get_urlconf, is_valid_path


def bad_request(request: HttpRequest, exception=None) -> HttpResponse:
    # Also for a bad Host header: no context processors, nothing that needs the request.
    return HttpResponseBadRequest(render_to_string("400.html"))


def not_found(request: HttpRequest, exception=None) -> HttpResponse:
    if request.path_info.startswith("/api/"):
        # An address under /api/ that no route matches (e.g. a slug with a dot) still gets
        # the API's JSON error, like an unknown slug does (docs/protocol.md §5).
        return JsonResponse(
            {"error": {"code": "not_found", "message": "No such API endpoint."}}, status=404
        )
    return render(request, "petition/not_found.html", status=404)


def forbidden(request: HttpRequest, exception=None) -> HttpResponse:
    # Only staff pages refuse with 403 (someone outside a campaign gets a 404 instead).
    return render(request, "organizing/forbidden.html", status=403)


def server_error(request: HttpRequest) -> HttpResponse:
    # No context processors: a failing database or session must not fail the error page.
    return HttpResponseServerError(render_to_string("500.html"))


class DebugNotFoundMiddleware:
    """With DJANGO_DEBUG=1 an unknown address shows the app's not-found page too.

    Django's debug 404 page lists every route of the site; a demo run on a LAN (`make
    run-phone`) must not hand that map to whoever types a wrong address. Only active when
    DEBUG is on; without it Django already uses `handler404`.
    """

    def __init__(self, get_response):
        if not settings.DEBUG:
            raise MiddlewareNotUsed
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        urlconf = getattr(request, "urlconf", get_urlconf())
        if not is_valid_path(request.path_info, urlconf):
            # CommonMiddleware (outside this one) still turns a 404 for "/staff" into a
            # redirect to "/staff/".
            return not_found(request)
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception):
        if isinstance(exception, Http404):
            return not_found(request, exception)
        return None
