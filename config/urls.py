from django.urls import include, path

from organizing.urls import staff_patterns

urlpatterns = [
    path("", include("petition.urls")),
    path("", include("organizing.urls")),
    path("staff/", include(staff_patterns, namespace="staff")),
    path("accounts/", include("allauth.urls")),
]

handler403 = "petition.errors.forbidden"
handler404 = "petition.errors.not_found"
handler500 = "petition.errors.server_error"
