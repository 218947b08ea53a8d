"""Property tests (hypothesis) for every staff form, through HTTP as an organizer with a
second factor: arbitrary text in every field (any Unicode, control characters, NUL,
surrogate-free huge strings, numbers as text) never raises (no 5xx), and an answer that
shows the form again with errors (invalid input) changed no row of the database."""

from __future__ import annotations

import pytest
from django.apps import apps
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from organizing.models import Role
from petition.models import PetitionKey, PetitionTranslation
from tests.factories import MembershipFactory

pytestmark = pytest.mark.django_db

EXAMPLES = 25

# Hostile but encodable text: anything except lone surrogates (a browser cannot send them).
any_text = st.one_of(
    st.text(st.characters(exclude_categories=["Cs"]), max_size=300),
    st.text(st.characters(codec="utf-8", exclude_categories=["Cs"]), min_size=2000, max_size=6000),
    st.sampled_from(
        [
            "",
            " ",
            "\x00",
            "a\x00b",
            "\u202eevil",
            "0",
            "-1",
            "99999999999999999999999",
            "1e309",
            "NaN",
            "2026-02-30",
            "<script>alert(1)</script>",
            "https://evil.example/",
            "http://127.0.0.1/",
            "x@y",
            "\ufeff",
            "🏳️‍🌈" * 50,
        ]
    ),
)


def row_counts() -> dict[str, int]:
    return {
        model._meta.label: model.objects.count()
        for app in ("petition", "organizing")
        for model in apps.get_app_config(app).get_models()
    }


def form_fields(client, url: str) -> list[str]:
    page = client.get(url)
    assert page.status_code == 200, url
    names = []
    for key in ("form", "flyer_form", "batch_form", "invitation_form", "plan_form"):
        form = page.context.get(key) if page.context else None
        if form is not None and hasattr(form, "fields"):
            names += [form.add_prefix(name) for name in form.fields]
    assert names, f"no form found on {url}"
    return names


def refused(response) -> bool:
    """The page shows a form with errors (a 200 alone is not enough: the webhook page
    answers 200 when it shows a new hook's secret)."""
    if response.status_code != 200 or not response.context:
        return False
    return any(
        getattr(value, "errors", None)
        for context in response.context
        for value in context.flatten().values()
        if hasattr(value, "is_bound") and value.is_bound
    )


def fuzz_form(client, url: str, names: list[str]) -> None:
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(values=st.fixed_dictionaries({}, optional={name: any_text for name in names}))
    def run(values):
        before = row_counts()
        response = client.post(url, values)
        assert response.status_code < 500, (url, values)
        if refused(response):  # the form again, with its errors: nothing written
            assert row_counts() == before, (url, values)

    run()


@pytest.fixture
def organizer_client(client, organizer):
    client.force_login(organizer)
    return client


def test_campaign_create(client, site_organizer):
    client.force_login(site_organizer)
    url = reverse("staff:campaign_create")
    fuzz_form(client, url, form_fields(client, url))


def test_campaign_edit(organizer_client, campaign):
    url = reverse("staff:campaign_edit", kwargs={"slug": campaign.slug})
    fuzz_form(organizer_client, url, form_fields(organizer_client, url))


def test_petition_create(organizer_client, campaign):
    url = reverse("staff:petition_create", kwargs={"slug": campaign.slug})
    fuzz_form(organizer_client, url, form_fields(organizer_client, url))


def test_petition_edit(organizer_client, draft_petition):
    url = reverse("staff:petition_edit", kwargs={"slug": draft_petition.slug})
    fuzz_form(organizer_client, url, form_fields(organizer_client, url))


def test_petition_translation_create(organizer_client, draft_petition):
    url = reverse("staff:petition_translation_create", kwargs={"slug": draft_petition.slug})
    fuzz_form(organizer_client, url, form_fields(organizer_client, url))


def test_petition_translation_edit(organizer_client, draft_petition):
    PetitionTranslation.objects.create(
        petition=draft_petition, language="es", title="Pausas", demands="Dos.", addressed_to="RR"
    )
    url = reverse(
        "staff:petition_translation_edit", kwargs={"slug": draft_petition.slug, "language": "es"}
    )
    fuzz_form(organizer_client, url, form_fields(organizer_client, url))


def test_invitation(organizer_client, campaign):
    url = reverse("staff:invitation_create", kwargs={"slug": campaign.slug})
    fuzz_form(organizer_client, url, ["email", "role", "work_address_ok", "form_token"])


def test_member_role(organizer_client, campaign):
    member = MembershipFactory(campaign=campaign, role=Role.MODERATOR)
    url = reverse("staff:member_role", kwargs={"slug": campaign.slug, "membership_id": member.pk})
    fuzz_form(organizer_client, url, ["role"])


def test_code_batch(organizer_client, open_petition):
    url = reverse("staff:code_batches", kwargs={"slug": open_petition.slug})
    fuzz_form(organizer_client, url, form_fields(organizer_client, url))


def test_flyer_designer(organizer_client, open_petition):
    url = reverse("staff:flyers", kwargs={"slug": open_petition.slug})
    fuzz_form(organizer_client, url, form_fields(organizer_client, url))


def test_webhook(organizer_client, campaign):
    url = reverse("staff:webhooks", kwargs={"slug": campaign.slug})
    fuzz_form(organizer_client, url, form_fields(organizer_client, url))


def test_notification_settings(organizer_client, campaign):
    url = reverse("staff:notification_settings", kwargs={"slug": campaign.slug})
    fuzz_form(organizer_client, url, form_fields(organizer_client, url))


def test_milestone_plan(organizer_client, open_petition):
    url = reverse("staff:petition_milestones", kwargs={"slug": open_petition.slug})
    fuzz_form(organizer_client, url, form_fields(organizer_client, url))


def test_key_invalidation_request(organizer_client, open_petition):
    key = PetitionKey.objects.filter(petition=open_petition).first()
    url = reverse(
        "staff:key_invalidation_request", kwargs={"slug": open_petition.slug, "key_id": key.pk}
    )
    fuzz_form(organizer_client, url, ["reason", "confirm"])


def test_moderation_actions(organizer_client, campaign, open_petition):
    from tests.organizing.test_moderation import sign

    signature = sign(open_petition, comment="A comment to review")
    for name in ("entry_approve", "entry_hide"):
        url = reverse(
            f"staff:{name}", kwargs={"slug": campaign.slug, "review_id": signature.review_id}
        )
        fuzz_form(organizer_client, url, ["reason", "other_reason", "part", "next"])


def test_a_hide_reason_with_a_nul_is_refused_not_a_500(organizer_client, campaign, open_petition):
    """Found by test_moderation_actions: the reason went to PostgreSQL as it came."""
    from petition.models import EntryReview, Signature
    from tests.organizing.test_moderation import sign

    signature = sign(open_petition, comment="A comment to review")
    url = reverse(
        "staff:entry_hide", kwargs={"slug": campaign.slug, "review_id": signature.review_id}
    )
    # The preset reasons are choices; the words of "other" went to PostgreSQL as typed.
    for reason in ("spam\x00", "spam\u202e"):
        response = organizer_client.post(
            url, {"reason": "other", "other_reason": reason, "part": "both"}, follow=True
        )
        assert response.status_code == 200
        page = response.content.decode()
        # NUL: Django's own form check; the other controls: the service's.
        assert "Null characters are not allowed" in page or "invisible control" in page, page
        assert Signature.objects.get(pk=signature.pk).review != EntryReview.HIDDEN
    organizer_client.post(url, {"reason": "other", "other_reason": "spam\nand abuse"})
    assert Signature.objects.get(pk=signature.pk).review == EntryReview.HIDDEN


def test_a_key_invalidation_reason_with_a_nul_is_refused_not_a_500(organizer_client, open_petition):
    """Found by test_key_invalidation_request: the reason went to PostgreSQL as it came."""
    from petition.models import KeyInvalidation

    key = PetitionKey.objects.filter(petition=open_petition).first()
    url = reverse(
        "staff:key_invalidation_request", kwargs={"slug": open_petition.slug, "key_id": key.pk}
    )
    response = organizer_client.post(url, {"reason": "leaked\x00"}, follow=True)
    assert response.status_code == 200
    assert "invisible control characters" in response.content.decode()
    assert KeyInvalidation.objects.count() == 0
