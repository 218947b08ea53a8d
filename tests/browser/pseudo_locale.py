"""A pseudo-locale for tests only (issue 18, item 6): every message wrapped in ⟦…⟧ and made
about 40% longer, so that any English left on a page is a string nobody marked, and layouts
are tried with longer words.

The catalogue is built the way translators' catalogues are: `makemessages` over a copy of
the source (the project's own locale/ is never written), plus the messages of Django and
allauth that a real language gets from those packages' catalogues. Two languages use it:
`en-xa` (left to right) and `ar-xb` (right to left: its base language is Arabic).
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import allauth
import django

from scripts.translations_check import Entry, parse_po

ROOT = Path(__file__).resolve().parents[2]
OPEN, CLOSE, PAD = "⟦", "⟧", "·"
PSEUDO_LANGUAGES = [("en-xa", f"{OPEN}Pseudo{CLOSE}"), ("ar-xb", f"{OPEN}Pseudo RTL{CLOSE}")]
LOCALES = ("en_XA", "ar_XB")
SOURCES = ("manage.py", "config", "petition", "organizing", "templates", "static/js")
IGNORE = ["-i", "var/*", "-i", "locale/*"]
MAKEMESSAGES = [sys.executable, "manage.py", "makemessages", "-l", "en_XA", "--no-location"]
# What a language's catalogues in the installed packages translate besides ours.
PACKAGE_CATALOGUES = [
    Path(allauth.__file__).parent / "locale/es/LC_MESSAGES/django.po",
    Path(django.__file__).parent / "conf/locale/es/LC_MESSAGES/django.po",
    Path(django.__file__).parent / "contrib/auth/locale/es/LC_MESSAGES/django.po",
    Path(django.__file__).parent / "contrib/humanize/locale/es/LC_MESSAGES/django.po",
]
# Placeholders, tags and entities are kept as they are; only the words count for length.
_CODE = re.compile(
    r"%\([A-Za-z_]\w*\)[-#0 +]*\d*(?:\.\d+)?[sdifrxXeEgGc]|%[-#0 +]*\d*(?:\.\d+)?[sdifrxXeEgGc]"
    r"|%%|\{[A-Za-z_]\w*\}|<[^<>]+>|&#?\w+;"
)
_EDGES = re.compile(r"^(\s*)(.*?)(\s*)$", re.S)


def pseudo(text: str) -> str:
    """`Sign here` → `⟦Sign here···⟧`; leading and trailing white space stay outside."""
    lead, core, trail = _EDGES.match(text).groups()
    if not core:
        return text
    extra = max(1, round(len(_CODE.sub("", core)) * 0.4))
    # In words of up to six, as a longer sentence would be: lines may break between them.
    padding = " ".join(PAD * min(6, extra - i) for i in range(0, extra, 6))
    return f"{lead}{OPEN}{core}{padding}{CLOSE}{trail}"


def _quote(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{escaped.replace(chr(9), chr(92) + "t")}"'


def _write(entries: list[Entry], path: Path) -> None:
    parts = [
        'msgid ""\nmsgstr ""\n"Content-Type: text/plain; charset=UTF-8\\n"\n'
        '"Plural-Forms: nplurals=2; plural=(n != 1);\\n"\n'
    ]
    for entry in entries:
        lines = []
        if "python-format" in entry.flags:
            lines.append("#, python-format")
        if entry.msgctxt is not None:
            lines.append(f"msgctxt {_quote(entry.msgctxt)}")
        lines.append(f"msgid {_quote(entry.msgid)}")
        if entry.msgid_plural is None:
            lines.append(f"msgstr {_quote(pseudo(entry.msgid))}")
        else:
            lines.append(f"msgid_plural {_quote(entry.msgid_plural)}")
            lines.append(f"msgstr[0] {_quote(pseudo(entry.msgid))}")
            lines.append(f"msgstr[1] {_quote(pseudo(entry.msgid_plural))}")
        parts.append("\n".join(lines) + "\n")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(parts), encoding="utf-8")


def build(workdir: Path) -> Path:
    """Extract, pseudo-translate and compile; returns the folder for LOCALE_PATHS."""
    source = workdir / "source"
    for name in SOURCES:
        origin = ROOT / name
        if origin.is_dir():
            shutil.copytree(origin, source / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            (source / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(origin, source / name)
    for domain in ("django", "djangojs"):
        subprocess.run(
            [*MAKEMESSAGES, "-d", domain, *IGNORE],
            cwd=source,
            check=True,
            capture_output=True,
        )
    entries: dict[tuple, Entry] = {}
    extracted = source / "locale/en_XA/LC_MESSAGES/django.po"
    for path in [extracted, *PACKAGE_CATALOGUES]:
        for entry in parse_po(path.read_text(encoding="utf-8")):
            if not entry.is_header and not entry.obsolete:
                entries.setdefault((entry.msgctxt, entry.msgid), entry)
    javascript = source / "locale/en_XA/LC_MESSAGES/djangojs.po"
    out = workdir / "locale"
    for locale in LOCALES:
        for domain, chosen in (("django", list(entries.values())), ("djangojs", None)):
            if chosen is None:
                if not javascript.exists():
                    continue
                chosen = [e for e in parse_po(javascript.read_text()) if not e.is_header]
            po = out / locale / "LC_MESSAGES" / f"{domain}.po"
            _write(chosen, po)
            subprocess.run(
                ["msgfmt", "-o", str(po.with_suffix(".mo")), str(po)],
                check=True,
                capture_output=True,
            )
    return out


def autonyms() -> set[str]:
    """Names of languages in their own language: shown as they are, in every language."""
    from django.conf import settings
    from django.conf.locale import LANG_INFO

    names = {info["name_local"] for info in LANG_INFO.values() if "name_local" in info}
    return names | {name for _code, name in settings.LANGUAGES}


def leftovers(text: str) -> list[str]:
    """The pieces of visible text outside every ⟦…⟧ that contain words."""
    known = autonyms()
    previous = None
    while previous != text:
        previous, text = text, re.sub(f"{OPEN}[^{OPEN}{CLOSE}]*{CLOSE}", "\n", text)
    found = []
    for piece in re.split(r"\n|\s{2,}", text):
        piece = piece.strip()
        if piece in known or _FACTORY_DATA.fullmatch(piece):
            continue
        if any(not _ignorable(word) for word in piece.split()):
            found.append(piece)
    return found


# What tests/factories.py names things the sweep did not make itself.
_FACTORY_DATA = re.compile(r"Petition number \d+|Workers of Example \d+|Example Corp")
_NOT_WORDS = re.compile(
    r"[\W\d_]*"  # numbers, punctuation, symbols
    r"|Countersign"  # the product's name
    r"|\S+@\S+"  # an address
    r"|https?://\S+|/\S*|\S+[/+:]\S+"  # a URL, a path, a log origin
    r"|[0-9a-f]{4}"  # a group of a key's fingerprint
    r"|[A-Z0-9]{4,}(?:-[A-Z0-9]{3,})+"  # a printed code
    r"|[A-Za-z0-9_+/=.-]{20,}"  # keys, tokens, hashes
    r"|[a-z0-9]+(?:-[a-z0-9]+)+"  # a slug
    r"|[A-Z]{2,}(?:-[A-Z]{2,})?"  # an acronym (TOTP, PDF)
)


def _ignorable(piece: str) -> bool:
    return bool(_NOT_WORDS.fullmatch(piece.strip("()[]{}:;,.·\u2014\u2013-\"'\u201c\u201d")))
