"""A system check that says, at start-up (`make run`, `manage.py check`), when the PDF
libraries are missing, instead of a failure on the first print."""

from django.core import checks

from .pdf import PDFLibrariesMissing, weasyprint


@checks.register()
def pdf_libraries(app_configs=None, **kwargs) -> list[checks.CheckMessage]:
    try:
        weasyprint()
    except PDFLibrariesMissing as exc:
        return [
            checks.Warning(
                "Flyers and code cards cannot be made: " + str(exc),
                hint="Debian/Ubuntu: apt-get install libpango-1.0-0 libpangoft2-1.0-0 "
                "libharfbuzz-subset0 (make test installs them when run as root).",
                id="countersign.W101",
            )
        ]
    return []
