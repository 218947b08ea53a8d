"""Absolute links come from COUNTERSIGN_BASE_URL, whatever its trailing slash."""

from django.urls import reverse

from petition.links import absolute_url, site_host


def test_an_absolute_link_joins_the_base_and_the_path_with_one_slash(settings):
    for base in ("https://petition.example.org", "https://petition.example.org/"):
        settings.COUNTERSIGN_BASE_URL = base
        assert absolute_url("/p/night-shift/") == "https://petition.example.org/p/night-shift/"
        assert absolute_url(reverse("petition:api_log", kwargs={"slug": "night-shift"})) == (
            "https://petition.example.org/api/v1/petitions/night-shift/log"
        )


def test_the_site_host_drops_scheme_port_and_path(settings):
    settings.COUNTERSIGN_BASE_URL = "http://127.0.0.1:8000/"
    assert site_host() == "127.0.0.1"
    settings.COUNTERSIGN_BASE_URL = "https://petition.example.org"
    assert site_host() == "petition.example.org"
