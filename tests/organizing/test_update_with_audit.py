"""update_with_audit: the one body of "change some fields, validate, save, log what changed"
that campaign_update, petition_update and milestone_plan_update share."""

import pytest
from django.core.exceptions import ValidationError

from organizing.audit import update_with_audit
from organizing.models import AuditAction, AuditEntry, Campaign


def _update(campaign, actor, fields, **kwargs):
    return update_with_audit(
        campaign,
        fields,
        actor=actor,
        action=AuditAction.CAMPAIGN_UPDATE,
        campaign=campaign,
        target=campaign,
        **kwargs,
    )


def test_it_saves_the_fields_and_records_only_the_ones_that_changed(campaign, organizer):
    changed = _update(campaign, organizer, {"name": "Night shift breaks", "slug": campaign.slug})
    assert changed == ["name"]
    assert Campaign.objects.get(pk=campaign.pk).name == "Night shift breaks"
    entry = AuditEntry.objects.get(action=AuditAction.CAMPAIGN_UPDATE)
    assert entry.details == {"fields": ["name"]}
    assert entry.actor == organizer


def test_an_update_that_changes_nothing_leaves_no_audit_row(campaign, organizer):
    assert _update(campaign, organizer, {"name": campaign.name}) == []
    assert not AuditEntry.objects.filter(action=AuditAction.CAMPAIGN_UPDATE).exists()


def test_the_callers_comparison_with_the_stored_row_wins(campaign, organizer):
    # A ModelForm has already set the new value on the instance: the caller says what changed.
    campaign.description = "New words"
    changed = _update(
        campaign,
        organizer,
        {"description": "New words"},
        changed=["description"],
        details={"note": None},
    )
    assert changed == ["description"]
    assert AuditEntry.objects.get(action=AuditAction.CAMPAIGN_UPDATE).details == {
        "fields": ["description"]
    }


def test_an_invalid_value_is_refused_before_anything_is_saved_or_logged(campaign, organizer):
    with pytest.raises(ValidationError):
        _update(campaign, organizer, {"name": ""})
    assert Campaign.objects.get(pk=campaign.pk).name != ""
    assert not AuditEntry.objects.filter(action=AuditAction.CAMPAIGN_UPDATE).exists()
