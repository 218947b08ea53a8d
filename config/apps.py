"""The project itself as an app, so that Django loads the project's system checks the way
it loads an app's: from `ready()` (Django's documented place to register checks), declared in
INSTALLED_APPS. Before, organizing/apps.py imported them: an app reaching up into the
project package it is part of."""

from django.apps import AppConfig


class ProjectConfig(AppConfig):
    name = "config"
    verbose_name = "Countersign"

    def ready(self) -> None:
        from . import checks  # noqa: F401  (registers the production checks)
