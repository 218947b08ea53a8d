"""The URL root: the health checks (config/health.py), the public pages and API
(petition/urls.py), the staff pages under /staff/ in the `staff` namespace
(organizing/urls.py), allauth's accounts pages, and the error handlers (config/errors.py).
Pages answer with and without a language prefix (config/i18n.py)."""

from django.urls import include, path
from django.views.i18n import JavaScriptCatalog

from config import health
from config.i18n import language_patterns
from organizing.urls import staff_patterns

urlpatterns = [
    # Monitors (docs/operations.md, "Monitoring"): everything, or only the web process.
    path("healthz", health.healthz, name="healthz"),
    path("livez", health.livez, name="livez"),
    path("", include("petition.urls")),
    path("", include("organizing.urls")),
    # Staff and account pages answer under /es/, /ar/… too; without a prefix, in the staff
    # member's own language (config/i18n.py).
    language_patterns(
        path("staff/", include(staff_patterns, namespace="staff")),
        path("accounts/", include("allauth.urls")),
        # The JavaScript catalogue of the address's language (/es/jsi18n/): no cookie.
        path("jsi18n/", JavaScriptCatalog.as_view(), name="javascript_catalog"),
    ),
]

handler400 = "config.errors.bad_request"
handler403 = "config.errors.forbidden"
handler404 = "config.errors.not_found"
handler500 = "config.errors.server_error"
