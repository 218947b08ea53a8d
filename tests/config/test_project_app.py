"""The project's own pieces are wired from config/: its system checks registered by its
AppConfig (not by an app), its error pages named by config/urls.py."""

from django.apps import apps
from django.conf import settings
from django.core.checks.registry import registry

from config import checks, urls


def test_the_project_registers_its_own_checks():
    assert apps.get_app_config("config").name == "config"
    registered = registry.get_checks(include_deployment_checks=True)
    assert checks.publication_defaults in registered
    assert checks.production_services in registered


def test_the_error_pages_live_in_config():
    assert (urls.handler403, urls.handler404, urls.handler500) == (
        "config.errors.forbidden",
        "config.errors.not_found",
        "config.errors.server_error",
    )
    assert "config.errors.DebugNotFoundMiddleware" in settings.MIDDLEWARE
