"""Petitions in several languages: the table's constraints, the selector that returns one
whole text, the services' rules (own language, hidden controls, fixed once open, audit),
the public page in each language and the API."""

from __future__ import annotations

import html
import re

import pytest
import yaml
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse
from jsonschema import Draft202012Validator

from organizing.demo import seed_demo
from organizing.models import AuditAction, AuditEntry
from petition import selectors, services
from petition.models import Petition, PetitionTranslation
from petition.selectors import PetitionText, petition_text
from tests.factories import PetitionFactory

pytestmark = pytest.mark.django_db

SPANISH = {
    "title": "Paremos la fábrica de datos",
    "summary": "Apaguen el programa que graba nuestras teclas.",
    "demands": "1. **Apaguen** el programa.\n2. Borren las grabaciones.",
    "addressed_to": "La dirección de la empresa",
}


def _translate(petition, language="es", **fields):
    return PetitionTranslation.objects.create(
        petition=petition, language=language, **{**SPANISH, **fields}
    )


def _text(response) -> str:
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", response.content.decode())).split())


# --- the table -----------------------------------------------------------------------------


def test_a_petition_has_a_language_and_it_defaults_to_english(draft_petition):
    assert draft_petition.language == "en"
    assert Petition.objects.get(pk=draft_petition.pk).language == "en"


def test_the_database_refuses_a_petition_language_the_site_does_not_ship(draft_petition):
    with pytest.raises(IntegrityError), transaction.atomic():
        Petition.objects.filter(pk=draft_petition.pk).update(language="fr")


def test_the_database_refuses_a_second_translation_in_one_language(draft_petition):
    _translate(draft_petition)
    with pytest.raises(IntegrityError), transaction.atomic():
        _translate(draft_petition)


def test_the_database_refuses_an_unknown_language(draft_petition):
    with pytest.raises(IntegrityError), transaction.atomic():
        _translate(draft_petition, language="fr")


@pytest.mark.parametrize("field", ["title", "demands", "addressed_to"])
def test_the_database_refuses_an_empty_title_demands_or_addressee(draft_petition, field):
    with pytest.raises(IntegrityError), transaction.atomic():
        _translate(draft_petition, **{field: ""})


def test_an_empty_summary_is_allowed(draft_petition):
    assert _translate(draft_petition, summary="").summary == ""


# --- the selector --------------------------------------------------------------------------


def test_the_text_in_a_translated_language_is_the_translation_whole(draft_petition):
    _translate(draft_petition)
    assert petition_text(draft_petition, "es") == PetitionText(
        language="es", is_translation=True, **SPANISH
    )


def test_the_text_in_the_petitions_own_language_is_the_original(draft_petition):
    _translate(draft_petition)
    text = petition_text(draft_petition, "en")
    assert (text.title, text.language, text.is_translation) == (draft_petition.title, "en", False)


def test_without_a_translation_the_original_comes_whole(draft_petition):
    _translate(draft_petition)
    text = petition_text(draft_petition, "ar")
    assert text == PetitionText(
        title=draft_petition.title,
        summary=draft_petition.summary,
        demands=draft_petition.demands,
        addressed_to=draft_petition.addressed_to,
        language="en",
        is_translation=False,
    )


def test_a_translation_without_a_summary_never_borrows_the_originals(draft_petition):
    """No mixing: the Spanish page shows no English summary under a Spanish title."""
    assert draft_petition.summary
    _translate(draft_petition, summary="")
    text = petition_text(draft_petition, "es")
    assert text.summary == ""
    assert text.title == SPANISH["title"]


def test_the_languages_a_petition_reads_in_start_with_its_own(campaign):
    petition = PetitionFactory(campaign=campaign, language="es")
    _translate(petition, language="ar")
    _translate(petition, language="en")
    assert selectors.petition_text_languages(petition) == ["es", "en", "ar"]


# --- the services --------------------------------------------------------------------------


def test_adding_a_translation_records_it_in_the_audit_log(draft_petition, organizer):
    services.petition_translation_create(
        petition=draft_petition, language="es", actor=organizer, **SPANISH
    )
    entry = AuditEntry.objects.get(action=AuditAction.PETITION_TRANSLATION_ADD)
    assert (entry.actor, entry.object_id, entry.details) == (
        organizer,
        str(draft_petition.pk),
        {"language": "es"},
    )


def test_a_translation_in_the_petitions_own_language_is_refused(draft_petition):
    with pytest.raises(ValidationError) as refused:
        services.petition_translation_create(petition=draft_petition, language="en", **SPANISH)
    assert "language" in refused.value.error_dict
    assert not PetitionTranslation.objects.exists()


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("title", "Paremos \u202eal revés"),
        ("summary", "Resumen\u2066oculto"),
        ("addressed_to", "La dirección\nde la empresa"),
        ("demands", "Exigimos\u202d algo"),
    ],
)
def test_hidden_control_characters_are_refused(draft_petition, field, value):
    with pytest.raises(ValidationError) as refused:
        services.petition_translation_create(
            petition=draft_petition, language="es", **{**SPANISH, field: value}
        )
    assert field in refused.value.error_dict
    assert not PetitionTranslation.objects.exists()


def test_demands_may_have_lines_and_arabic_joiners(draft_petition):
    row = services.petition_translation_create(
        petition=draft_petition,
        language="ar",
        **{**SPANISH, "demands": "1. أوقفوا\u200c البرنامج.\r\n2. احذفوا التسجيلات."},
    )
    assert row.pk


def test_a_language_with_a_translation_cannot_become_the_petitions_own(draft_petition):
    _translate(draft_petition)
    with pytest.raises(ValidationError) as refused:
        services.petition_update(petition=draft_petition, language="es")
    assert "language" in refused.value.error_dict
    assert Petition.objects.get(pk=draft_petition.pk).language == "en"


def test_a_drafts_translation_may_change_whole_and_be_deleted(draft_petition, organizer):
    row = _translate(draft_petition)
    services.petition_translation_update(
        translation=row, actor=organizer, **{**SPANISH, "title": "Otro título"}
    )
    assert PetitionTranslation.objects.get(pk=row.pk).title == "Otro título"
    update = AuditEntry.objects.get(action=AuditAction.PETITION_TRANSLATION_UPDATE)
    assert update.details == {"fields": ["title"], "language": "es"}
    services.petition_translation_delete(translation=row, actor=organizer)
    assert not PetitionTranslation.objects.exists()
    assert AuditEntry.objects.filter(action=AuditAction.PETITION_TRANSLATION_DELETE).count() == 1


def test_once_open_a_translation_keeps_its_signed_words_but_may_be_added(open_petition, organizer):
    """Like the original: signers read the title, demands and addressee before signing."""
    row = services.petition_translation_create(
        petition=open_petition, language="ar", actor=organizer, **SPANISH
    )
    for field in ("title", "demands", "addressed_to"):
        with pytest.raises(services.TransitionError):
            services.petition_translation_update(
                translation=row, actor=organizer, **{**SPANISH, field: "Cambiado"}
            )
    services.petition_translation_update(
        translation=row, actor=organizer, **{**SPANISH, "summary": "Un resumen mejor."}
    )
    with pytest.raises(services.TransitionError):
        services.petition_translation_delete(translation=row, actor=organizer)
    assert PetitionTranslation.objects.get(pk=row.pk).summary == "Un resumen mejor."
    assert PetitionTranslation.objects.get(pk=row.pk).title == SPANISH["title"]


def test_the_petitions_language_is_fixed_once_open(open_petition):
    with pytest.raises(services.TransitionError):
        services.petition_update(petition=open_petition, language="es")


# --- the public page -----------------------------------------------------------------------


def _page(client, petition, prefix=""):
    response = client.get(f"{prefix}/p/{petition.slug}/")
    assert response.status_code == 200
    assert not response.cookies
    return response


def test_the_spanish_page_shows_the_spanish_translation_whole(client, published_petition):
    _translate(published_petition)
    response = _page(client, published_petition, "/es")
    page = response.content.decode()
    assert f'<h1 dir="auto" lang="es">{SPANISH["title"]}</h1>' in page
    assert f'<p class="lead" dir="auto" lang="es">{SPANISH["summary"]}</p>' in page
    assert '<div dir="auto" lang="es"><ol>' in page
    assert "<strong>Apaguen</strong>" in page
    assert f'<bdi lang="es">{SPANISH["addressed_to"]}</bdi>' in page
    # Nothing of the English text of the petition on the Spanish page.
    for english in (published_petition.title, published_petition.summary, "the recordings"):
        assert english not in _text(response)
    # The way back to the original, in its own language's name and address.
    assert (
        f'<span class="also-in">También en: <a href="/en/p/{published_petition.slug}/" '
        'hreflang="en" lang="en" dir="ltr" translate="no" data-keep-hash>English</a></span>'
    ) in page


def test_the_english_page_shows_the_original_and_offers_the_translations(
    client, published_petition
):
    _translate(published_petition)
    _translate(published_petition, language="ar", title="أوقفوا مصنع البيانات")
    page = _page(client, published_petition).content.decode()
    assert f'<h1 dir="auto" lang="en">{published_petition.title}</h1>' in page
    assert SPANISH["title"] not in page
    assert (
        f'Also in: <a href="/es/p/{published_petition.slug}/" hreflang="es" lang="es" dir="ltr" '
        f'translate="no" data-keep-hash>Español</a> · '
        f'<a href="/ar/p/{published_petition.slug}/" hreflang="ar" '
        f'lang="ar" dir="rtl" translate="no" data-keep-hash>العربية</a>'
    ) in page
    assert "written-in" not in page


def test_a_page_language_without_a_translation_shows_the_original_and_says_its_language(
    client, published_petition
):
    _translate(published_petition)
    response = _page(client, published_petition, "/ar")
    page = response.content.decode()
    assert f'<h1 dir="auto" lang="en">{published_petition.title}</h1>' in page
    assert '<div dir="auto" lang="en">' in page
    assert SPANISH["title"] not in page
    # "This petition is written in English." in Arabic, and the Spanish one offered.
    assert '<span class="written-in">هذه العريضة مكتوبة بالإنجليزية.</span>' in page
    assert f'href="/es/p/{published_petition.slug}/" hreflang="es"' in page


def test_without_translations_the_page_says_nothing_about_languages(client, published_petition):
    page = _page(client, published_petition).content.decode()
    assert "also-in" not in page and "written-in" not in page


def test_counts_keys_and_entries_are_the_same_in_every_language(client, open_petition):
    _translate(open_petition)
    pages = [_page(client, open_petition, prefix).content.decode() for prefix in ("", "/es")]
    for pattern in (
        r"<code>[0-9a-f ]+</code>",
        r"data-count-level=\"\w+\">[^<]*<",
        r"data-goal=\"\d+\"",
    ):
        assert re.findall(pattern, pages[0]) == re.findall(pattern, pages[1]), pattern
        assert re.findall(pattern, pages[0]), pattern


# --- the API -------------------------------------------------------------------------------


def test_the_api_names_the_language_and_gives_each_translation_whole(client, published_petition):
    _translate(published_petition)
    body = client.get(reverse("petition:api_petition", args=[published_petition.slug])).json()
    assert body["title"] == published_petition.title
    assert body["language"] == "en"
    assert body["translations"] == {"es": SPANISH}


def test_the_api_answer_matches_the_documented_schema(client, published_petition):
    _translate(published_petition)
    _translate(published_petition, language="ar", summary="")
    document = yaml.safe_load((settings.BASE_DIR / "docs" / "openapi.yaml").read_text())
    schema = {"$ref": "#/components/schemas/Petition", "components": document["components"]}
    body = client.get(reverse("petition:api_petition", args=[published_petition.slug])).json()
    Draft202012Validator(schema).validate(body)
    # The schema would refuse a translation keyed by a language the site does not ship.
    body["translations"]["fr"] = body["translations"]["es"]
    assert not Draft202012Validator(schema).is_valid(body)


def test_the_api_is_the_same_in_every_page_language(client, published_petition):
    _translate(published_petition)
    url = reverse("petition:api_petition", args=[published_petition.slug])
    english = client.get(url).json()
    assert client.get(url, HTTP_ACCEPT_LANGUAGE="es").json() == english
    assert client.get(url, HTTP_ACCEPT_LANGUAGE="ar").json()["title"] == published_petition.title


def test_the_api_gives_an_empty_map_without_translations(client, published_petition):
    body = client.get(reverse("petition:api_petition", args=[published_petition.slug])).json()
    assert body["translations"] == {}


# --- the demo ------------------------------------------------------------------------------


def test_the_demo_petition_reads_in_spanish_and_arabic(client):
    petition, _accounts = seed_demo()
    seed_demo()  # a second run adds nothing
    assert sorted(petition.translations.values_list("language", flat=True)) == ["ar", "es"]
    spanish = _page(client, petition, "/es").content.decode()
    assert (
        '<h1 dir="auto" lang="es">Alto a la fábrica de extracción de datos del personal' in spanish
    )
    arabic = _page(client, petition, "/ar").content.decode()
    assert '<h1 dir="auto" lang="ar">أوقفوا مصنع استخراج بيانات الموظفين</h1>' in arabic
    assert "<strong>حذف كل التسجيلات</strong>" in arabic


def test_the_spanish_page_of_an_untranslated_petition_says_it_is_in_english(
    client, published_petition
):
    page = _page(client, published_petition, "/es").content.decode()
    assert '<span class="written-in">Esta petición está escrita en inglés.</span>' in page
    assert "also-in" not in page
