"""A campaign's whole life through the real services, so its audit log holds an entry of
every kind with the details each service records. Used by the audit page tests and the
staff layout journey: a new kind of action that no step here records makes them fail."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import timedelta

from django.test import Client
from django.urls import reverse
from django.utils import timezone

from organizing.flyers.rendering import default_text
from organizing.flyers.services import flyer_batch_create, flyer_batch_retire, print_run_create
from organizing.models import Campaign, Invitation, Membership, Role, User
from organizing.notices.services import (
    milestone_plan_update,
    milestones_check,
    webhook_create,
    webhook_delete,
)
from organizing.services import (
    campaign_create,
    campaign_update,
    delivery_record,
    invitation_accept,
    invitation_create,
    invitation_revoke,
    membership_change_role,
    membership_confirm,
    membership_remove,
)
from petition import blindrsa
from petition.codes import code_batch_approve, code_batch_create, code_batch_revoke
from petition.invalidation import key_invalidation_confirm, key_invalidation_request
from petition.models import Petition, Signature
from petition.review import entries_purge, entry_approve, entry_hide, entry_show
from petition.services import (
    petition_close,
    petition_create,
    petition_mark_delivered,
    petition_publish,
    petition_translation_create,
    petition_translation_delete,
    petition_translation_update,
    petition_update,
)
from tests.factories import UserFactory
from tests.organizing.notices.helpers import add_signatures
from tests.signing_client import mint


@dataclass
class CampaignStory:
    campaign: Campaign
    petition: Petition
    organizer: User
    second_organizer: User


def _signed_with_comment(petition: Petition, comment: str) -> Signature:
    credential = mint(petition)
    response = Client().post(
        f"/api/v1/petitions/{petition.slug}/signatures",
        json.dumps(credential.payload(comment=comment)),
        content_type="application/json",
    )
    assert response.status_code == 201, response.content
    return Signature.objects.get(petition=petition, nullifier=blindrsa.nullifier(credential.token))


def _join(campaign: Campaign, organizer: User, user: User, role: str) -> Membership:
    invitation = invitation_create(
        email=user.email, role=role, campaign=campaign, invited_by=organizer
    )
    return invitation_accept(invitation=invitation, user=user)


def record_every_action(slug: str = "night-shift") -> CampaignStory:
    """Record at least one audit entry of every `AuditAction`, the way the product does."""
    organizer = UserFactory(is_site_organizer=True)
    campaign = campaign_create(
        creator=organizer, name="Night shift workers", slug=slug, employer_name="Example Corp"
    )
    campaign = campaign_update(
        campaign=campaign,
        actor=organizer,
        email_domains=["example.com"],
        code_batches_need_approval=True,
        retention_days=60,
    )

    second = UserFactory()
    # A lone organizer cannot confirm whom they add: the operator does, so that one
    # person with two accounts cannot meet a two-person rule.
    membership_confirm(membership=_join(campaign, organizer, second, Role.ORGANIZER), actor=None)
    moderator = _join(campaign, organizer, UserFactory(), Role.MODERATOR)
    moderator = membership_change_role(membership=moderator, role=Role.ORGANIZER, actor=organizer)
    membership_remove(membership=moderator, actor=organizer)
    invitation_create(
        email="not.yet@organizers.example",
        role=Role.MODERATOR,
        campaign=campaign,
        invited_by=organizer,
    )
    invitation_revoke(
        invitation=Invitation.objects.get(email="not.yet@organizers.example"), actor=organizer
    )

    petition = petition_create(
        campaign=campaign,
        actor=organizer,
        title="Restore the night breaks",
        slug=f"{slug}-breaks",
        demands="Two paid breaks.",
        addressed_to="Management",
        goal=10,
        accepts_in_person=True,
    )
    petition = petition_update(
        petition=petition, actor=organizer, accepts_work_email=True, accepts_flyer=True
    )
    # A translation added, edited and deleted while the petition is a draft; another one
    # added for good.
    translation = petition_translation_create(
        petition=petition,
        actor=organizer,
        language="es",
        title="Recuperar las pausas nocturnas",
        demands="Dos pausas pagadas.",
        addressed_to="La dirección",
    )
    petition_translation_update(
        translation=translation,
        actor=organizer,
        title="Que vuelvan las pausas nocturnas",
        summary="",
        demands="Dos pausas pagadas.",
        addressed_to="La dirección",
    )
    petition_translation_delete(translation=translation, actor=organizer)
    petition_translation_create(
        petition=petition,
        actor=organizer,
        language="ar",
        title="أعيدوا استراحات الليل",
        demands="استراحتان مدفوعتا الأجر.",
        addressed_to="الإدارة",
    )
    milestone_plan_update(
        petition=petition,
        actor=organizer,
        extra_thresholds=[5, 15],
        raise_goal_when_reached=True,
        use_default_ladder=False,
    )
    petition = petition_publish(petition=petition, actor=organizer)

    batch, _codes = code_batch_create(
        petition=petition,
        level="in_person",
        size=10,
        actor=organizer,
        label="canteen, floor 2",
        expires_at=timezone.now() + timedelta(days=30),
    )
    code_batch_approve(batch=batch, actor=second)
    code_batch_revoke(batch=batch, actor=second)
    flyers = flyer_batch_create(
        petition=petition,
        label="Building 20, 2nd floor",
        design="tearoff",
        paper="a4",
        copies=20,
        created_by=organizer,
    )
    flyer_batch_retire(batch=flyers, actor=organizer)
    poster = print_run_create(
        petition=petition,
        design="poster",
        paper="a4",
        copies=1,
        text=default_text(petition),
        created_by=organizer,
    )
    webhook = webhook_create(
        campaign=campaign,
        actor=organizer,
        url="https://chat.example.org/hooks/countersign",
        label="Team chat",
    )
    webhook_delete(webhook=webhook, actor=organizer)

    # The goal is reached: the system raises it (the plan asks for that).
    add_signatures(petition, 10)
    milestones_check(petition_id=petition.pk)
    approved = _signed_with_comment(petition, "Breaks keep us safe")
    entry_approve(signature=approved, actor=second)
    mistaken = _signed_with_comment(petition, "Ask Bob")
    entry_hide(signature=mistaken, actor=second, reason="identifies")
    entry_show(signature=mistaken, actor=second)
    entry_hide(signature=mistaken, actor=second, reason="other", other_reason="names Bob")

    invalidation = key_invalidation_request(
        key=petition.keys.get(level="flyer"), actor=organizer, reason="A tab sheet was copied."
    )
    key_invalidation_confirm(invalidation=invalidation, actor=second)

    petition = petition_close(petition=petition, actor=organizer)
    petition = petition_mark_delivered(
        petition=petition, actor=organizer, note="Handed to HR at the staff meeting"
    )
    delivery_record(petition=petition, actor=organizer)
    entries_purge(petition=petition)

    client = Client()
    client.force_login(organizer)
    pdf = client.get(
        reverse("staff:print_run_download", kwargs={"slug": petition.slug, "run_id": poster.pk})
    )
    b"".join(pdf.streaming_content)
    export = client.get(reverse("staff:audit_export", kwargs={"slug": campaign.slug}))
    b"".join(export.streaming_content)

    return CampaignStory(
        campaign=campaign, petition=petition, organizer=organizer, second_organizer=second
    )
