"""The petition app's configuration; `ready()` registers the transparency log's system checks
and the receivers that keep the cached public pages current (petition/receivers.py)."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PetitionConfig(AppConfig):
    name = "petition"
    verbose_name = _("Petitions")

    def ready(self) -> None:
        from . import receivers  # noqa: F401  (drops cached pages when petitions change)
        from .tlog import checks  # noqa: F401  (registers the transparency log's checks)
