"""The site's error pages (config/urls.py names the handlers): a styled 403 for staff, the
app's 404, a 500 that needs neither database nor session; DebugNotFoundMiddleware, which
keeps Django's route-listing debug 404 away from a demo on a LAN; and UnavailableMiddleware,
which answers 503 instead of 500 wherever PostgreSQL or Redis is needed and down."""

import logging
import sys

from django.conf import settings
from django.core.exceptions import MiddlewareNotUsed
from django.db import InterfaceError as DatabaseInterfaceError
from django.db import OperationalError as DatabaseOperationalError
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
from redis.exceptions import RedisError

logger = logging.getLogger(__name__)


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
    # Django calls this inside its `except` block: a database or Redis failure raised
    # outside any view (so UnavailableMiddleware never saw it) still gets the 503.
    exception = sys.exc_info()[1]
    if _retry_after(exception) is not None:
        return unavailable(request, exception)
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


# Seconds a client should wait before sending the same request again. PostgreSQL comes back
# within seconds of a restart or failover (supervised, with CONN_HEALTH_CHECKS reconnecting);
# a Redis outage seen in the deployment walk lasted a minute.
RETRY_AFTER_DATABASE = 5
RETRY_AFTER_REDIS = 30


def _retry_after(exception: BaseException | None) -> int | None:
    """Seconds to wait if `exception` means a backend is unreachable or restarting, else
    None. OperationalError covers a refused or dropped connection, "the database system is
    shutting down / starting up" and a backend ended by a restart; InterfaceError a
    connection already closed under the request. A bug (ProgrammingError, IntegrityError)
    stays a 500."""
    if isinstance(exception, RedisError):
        return RETRY_AFTER_REDIS
    if isinstance(exception, (DatabaseOperationalError, DatabaseInterfaceError)):
        return RETRY_AFTER_DATABASE
    return None


def unavailable(request: HttpRequest, exception: BaseException) -> HttpResponse:
    """503 with Retry-After: JSON under /api/ (the browser client sends the request again,
    bounded), the "Back in a minute" page elsewhere. One WARNING line, naming neither the
    path nor the client. The view's transaction was rolled back: nothing was changed."""
    backend = "Redis" if isinstance(exception, RedisError) else "database"
    logger.warning("%s unavailable (%s): answered 503", backend, type(exception).__name__)
    if request.path.startswith("/api/"):
        response = JsonResponse(
            {
                "error": {
                    "code": "unavailable",
                    "message": "The server cannot take this request right now. "
                    "Send it again later.",
                }
            },
            status=503,
        )
    else:
        # No context processors: the session or the database may be what is failing.
        response = HttpResponse(render_to_string("503.html"), status=503)
    response["Retry-After"] = str(_retry_after(exception))
    return response


class UnavailableMiddleware:
    """A view that needs PostgreSQL or Redis while it is down answers 503 with Retry-After,
    not 500 (docs/operations.md, "When a part fails").

    The signer API decides per action what to do without Redis (petition/api.py); this is
    the net under everything else: allauth's login limits, which count in the cache, and
    every view while PostgreSQL restarts. Django's CONN_HEALTH_CHECKS replaces the broken
    connection at the next request."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception):
        if _retry_after(exception) is None:
            return None
        return unavailable(request, exception)
