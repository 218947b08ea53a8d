from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OrganizingConfig(AppConfig):
    name = "organizing"
    verbose_name = _("Organizing")

    def ready(self) -> None:
        from . import signals  # noqa: F401
        from .flyers import checks as flyer_checks  # noqa: F401
        from .milestones import receivers  # noqa: F401
