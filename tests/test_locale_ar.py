"""The Arabic translation (issue 18, item 1): complete, six plural forms, placeholders and
HTML kept, and the pages and forms actually shown in Arabic.

The .mo files are built, not committed (`manage.py compilemessages`, run by make test)."""

from __future__ import annotations

import re
from pathlib import Path

import polib
import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import translation

LOCALE = Path(settings.BASE_DIR) / "locale" / "ar" / "LC_MESSAGES"
PLURAL_FORMS = (
    "nplurals=6; plural=n==0 ? 0 : n==1 ? 1 : n==2 ? 2 : "
    "n%100>=3 && n%100<=10 ? 3 : n%100>=11 ? 4 : 5;"
)
PLACEHOLDER = re.compile(r"%\(\w+\)[sd]|%[sd%]|\{\w+\}")
TAG = re.compile(r"</?([a-zA-Z][a-zA-Z0-9]*)")
ARABIC = re.compile(r"[\u0600-\u06ff]")
# Kept in Latin letters on purpose: paper sizes, formats, a file name; only quotes around a name.
SAME_IN_ARABIC = {
    "A4",
    "US Letter",
    "PDF",
    "Webhook",
    "Webhooks",
    "countersign-receipt",
    "“%(field)s”",
}


def catalogue(name: str) -> polib.POFile:
    return polib.pofile(str(LOCALE / name))


@pytest.mark.parametrize("name", ["django.po", "djangojs.po"])
def test_the_arabic_catalogues_have_the_six_plural_forms(name):
    po = catalogue(name)
    assert po.metadata["Plural-Forms"].replace("\n", "") == PLURAL_FORMS
    assert po.metadata["Language"] == "ar"
    assert not po.metadata_is_fuzzy


def test_every_message_is_translated_with_its_placeholders_and_tags():
    po = catalogue("django.po")
    assert len(po) > 800  # the whole interface, not a sample
    problems = []
    for entry in po:
        if entry.obsolete:
            continue
        name = entry.msgid[:60]
        if "fuzzy" in entry.flags:
            problems.append(f"fuzzy: {name}")
        if entry.msgid_plural:
            forms = [entry.msgstr_plural.get(i, "") for i in range(6)]
            wanted = set(PLACEHOLDER.findall(entry.msgid)) | set(
                PLACEHOLDER.findall(entry.msgid_plural)
            )
            for i, form in enumerate(forms):
                if not form:
                    problems.append(f"plural form {i} missing: {name}")
                elif set(PLACEHOLDER.findall(form)) != wanted:
                    problems.append(f"placeholders of form {i}: {name}")
            texts = forms
        else:
            if not entry.msgstr:
                problems.append(f"untranslated: {name}")
            elif sorted(PLACEHOLDER.findall(entry.msgstr)) != sorted(
                PLACEHOLDER.findall(entry.msgid)
            ):
                problems.append(f"placeholders: {name}")
            texts = [entry.msgstr]
        for text in texts:
            if TAG.findall(text) != TAG.findall(entry.msgid):
                problems.append(f"HTML tags: {name}")
            if text and not ARABIC.search(text) and entry.msgid not in SAME_IN_ARABIC:
                problems.append(f"no Arabic in the translation: {name}")
    assert problems == []


@pytest.fixture
def arabic_mo():
    mo, po = LOCALE / "django.mo", LOCALE / "django.po"
    if not mo.exists() or mo.stat().st_mtime < po.stat().st_mtime:
        pytest.fail(
            "locale/ar/LC_MESSAGES/django.mo is missing or stale: manage.py compilemessages"
        )
    with translation.override("ar"):
        yield


@pytest.mark.parametrize(
    ("n", "expected"),
    [
        (0, "0 رمز"),
        (1, "1 رمز"),
        (2, "2 رمزان"),
        (3, "3 رموز"),
        (11, "11 رمزًا"),
        (100, "100 رمز"),
        (103, "103 رموز"),
        (111, "111 رمزًا"),
    ],
)
def test_arabic_counts_take_the_right_plural_form(arabic_mo, n, expected):
    assert translation.ngettext("%(n)s code", "%(n)s codes", n) % {"n": n} == expected


def test_help_texts_with_a_number_follow_the_language_of_the_request(arabic_mo):
    from organizing.flyers.forms import FlyerForm
    from organizing.forms import CodeBatchForm
    from petition.models import CODE_BATCH_MIN_SIZE

    codes = str(CodeBatchForm.base_fields["size"].help_text)
    assert ARABIC.search(codes) and str(CODE_BATCH_MIN_SIZE) in codes
    assert ARABIC.search(str(FlyerForm.base_fields["copies"].help_text))
    with translation.override("en"):
        assert str(CodeBatchForm.base_fields["size"].help_text).startswith(
            f"At least {CODE_BATCH_MIN_SIZE}, so that"
        )


def test_the_petition_state_changes_are_worded_in_arabic(arabic_mo):
    from organizing.views.code_batches import CODES_ALREADY_MADE
    from organizing.views.petitions import TRANSITIONS

    assert str(TRANSITIONS["publish"]["title"]) == "نشر هذه العريضة؟"
    for transition in TRANSITIONS.values():
        for key in ("title", "explain", "permanent", "button", "done"):
            assert ARABIC.search(str(transition[key])), (key, transition[key])
    assert ARABIC.search(str(CODES_ALREADY_MADE))


@pytest.mark.django_db
def test_a_signer_whose_browser_asks_for_arabic_reads_the_petition_page_in_arabic(
    arabic_mo, client, published_petition
):
    url = reverse("petition:detail", kwargs={"slug": published_petition.slug})
    response = client.get(url, HTTP_ACCEPT_LANGUAGE="ar")
    assert response.status_code == 200
    page = response.content.decode()
    assert '<html lang="ar"' in page
    assert "وقّع هذه العريضة" in page and "Sign this petition" not in page
    assert not response.cookies  # the language is not remembered


@pytest.mark.django_db
def test_the_count_words_the_script_rewrites_carry_all_six_arabic_forms(
    arabic_mo, client, published_petition
):
    url = reverse("petition:detail", kwargs={"slug": published_petition.slug})
    page = client.get(url, HTTP_ACCEPT_LANGUAGE="ar").content.decode()
    remaining = re.search(r"<p class=\"remaining\" data-remaining(.*?)>", page, re.S).group(1)
    forms = dict(re.findall(r'data-(zero|one|two|few|many|other)="([^"]*)"', remaining))
    assert forms["few"] == "بقيت {n} توقيعات لبلوغ الهدف"
    assert forms["many"] == "بقي {n} توقيعًا لبلوغ الهدف"
    assert forms["two"] == "بقي توقيعان ({n}) لبلوغ الهدف"
    assert len(forms) == 6  # zero and other read the same in Arabic: "بقي 100 توقيع"
