"""System checks at start-up (`make run`, `manage.py check`): the PDF libraries are there,
and the shipped fonts can print every translation of the printed sentences."""

from __future__ import annotations

import gettext
import unicodedata
from pathlib import Path

from django.conf import settings
from django.core import checks

from .glyphs import unprintable
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


def catalogue_messages(language: str) -> dict[str, str] | None:
    """msgid → translation in the project's compiled catalogues for `language` (ours and
    the allauth pages', LOCALE_PATHS; plural forms as their own entries), or None if none
    is compiled."""
    found: dict[str, str] | None = None
    for root in settings.LOCALE_PATHS:
        path = Path(root) / language / "LC_MESSAGES" / "django.mo"
        if path.exists():
            with path.open("rb") as handle:
                catalogue = gettext.GNUTranslations(handle)
            found = found or {}
            for key, value in catalogue._catalog.items():
                if key:
                    found.setdefault(key[0] if isinstance(key, tuple) else key, value)
    return found


def describe(ch: str) -> str:
    return f"“{ch}” (U+{ord(ch):04X} {unicodedata.name(ch, 'unnamed')})"


@checks.register()
def flyer_fonts(app_configs=None, **kwargs) -> list[checks.CheckMessage]:
    """Every translation the project ships (the flyers' and code cards' printed sentences
    are among them, with the delivery document's) is printable with the fonts of
    static/fonts/ (glyphs.py): a letter the fonts lack would print as an empty box."""
    problems: list[checks.CheckMessage] = []
    for language, _name in settings.LANGUAGES:
        if language == settings.LANGUAGE_CODE:
            continue  # the source strings: the form and the tests check what is typed
        messages = catalogue_messages(language)
        if messages is None:
            problems.append(
                checks.Warning(
                    f"The {language} catalogue is not compiled: its printed text is unchecked.",
                    hint="make compile-messages (manage.py compilemessages).",
                    id="countersign.W102",
                )
            )
            continue
        for msgid, translation in messages.items():
            missing = unprintable(translation)
            if missing:
                problems.append(
                    checks.Error(
                        f"The shipped fonts cannot print {', '.join(map(describe, missing))} "
                        f"in the {language} translation of {msgid!r}.",
                        hint="Change the translation, or add a font that has it to "
                        "static/fonts/, static/css/print.css and organizing/flyers/glyphs.py.",
                        id="countersign.E102",
                    )
                )
    return problems
