"""The organizers' pages for a petition's translations, at the HTTP boundary: add (only the
languages still missing), edit, delete, clear errors, audit log, and who may do it."""

from __future__ import annotations

import html
import re

import pytest
from django.urls import reverse

from organizing.models import AuditAction, AuditEntry
from petition.models import Petition, PetitionTranslation
from tests.factories import form_key

pytestmark = pytest.mark.django_db

SPANISH = {
    "title": "Paremos la fábrica de datos",
    "summary": "Apaguen el programa.",
    "demands": "1. Apaguen el programa.\r\n2. Borren las grabaciones.",
    "addressed_to": "La dirección de la empresa",
}


def _text(response) -> str:
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", response.content.decode())).split())


def _add_url(petition) -> str:
    return reverse("staff:petition_translation_create", kwargs={"slug": petition.slug})


def _edit_url(petition, language="es") -> str:
    return reverse(
        "staff:petition_translation_edit", kwargs={"slug": petition.slug, "language": language}
    )


def _delete_url(petition, language="es") -> str:
    return reverse(
        "staff:petition_translation_delete", kwargs={"slug": petition.slug, "language": language}
    )


def _add(client, petition, language="es", **fields):
    return client.post(
        _add_url(petition), {"language": language, **SPANISH, **fields, "form_key": form_key()}
    )


def test_an_organizer_adds_a_translation_and_sees_it_on_the_petitions_page(
    client, organizer, draft_petition
):
    client.force_login(organizer)
    response = _add(client, draft_petition)
    assert response.status_code == 302
    assert response["Location"].endswith("#translations")
    row = PetitionTranslation.objects.get(petition=draft_petition)
    assert (row.language, row.title, row.demands) == ("es", SPANISH["title"], SPANISH["demands"])
    entry = AuditEntry.objects.get(action=AuditAction.PETITION_TRANSLATION_ADD)
    assert entry.actor == organizer and entry.details == {"language": "es"}
    page = client.get(reverse("staff:petition", kwargs={"slug": draft_petition.slug}))
    assert f'<bdi lang="es">{SPANISH["title"]}</bdi>' in page.content.decode()
    assert _edit_url(draft_petition) in page.content.decode()


def test_the_language_choice_lists_only_missing_languages(client, organizer, draft_petition):
    client.force_login(organizer)
    choices = re.findall(
        r'<option value="(\w*)"', client.get(_add_url(draft_petition)).content.decode()
    )
    assert choices == ["es", "ar"]  # not English, the petition's own
    _add(client, draft_petition)
    choices = re.findall(
        r'<option value="(\w*)"', client.get(_add_url(draft_petition)).content.decode()
    )
    assert choices == ["ar"]


def test_with_every_language_translated_the_add_page_goes_back(client, organizer, draft_petition):
    client.force_login(organizer)
    _add(client, draft_petition)
    _add(client, draft_petition, language="ar")
    assert PetitionTranslation.objects.filter(petition=draft_petition).count() == 2
    response = client.get(_add_url(draft_petition))
    assert response.status_code == 302
    page = client.get(reverse("staff:petition", kwargs={"slug": draft_petition.slug}))
    assert _add_url(draft_petition) not in page.content.decode()


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"language": "en"}, "language", "Select a valid choice"),
        ({"language": "fr"}, "language", "Select a valid choice"),
        ({"title": ""}, "title", "This field is required"),
        ({"title": "x" * 161}, "title", "Use at most 160 characters; this has 161."),
        ({"demands": "x" * 20_001}, "demands", "Use at most 20000 characters"),
        ({"addressed_to": "HR\u202e"}, "addressed_to", "Remove the invisible control characters"),
        ({"title": "a\x00b"}, "title", "Null characters are not allowed"),
    ],
)
def test_bad_input_is_a_form_error_and_changes_nothing(
    client, organizer, draft_petition, fields, field, message
):
    client.force_login(organizer)
    response = _add(client, draft_petition, **fields)
    assert response.status_code == 200
    assert message in " ".join(response.context["form"].errors[field])
    assert message.split(";")[0] in _text(response)
    assert not PetitionTranslation.objects.exists()
    assert not AuditEntry.objects.filter(action=AuditAction.PETITION_TRANSLATION_ADD).exists()


def test_sending_the_form_twice_adds_one_translation(client, organizer, draft_petition):
    client.force_login(organizer)
    data = {"language": "es", **SPANISH, "form_key": form_key()}
    first = client.post(_add_url(draft_petition), data)
    second = client.post(_add_url(draft_petition), data)
    assert first["Location"] == second["Location"]
    assert PetitionTranslation.objects.count() == 1


def test_an_organizer_edits_a_drafts_translation(client, organizer, draft_petition):
    client.force_login(organizer)
    _add(client, draft_petition)
    response = client.post(_edit_url(draft_petition), {**SPANISH, "title": "Nuevo título"})
    assert response.status_code == 302
    assert PetitionTranslation.objects.get().title == "Nuevo título"
    entry = AuditEntry.objects.get(action=AuditAction.PETITION_TRANSLATION_UPDATE)
    assert entry.details == {"fields": ["title"], "language": "es"}


def test_editing_with_a_hidden_control_is_refused(client, organizer, draft_petition):
    client.force_login(organizer)
    _add(client, draft_petition)
    response = client.post(_edit_url(draft_petition), {**SPANISH, "demands": "Exigimos\u2067"})
    assert response.status_code == 200
    assert "Remove the invisible control characters" in _text(response)
    assert PetitionTranslation.objects.get().demands == SPANISH["demands"]


def test_once_open_the_signed_words_of_a_translation_are_fixed_on_the_form(
    client, organizer, open_petition
):
    client.force_login(organizer)
    assert _add(client, open_petition).status_code == 302  # a new language may still come
    page = client.get(_edit_url(open_petition)).content.decode()
    for name in ("title", "demands", "addressed_to"):
        assert re.search(rf'<(?:input|textarea)[^>]*name="{name}"[^>]*disabled', page), name
    # A changed title in the post is ignored (disabled field), the summary is saved.
    response = client.post(
        _edit_url(open_petition), {**SPANISH, "title": "Otro", "summary": "Mejor resumen."}
    )
    assert response.status_code == 302
    row = PetitionTranslation.objects.get()
    assert (row.title, row.summary) == (SPANISH["title"], "Mejor resumen.")


def test_a_drafts_translation_is_deleted_with_a_post(client, organizer, draft_petition):
    client.force_login(organizer)
    _add(client, draft_petition)
    assert client.get(_delete_url(draft_petition)).status_code == 302
    assert PetitionTranslation.objects.exists()  # a GET changes nothing
    response = client.post(_delete_url(draft_petition))
    assert response.status_code == 302
    assert not PetitionTranslation.objects.exists()
    assert AuditEntry.objects.filter(action=AuditAction.PETITION_TRANSLATION_DELETE).count() == 1


def test_an_open_petitions_translation_stays(client, organizer, open_petition):
    client.force_login(organizer)
    _add(client, open_petition)
    response = client.post(_delete_url(open_petition), follow=True)
    assert "people may have signed after reading this translation" in _text(response)
    assert PetitionTranslation.objects.exists()
    assert f'action="{_delete_url(open_petition)}"' not in response.content.decode()


def test_an_unknown_language_is_not_found(client, organizer, draft_petition):
    client.force_login(organizer)
    assert client.get(_edit_url(draft_petition, "ar")).status_code == 404
    assert client.post(_delete_url(draft_petition, "xx")).status_code == 404


def test_a_moderator_sees_the_translations_but_cannot_change_them(
    client, organizer, moderator, draft_petition
):
    client.force_login(organizer)
    _add(client, draft_petition)
    client.force_login(moderator)
    page = client.get(reverse("staff:petition", kwargs={"slug": draft_petition.slug}))
    assert SPANISH["title"] in page.content.decode()
    assert _edit_url(draft_petition) not in page.content.decode()
    assert _add(client, draft_petition, language="ar").status_code == 403
    assert client.post(_edit_url(draft_petition), {**SPANISH, "title": "X"}).status_code == 403
    assert client.post(_delete_url(draft_petition)).status_code == 403
    assert PetitionTranslation.objects.get().title == SPANISH["title"]


def test_an_outsider_learns_nothing(client, organizer, outsider, draft_petition):
    client.force_login(organizer)
    _add(client, draft_petition)
    client.force_login(outsider)
    assert client.get(_edit_url(draft_petition)).status_code == 404
    assert client.post(_delete_url(draft_petition)).status_code == 404
    assert PetitionTranslation.objects.count() == 1


def test_the_petition_form_chooses_the_petitions_language(client, organizer, campaign):
    client.force_login(organizer)
    response = client.post(
        reverse("staff:petition_create", kwargs={"slug": campaign.slug}),
        {
            "title": "Pausas",
            "demands": "Dos pausas.",
            "addressed_to": "RR. HH.",
            "language": "es",
            "goal": "25",
            "accepts_in_person": "on",
            "form_key": form_key(),
        },
    )
    assert response.status_code == 302
    petition = Petition.objects.get(title="Pausas")
    assert petition.language == "es"
    choices = re.findall(r'<option value="(\w*)"', client.get(_add_url(petition)).content.decode())
    assert choices == ["en", "ar"]


def test_the_audit_log_names_the_language(client, organizer, draft_petition, campaign):
    client.force_login(organizer)
    _add(client, draft_petition, language="ar")
    page = _text(client.get(reverse("staff:audit_log", kwargs={"slug": campaign.slug})))
    assert "Translation added" in page
    assert "Language: العربية" in page
