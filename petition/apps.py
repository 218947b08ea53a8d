"""The petition app's configuration; `ready()` registers the transparency log's system checks."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PetitionConfig(AppConfig):
    name = "petition"
    verbose_name = _("Petitions")

    def ready(self) -> None:
        from .tlog import checks  # noqa: F401  (registers the transparency log's checks)
