"""The organizing app's configuration; `ready()` loads the signal handlers and the system
checks that live in the app and its feature packages."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OrganizingConfig(AppConfig):
    name = "organizing"
    verbose_name = _("Organizing")

    def ready(self) -> None:
        from . import signals  # noqa: F401
        from .flyers import checks as flyer_checks  # noqa: F401
        from .notices import receivers  # noqa: F401
