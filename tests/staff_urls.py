"""Every URL in the `staff` namespace, with how to call it. tests/organizing/test_access.py
fails when a staff URL is added without an entry here, so none escapes the access tests."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from django.urls import get_resolver, reverse
from django.utils import timezone


@dataclass(frozen=True)
class StaffUrl:
    name: str
    # "campaign", "petition", "batch", "webhook", "flyer_batch", "print_run", "translation"…
    kwarg: str | None
    method: str = "get"
    organizer_only: bool = False
    # Not tied to a campaign: only site organizers (User.is_site_organizer) get through.
    site_organizer_only: bool = False

    def path(self, campaign, petition) -> str:
        if self.kwarg == "batch":
            from petition.models import CodeBatch

            # Made directly: the access tests run against a draft, where the service refuses.
            batch = CodeBatch.objects.create(petition=petition, level="in_person", size=10)
            return reverse(
                f"staff:{self.name}", kwargs={"slug": petition.slug, "batch_id": batch.pk}
            )
        if self.kwarg == "webhook":
            from organizing.models import Webhook

            # One address per URL name: a page that opens several of them gets several.
            webhook = Webhook.objects.create(
                campaign=campaign, url=f"https://hooks.example.org/{self.name}"
            )
            return reverse(
                f"staff:{self.name}", kwargs={"slug": campaign.slug, "webhook_id": webhook.pk}
            )
        if self.kwarg == "invitation":
            from organizing.models import Invitation

            invitation = Invitation.objects.create(
                email="invited@organizers.example",
                campaign=campaign,
                role="moderator",
                expires_at=timezone.now() + timedelta(days=1),
            )
            return reverse(
                f"staff:{self.name}", kwargs={"slug": campaign.slug, "invitation_id": invitation.pk}
            )
        if self.kwarg == "membership":
            # A moderator of the campaign, so the call can succeed for an organizer.
            from organizing.models import Role
            from tests.factories import MembershipFactory

            member = MembershipFactory(campaign=campaign, role=Role.MODERATOR, user__totp=False)
            return reverse(
                f"staff:{self.name}", kwargs={"slug": campaign.slug, "membership_id": member.pk}
            )
        if self.kwarg == "key":
            # A key row of the draft is enough: access is decided before anything else.
            from petition.keys import new_key_fields
            from petition.models import PetitionKey

            key = PetitionKey.objects.filter(petition=petition).first() or (
                PetitionKey.objects.create(petition=petition, **new_key_fields("in_person"))
            )
            return reverse(f"staff:{self.name}", kwargs={"slug": petition.slug, "key_id": key.pk})
        if self.kwarg == "signature":
            # A real signature with a comment, on another (open) petition of the campaign.
            from petition.services import petition_publish
            from tests.factories import PetitionFactory
            from tests.organizing.test_moderation import sign

            other = petition_publish(petition=PetitionFactory(campaign=campaign))
            signature = sign(other, comment="A comment to review")
            return reverse(
                f"staff:{self.name}",
                kwargs={"slug": campaign.slug, "review_id": signature.review_id},
            )
        if self.kwarg == "flyer_batch":
            from organizing.flyers.services import flyer_batch_create

            batch = flyer_batch_create(
                petition=petition, label="lobby", design="poster", paper="a4", copies=1
            )
            return reverse(
                f"staff:{self.name}", kwargs={"slug": petition.slug, "batch_id": batch.pk}
            )
        if self.kwarg == "translation":
            # Made directly, in a language the draft (written in English) is not in.
            from petition.models import PetitionTranslation

            PetitionTranslation.objects.get_or_create(
                petition=petition,
                language="es",
                defaults={"title": "Pausas", "demands": "Dos pausas.", "addressed_to": "RR. HH."},
            )
            return reverse(f"staff:{self.name}", kwargs={"slug": petition.slug, "language": "es"})
        if self.kwarg == "print_run":
            return reverse(
                f"staff:{self.name}", kwargs={"slug": petition.slug, "run_id": _print_run(petition)}
            )
        if self.kwarg == "campaign":
            return reverse(f"staff:{self.name}", kwargs={"slug": campaign.slug})
        if self.kwarg == "petition":
            return reverse(f"staff:{self.name}", kwargs={"slug": petition.slug})
        return reverse(f"staff:{self.name}")


def _print_run(petition):
    """A finished print run with a small file, as a download would find it."""
    from datetime import timedelta

    from django.core.files.base import ContentFile
    from django.utils import timezone

    from organizing.models import PrintRun

    run = PrintRun(
        petition=petition,
        design="poster",
        paper="a4",
        copies=1,
        pages_total=1,
        pages_done=1,
        status=PrintRun.Status.DONE,
        expires_at=timezone.now() + timedelta(hours=1),
    )
    run.file.save("access.pdf", ContentFile(b"%PDF-1.7 test"), save=False)
    run.save()
    return run.pk


STAFF_URLS = [
    StaffUrl("dashboard", None),
    StaffUrl("account", None),
    StaffUrl("campaign_create", None, site_organizer_only=True),
    StaffUrl("campaign", "campaign"),
    StaffUrl("campaign_edit", "campaign", organizer_only=True),
    StaffUrl("invitation_create", "campaign", method="post", organizer_only=True),
    StaffUrl("invitation_revoke", "invitation", method="post", organizer_only=True),
    StaffUrl("member_role", "membership", method="post", organizer_only=True),
    StaffUrl("member_remove", "membership", method="post", organizer_only=True),
    StaffUrl("member_confirm", "membership", method="post", organizer_only=True),
    StaffUrl("petition_create", "campaign", organizer_only=True),
    StaffUrl("moderation", "campaign"),
    StaffUrl("entry_approve", "signature", method="post"),
    StaffUrl("entry_hide", "signature", method="post"),
    StaffUrl("entry_show", "signature", method="post"),
    StaffUrl("audit_log", "campaign", organizer_only=True),
    StaffUrl("audit_export", "campaign", organizer_only=True),
    StaffUrl("petition", "petition"),
    StaffUrl("petition_edit", "petition", organizer_only=True),
    StaffUrl("petition_preview", "petition"),
    StaffUrl("petition_translation_create", "petition", organizer_only=True),
    StaffUrl("petition_translation_edit", "translation", organizer_only=True),
    StaffUrl("petition_translation_delete", "translation", method="post", organizer_only=True),
    StaffUrl("petition_publish", "petition", method="post", organizer_only=True),
    StaffUrl("petition_close", "petition", method="post", organizer_only=True),
    StaffUrl("petition_deliver", "petition", method="post", organizer_only=True),
    StaffUrl("delivery", "petition", organizer_only=True),
    StaffUrl("key_invalidation_request", "key", method="post", organizer_only=True),
    StaffUrl("key_invalidation_confirm", "key", method="post", organizer_only=True),
    StaffUrl("code_batches", "petition"),
    StaffUrl("code_batch_revoke", "batch", method="post"),
    StaffUrl("petition_milestones", "petition", organizer_only=True),
    StaffUrl("webhooks", "campaign", organizer_only=True),
    StaffUrl("webhook_delete", "webhook", organizer_only=True),
    StaffUrl("webhook_test", "webhook", method="post", organizer_only=True),
    StaffUrl("webhook_guide", "campaign", organizer_only=True),
    StaffUrl("notification_settings", "campaign"),
    StaffUrl("code_batch_approve", "batch", method="post"),
    StaffUrl("flyers", "petition", organizer_only=True),
    StaffUrl("flyer_batch_retire", "flyer_batch", method="post", organizer_only=True),
    StaffUrl("print_run", "print_run"),
    StaffUrl("print_run_status", "print_run"),
    StaffUrl("print_run_download", "print_run"),
    # The run here is a poster: retrying it needs the designer's role, like making it.
    StaffUrl("print_run_retry", "print_run", method="post", organizer_only=True),
]


def staff_url_names() -> set[str]:
    resolver = get_resolver()
    _namespace_prefix, staff_resolver = resolver.namespace_dict["staff"]
    return {name for name in staff_resolver.reverse_dict if isinstance(name, str)}
