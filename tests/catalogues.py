"""Compile small gettext catalogues for tests: a language's messages without its real
catalogue, so a test can tell which language a page or mail was rendered in."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterable
from pathlib import Path

HEADER = (
    'msgid ""\nmsgstr ""\n"Content-Type: text/plain; charset=UTF-8\\n"\n'
    '"Plural-Forms: nplurals=2; plural=(n != 1);\\n"\n\n'
)


def po_string(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)


def compile_catalogue(
    locale_dir: Path,
    locale: str,
    messages: Iterable[tuple[str, str]],
    plurals: Iterable[tuple[str, str, str, str]] = (),
    domain: str = "django",
) -> Path:
    """Write locale_dir/<locale>/LC_MESSAGES/<domain>.po and compile it with msgfmt.
    `messages`: (msgid, msgstr); `plurals`: (msgid, msgid_plural, singular, plural)."""
    folder = locale_dir / locale / "LC_MESSAGES"
    folder.mkdir(parents=True, exist_ok=True)
    parts = [HEADER]
    for msgid, msgstr in messages:
        parts.append(f"msgid {po_string(msgid)}\nmsgstr {po_string(msgstr)}\n\n")
    for msgid, plural, one, other in plurals:
        parts.append(
            f"msgid {po_string(msgid)}\nmsgid_plural {po_string(plural)}\n"
            f"msgstr[0] {po_string(one)}\nmsgstr[1] {po_string(other)}\n\n"
        )
    po = folder / f"{domain}.po"
    po.write_text("".join(parts), encoding="utf-8")
    subprocess.run(["msgfmt", "-o", str(po.with_suffix(".mo")), str(po)], check=True)
    return po
