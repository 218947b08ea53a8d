"""scripts/translations_check.py, fed good and bad catalogues (issue 18, item 6)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from scripts import translations_check as tc

ROOT = Path(__file__).resolve().parents[2]

HEADERS = {
    "es": "nplurals=3; plural=n == 1 ? 0 : n != 0 && n % 1000000 == 0 ? 1 : 2;",
    "ar": (
        "nplurals=6; plural=n==0 ? 0 : n==1 ? 1 : n==2 ? 2 : n%100>=3 && n%100<=10 ? 3 "
        ": n%100>=11 && n%100<=99 ? 4 : 5;"
    ),
}

GOOD_ES = """
msgid "Sign the petition"
msgstr "Firma la petición"

#, python-format
msgid "%(count)s people signed <strong>%(title)s</strong>"
msgstr "%(count)s personas firmaron <strong>%(title)s</strong>"

msgid "Public from {date}"
msgstr "Pública desde el {date}"

#, python-format
msgid "%(n)s signature"
msgid_plural "%(n)s signatures"
msgstr[0] "%(n)s firma"
msgstr[1] "%(n)s de firmas"
msgstr[2] "%(n)s firmas"

msgctxt "noun"
msgid "Code"
msgstr "Código"

#~ msgid "Old and gone"
#~ msgstr ""
"""

GOOD_AR = """
#, python-format
msgid "%(n)s signature"
msgid_plural "%(n)s signatures"
msgstr[0] "لا توقيعات"
msgstr[1] "توقيع واحد"
msgstr[2] "توقيعان"
msgstr[3] "%(n)s توقيعات"
msgstr[4] "%(n)s توقيعًا"
msgstr[5] "%(n)s توقيع"
"""


def catalogue(language: str, body: str, plural: str | None = None) -> str:
    forms = plural if plural is not None else HEADERS[language]
    return (
        'msgid ""\nmsgstr ""\n"Content-Type: text/plain; charset=UTF-8\\n"\n'
        f'"Language: {language}\\n"\n"Plural-Forms: {forms}\\n"\n' + body
    )


def write(tmp_path: Path, language: str, body: str, *, domain="django", plural=None) -> Path:
    folder = tmp_path / language / "LC_MESSAGES"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{domain}.po"
    path.write_text(catalogue(language, body, plural), encoding="utf-8")
    return path


def problems_with(tmp_path, language, body, **kwargs) -> list[str]:
    write(tmp_path, language, body, **kwargs)
    return tc.check(tmp_path, [language])


def test_complete_catalogues_pass(tmp_path):
    write(tmp_path, "es", GOOD_ES)
    write(tmp_path, "es", GOOD_ES, domain="djangojs")
    write(tmp_path, "ar", GOOD_AR)
    assert tc.check(tmp_path, ["es", "ar"]) == []


def test_an_untranslated_message_is_named(tmp_path):
    problems = problems_with(tmp_path, "es", GOOD_ES + '\nmsgid "Withdraw"\nmsgstr ""\n')
    assert len(problems) == 1
    assert "not translated: 'Withdraw'" in problems[0]
    assert "django.po:" in problems[0]


def test_a_missing_plural_form_is_caught(tmp_path):
    body = GOOD_AR.replace('msgstr[5] "%(n)s توقيع"\n', "")
    problems = problems_with(tmp_path, "ar", body)
    assert any("5 plural forms, the language has 6" in p for p in problems), problems


def test_an_empty_plural_form_is_caught(tmp_path):
    body = GOOD_AR.replace('msgstr[4] "%(n)s توقيعًا"', 'msgstr[4] ""')
    assert any("not translated" in p for p in problems_with(tmp_path, "ar", body))


def test_arabic_needs_six_forms_in_the_header(tmp_path):
    problems = problems_with(tmp_path, "ar", "", plural="nplurals=2; plural=(n != 1);")
    assert any("Plural-Forms says 2 forms, ar has 6" in p for p in problems), problems


def test_fuzzy_entries_fail(tmp_path):
    body = '#, fuzzy\nmsgid "Receipt"\nmsgstr "Recibo"\n'
    problems = problems_with(tmp_path, "es", body)
    assert any("fuzzy" in p and "'Receipt'" in p for p in problems), problems


@pytest.mark.parametrize(
    ("msgid", "msgstr"),
    [
        ("%(count)s signed", "%(total)s firmaron"),  # renamed
        ("%(count)s signed", "firmaron"),  # dropped
        ("%(a)s and %(b)s", "%(a)s y %(a)s"),  # one twice, one gone
        ("%s signed", "%d firmaron"),  # other conversion
    ],
)
def test_python_placeholders_must_match(tmp_path, msgid, msgstr):
    body = f'#, python-format\nmsgid "{msgid}"\nmsgstr "{msgstr}"\n'
    problems = problems_with(tmp_path, "es", body)
    assert any("placeholders differ" in p or "msgfmt" in p for p in problems), problems


def test_brace_placeholders_must_match(tmp_path):
    body = 'msgid "Public in batches of {k} from {date}"\nmsgstr "Pública en lotes desde {fecha}"\n'
    problems = problems_with(tmp_path, "es", body)
    assert any("placeholders differ ({date}, {k} → {fecha})" in p for p in problems), problems


def test_a_plural_form_may_spell_the_number_but_not_add_a_placeholder(tmp_path):
    assert problems_with(tmp_path, "ar", GOOD_AR) == []
    body = GOOD_AR.replace('msgstr[2] "توقيعان"', 'msgstr[2] "%(title)s توقيعان"')
    problems = problems_with(tmp_path, "ar", body)
    assert any("plural form 2 brings %(title)" in p for p in problems), problems


@pytest.mark.parametrize(
    "msgstr",
    [
        "Lee <a href='/x'>las reglas</a",  # tag cut
        "Lee <em>las reglas</em>",  # another tag
        "Lee las reglas",  # tag dropped
        "Lee </a>las reglas<a href='/x'>",  # order broken
    ],
)
def test_html_in_the_translation_must_match_the_message(tmp_path, msgstr):
    body = f'msgid "Read <a href=\'/x\'>the rules</a>"\nmsgstr "{msgstr}"\n'
    problems = problems_with(tmp_path, "es", body)
    assert any("HTML tags" in p for p in problems), problems


def test_msgfmt_check_format_runs(tmp_path):
    # A c-format message whose translation drops its %d: only msgfmt knows C's rules.
    body = '#, c-format\nmsgid "%d left"\nmsgstr "quedan"\n'
    problems = problems_with(tmp_path, "es", body)
    assert any(p.startswith("msgfmt:") for p in problems), problems


def test_a_missing_catalogue_is_reported(tmp_path):
    problems = tc.check(tmp_path, ["ar"])
    assert problems == [
        f"{tc.os.path.relpath(tmp_path / 'ar/LC_MESSAGES/django.po')}: "
        "missing (run `make messages`)"
    ]


def test_an_unreadable_catalogue_is_reported(tmp_path):
    path = write(tmp_path, "es", GOOD_ES)
    path.write_text(path.read_text() + "\nthis is not gettext\n")
    assert any("cannot read" in p for p in tc.check(tmp_path, ["es"]))


def test_multiline_strings_are_joined():
    entries = tc.parse_po(
        'msgid ""\nmsgstr ""\n"Plural-Forms: nplurals=2;\\n"\n\n'
        '#, python-format\nmsgid ""\n"Hello "\n"%(name)s"\nmsgstr ""\n"Hola "\n"%(name)s"\n'
    )
    assert tc.header_plurals(entries) == 2
    assert (entries[1].msgid, entries[1].msgstr[0]) == ("Hello %(name)s", "Hola %(name)s")
    assert entries[1].flags == {"python-format"}


def test_the_command_exits_1_and_names_the_problem(tmp_path):
    write(tmp_path, "es", '#, fuzzy\nmsgid "Receipt"\nmsgstr "Recibo"\n')
    result = subprocess.run(
        [sys.executable, "scripts/translations_check.py", "--locale-dir", str(tmp_path), "es"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 1
    assert "fuzzy" in result.stdout and "1 problem(s)" in result.stdout
    write(tmp_path, "es", GOOD_ES)
    result = subprocess.run(
        [sys.executable, "scripts/translations_check.py", "--locale-dir", str(tmp_path), "es"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout
