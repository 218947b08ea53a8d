"""The URL root: the public pages and API (petition/urls.py), the staff pages under /staff/ in
the `staff` namespace (organizing/urls.py), allauth's accounts pages, and the error handlers
(config/errors.py)."""

from django.urls import include, path

from organizing.urls import staff_patterns

urlpatterns = [
    path("", include("petition.urls")),
    path("", include("organizing.urls")),
    path("staff/", include(staff_patterns, namespace="staff")),
    path("accounts/", include("allauth.urls")),
]

handler400 = "config.errors.bad_request"
handler403 = "config.errors.forbidden"
handler404 = "config.errors.not_found"
handler500 = "config.errors.server_error"
