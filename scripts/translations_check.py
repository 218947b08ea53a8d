#!/usr/bin/env python3
"""Check that every shipped language is complete and safe to compile (`make
translations-check`, run by `make test`).

For each language of settings.LANGUAGES other than the default, in
locale/<lang>/LC_MESSAGES/{django,djangojs}.po:

- every message is translated (every plural form too), none is marked fuzzy;
- the catalogue's Plural-Forms has the language's number of forms (Arabic: 6);
- placeholders are the same in the translation as in the message: %(name)s, %s/%d,
  {name} (a plural form may leave out the number when its sentence spells it, as Arabic's
  forms for one and two do, but may not bring a placeholder of its own);
- the HTML tags in the translation are those of the message, and balanced;
- `msgfmt --check-format` accepts the file.

Prints one line per problem (file:line: what, and the message) and exits 1 if any.
Usage: scripts/translations_check.py [--locale-dir DIR] [LANG ...]
"""

from __future__ import annotations

import argparse
import ast
import os
import re
import subprocess
import sys
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
DOMAINS = ("django", "djangojs")
REQUIRED_DOMAINS = ("django",)
# CLDR plural forms per language; a language not listed is checked against its own header.
PLURAL_FORMS = {"en": 2, "es": 3, "ar": 6, "fr": 3, "de": 2, "pt": 3, "zh": 1, "tl": 2}
# Spanish has had 2 forms in gettext for decades and 3 in CLDR (Django 5 uses 3): accept both.
PLURAL_FORMS_ACCEPTED = {"es": {2, 3}, "fr": {2, 3}, "pt": {2, 3}}

PYTHON_NAMED = re.compile(r"%\(([A-Za-z_][A-Za-z0-9_]*)\)[-#0 +]*\d*(?:\.\d+)?[sdifrxXeEgGc]")
PYTHON_POSITIONAL = re.compile(r"%[-#0 +]*\d*(?:\.\d+)?[sdifrxXeEgGc]")
BRACE = re.compile(r"(?<!\{)\{([A-Za-z_][A-Za-z0-9_]*)\}(?!\})")
TAG = re.compile(r"<(/?)([A-Za-z][A-Za-z0-9-]*)\b([^<>]*?)(/?)>")
VOID = {"br", "hr", "img", "input", "wbr", "meta", "link"}


@dataclass
class Entry:
    line: int
    msgctxt: str | None = None
    msgid: str = ""
    msgid_plural: str | None = None
    msgstr: dict[int, str] = field(default_factory=dict)
    flags: set[str] = field(default_factory=set)
    obsolete: bool = False

    @property
    def is_header(self) -> bool:
        return self.msgid == "" and self.msgctxt is None

    def short(self) -> str:
        text = self.msgid.replace("\n", "\\n")
        return repr(text if len(text) <= 70 else text[:67] + "...")


def _unquote(text: str) -> str:
    return ast.literal_eval(text) if text.startswith('"') else ""


def parse_po(text: str) -> list[Entry]:
    """A .po file's entries (the header too), with the line each starts on."""
    entries: list[Entry] = []
    current: Entry | None = None
    target: tuple[str, int | None] | None = None

    def begin(line_no: int) -> Entry:
        nonlocal current
        if current is not None and (current.msgid or current.msgstr):
            entries.append(current)
        current = Entry(line=line_no)
        return current

    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        obsolete = line.startswith("#~")
        if obsolete:
            line = line[2:].strip()
        if not line:
            continue
        if line.startswith("#"):
            if current is None or current.msgstr:
                begin(number)
            if line.startswith("#,"):
                current.flags.update(flag.strip() for flag in line[2:].split(","))
            continue
        keyword, _, rest = line.partition(" ")
        if keyword in ("msgctxt", "msgid") and (
            current is None or current.msgstr or (keyword == "msgctxt" and current.msgid)
        ):
            begin(number)
        if keyword == "msgctxt":
            current.msgctxt, target = _unquote(rest), ("msgctxt", None)
        elif keyword == "msgid":
            current.msgid, target = _unquote(rest), ("msgid", None)
            current.obsolete = obsolete
        elif keyword == "msgid_plural" and current is not None:
            current.msgid_plural, target = _unquote(rest), ("msgid_plural", None)
        elif keyword.startswith("msgstr") and current is not None:
            index = int(keyword[7:-1]) if keyword != "msgstr" else 0
            current.msgstr[index], target = _unquote(rest), ("msgstr", index)
        elif line.startswith('"') and target and current is not None:
            name, index = target
            if name == "msgstr":
                current.msgstr[index] += _unquote(line)
            else:
                setattr(current, name, (getattr(current, name) or "") + _unquote(line))
        else:
            raise ValueError(f"line {number}: cannot read {raw!r}")
    if current is not None and (current.msgid or current.msgstr):
        entries.append(current)
    return entries


def header_plurals(entries: list[Entry]) -> int | None:
    for entry in entries:
        if entry.is_header:
            found = re.search(r"nplurals\s*=\s*(\d+)", entry.msgstr.get(0, ""))
            return int(found.group(1)) if found else None
    return None


def placeholders(text: str, python_format: bool) -> Counter:
    found: Counter = Counter()
    if python_format:
        named = PYTHON_NAMED.findall(text)
        found.update(f"%({name})" for name in named)
        rest = PYTHON_NAMED.sub("", text).replace("%%", "")
        found.update(PYTHON_POSITIONAL.findall(rest))
    found.update(f"{{{name}}}" for name in BRACE.findall(text))
    return found


def tags(text: str) -> Counter:
    return Counter(f"<{close}{name.lower()}>" for close, name, _attrs, _self in TAG.findall(text))


def balanced(text: str) -> bool:
    stack: list[str] = []
    for close, name, _attrs, self_closing in TAG.findall(text):
        name = name.lower()
        if self_closing or name in VOID:
            continue
        if not close:
            stack.append(name)
        elif not stack or stack.pop() != name:
            return False
    return not stack


def check_entry(entry: Entry, nplurals: int | None) -> list[str]:
    problems = []
    what = entry.short()
    if "fuzzy" in entry.flags:
        problems.append(f"fuzzy (a guess nobody checked): {what}")
    forms = [entry.msgstr.get(i, "") for i in range(max(entry.msgstr, default=0) + 1)]
    if entry.msgid_plural is not None and nplurals is not None and len(forms) != nplurals:
        problems.append(f"{len(forms)} plural forms, the language has {nplurals}: {what}")
    if not forms or any(not form for form in forms):
        problems.append(f"not translated: {what}")
        return problems
    # %-placeholders where gettext says the message is formatted so; {name} always (the
    # templates' messages for JavaScript use them).
    python_format = "python-format" in entry.flags
    source = placeholders(entry.msgid, python_format)
    if entry.msgid_plural is None:
        if placeholders(forms[0], python_format) != source:
            problems.append(
                f"placeholders differ ({_list(source)} → "
                f"{_list(placeholders(forms[0], python_format))}): {what}"
            )
    else:
        allowed = source | placeholders(entry.msgid_plural, python_format)
        for index, form in enumerate(forms):
            extra = set(placeholders(form, python_format)) - set(allowed)
            if extra:
                problems.append(f"plural form {index} brings {_list(extra)}: {what}")
        others = set(allowed) - {p for form in forms for p in placeholders(form, python_format)}
        if others:
            problems.append(f"placeholders missing from every form ({_list(others)}): {what}")
    for index, form in enumerate(forms):
        if tags(form) != tags(entry.msgid) and (
            entry.msgid_plural is None or tags(form) != tags(entry.msgid_plural)
        ):
            problems.append(f"HTML tags differ in form {index}: {what}")
        elif not balanced(form) and balanced(entry.msgid):
            problems.append(f"HTML tags not balanced in form {index}: {what}")
    return problems


def _list(items) -> str:
    return ", ".join(sorted(items)) or "none"


def check_file(path: Path, language: str) -> list[str]:
    where = os.path.relpath(path)
    try:
        entries = parse_po(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError, SyntaxError) as exc:
        return [f"{where}: cannot read: {exc}"]
    problems = []
    nplurals = header_plurals(entries)
    base = language.split("_")[0].split("-")[0]
    accepted = PLURAL_FORMS_ACCEPTED.get(base) or (
        {PLURAL_FORMS[base]} if base in PLURAL_FORMS else None
    )
    if nplurals is None:
        problems.append(f"{where}: no Plural-Forms in the header")
    elif accepted and nplurals not in accepted:
        expected = " or ".join(str(n) for n in sorted(accepted))
        problems.append(f"{where}: Plural-Forms says {nplurals} forms, {language} has {expected}")
    for entry in entries:
        if entry.is_header or entry.obsolete:
            continue
        problems.extend(f"{where}:{entry.line}: {p}" for p in check_entry(entry, nplurals))
    compiled = subprocess.run(
        ["msgfmt", "--check-format", "-o", os.devnull, str(path)],
        capture_output=True,
        text=True,
        check=False,
    )
    if compiled.returncode != 0:
        problems.extend(f"msgfmt: {line}" for line in compiled.stderr.splitlines() if line.strip())
    return problems


def shipped_languages() -> list[str]:
    sys.path.insert(0, str(BASE_DIR))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.base")
    from django.conf import settings

    return [code for code, _name in settings.LANGUAGES if code != settings.LANGUAGE_CODE]


def to_locale(language: str) -> str:
    lang, _, country = language.partition("-")
    if not country:
        return lang
    return f"{lang}_{country.upper() if len(country) <= 2 else country.title()}"


def check(locale_dir: Path, languages: list[str]) -> list[str]:
    problems = []
    for language in languages:
        for domain in DOMAINS:
            path = locale_dir / to_locale(language) / "LC_MESSAGES" / f"{domain}.po"
            if path.exists():
                problems.extend(check_file(path, language))
            elif domain in REQUIRED_DOMAINS:
                problems.append(f"{os.path.relpath(path)}: missing (run `make messages`)")
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("languages", nargs="*", help="default: settings.LANGUAGES but English")
    parser.add_argument("--locale-dir", type=Path, default=BASE_DIR / "locale")
    args = parser.parse_args(argv)
    languages = args.languages or shipped_languages()
    problems = check(args.locale_dir, languages)
    for problem in problems:
        print(problem)
    if problems:
        print(f"{len(problems)} problem(s) in the translations of {', '.join(languages)}.")
        return 1
    print(f"Translations complete: {', '.join(languages)}.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
