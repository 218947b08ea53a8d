from django.http import HttpRequest, HttpResponse, HttpResponseServerError
from django.shortcuts import render
from django.template.loader import render_to_string


def not_found(request: HttpRequest, exception=None) -> HttpResponse:
    return render(request, "petition/not_found.html", status=404)


def server_error(request: HttpRequest) -> HttpResponse:
    # No context processors: a failing database or session must not fail the error page.
    return HttpResponseServerError(render_to_string("500.html"))
