"""The append-only audit log of staff actions (threat model, adversary 3).

Every staff-side service calls `audit_record` inside the transaction that does the work, so
an action and its record commit together or not at all. Rows are never changed or deleted:
the model and its queryset refuse, and on PostgreSQL (and SQLite) a trigger refuses UPDATE
and DELETE for raw SQL too (migration organizing 0002).

Nothing here is about a signer: callers pass staff-side facts only.

Rows store facts in the code's own words (`level: in_person`); how a person reads them is
decided here, once, for the page and the CSV alike (`audit_rows`): every detail key, every
kind of object and every stored value has a translatable label. `audit_record` refuses a
detail key or an object kind without one, so nothing raw can reach the page.
"""

from __future__ import annotations

import csv
import json
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import QuerySet
from django.utils import formats, timezone, translation
from django.utils.text import capfirst
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from petition.models import HiddenPart, HideReason, Level, Petition, PetitionTranslation

from .models import (
    DESIGN_CHOICES,
    PAPER_CHOICES,
    AuditAction,
    AuditEntry,
    Campaign,
    MilestonePlan,
    Role,
    User,
)

DETAILS_MAX_BYTES = 2000
# Spreadsheet programs run a cell that starts with one of these as a formula.
_FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


# --- how a person reads an entry ---------------------------------------------------------


def _humanize(value: Any) -> str:
    """Last resort for a value recorded by an older version (a choice since removed): at
    least no code name with underscores."""
    return str(value).replace("_", " ")


def _text(value: Any, action: str) -> str:
    return str(value)


def _number(value: Any, action: str) -> str:
    return formats.number_format(value, force_grouping=True)


def _numbers(value: Any, action: str) -> str:
    return ", ".join(_number(item, action) for item in value) if value else gettext("none")


def _yes_no(value: Any, action: str) -> str:
    return gettext("yes") if value else gettext("no")


def _day(value: Any, action: str) -> str:
    try:
        moment = datetime.fromisoformat(str(value))
    except ValueError:
        return str(value)
    if timezone.is_aware(moment):
        moment = timezone.localtime(moment)
    return formats.date_format(moment, "DATE_FORMAT")


def _last_day(value: Any, action: str) -> str:
    """A batch's `expires_at` is the first instant after its last day (petition.codes.
    code_batch_expiry): show the day before that instant, as the batch table does (O19)."""
    try:
        moment = datetime.fromisoformat(str(value))
    except ValueError:
        return str(value)
    return _day((moment - timedelta(microseconds=1)).isoformat(), action)


def _choice(choices) -> Callable[[Any, str], str]:
    labels = dict(choices)

    def label(value: Any, action: str) -> str:
        return str(labels[value]) if value in labels else _humanize(value)

    return label


# Which model's fields a "fields" detail names, by action.
_FIELDS_OF: dict[str, type[models.Model]] = {
    AuditAction.CAMPAIGN_UPDATE: Campaign,
    AuditAction.PETITION_UPDATE: Petition,
    AuditAction.PETITION_TRANSLATION_UPDATE: PetitionTranslation,
    AuditAction.MILESTONE_UPDATE: MilestonePlan,
}


def _field_names(value: Any, action: str) -> str:
    """The fields' labels as the forms show them, quoted: some contain commas themselves
    ("notify at 10, 25, 50, …")."""
    model = _FIELDS_OF.get(action)
    names = []
    for name in value:
        try:
            label = str(model._meta.get_field(name).verbose_name)
        except (AttributeError, LookupError):  # no model, or a field since removed
            label = _humanize(name)
        names.append(gettext("“%(field)s”") % {"field": capfirst(label)})
    return ", ".join(names)


# Every key a service may put in `details`, in reading order: its label and how its value
# reads. The one place; audit_record refuses any other key.
DETAIL_LABELS: dict[str, tuple[Any, Callable[[Any, str], str]]] = {
    "role": (_("Role"), _choice(Role.choices)),
    "from": (_("Role before"), _choice(Role.choices)),
    "to": (_("New role"), _choice(Role.choices)),
    "level": (_("Way to verify"), _choice(Level.choices)),
    "size": (_("Codes"), _number),
    "label": (_("Note"), _text),
    "expires_at": (_("Codes work until"), _last_day),
    "needs_approval": (_("Needs a second person's approval"), _yes_no),
    "design": (_("Design"), _choice(DESIGN_CHOICES)),
    "paper": (_("Paper"), _choice(PAPER_CHOICES)),
    "copies": (_("Copies"), _number),
    "fields": (_("Changed"), _field_names),
    "goal": (_("New goal"), _number),
    "reason": (_("Why"), _choice([("goal reached", _("the goal was reached"))])),
    "extra_thresholds": (_("Other thresholds"), _numbers),
    "change": (_("Change"), _choice([("added", _("added")), ("removed", _("removed"))])),
    "url": (_("Address"), _text),
    "fingerprint": (_("Fingerprint"), _text),
    "entries": (_("Names and comments erased"), _number),
    "hidden_part": (_("Hidden"), _choice(HiddenPart.choices)),
    "hide_reason": (_("Reason"), _choice(HideReason.choices)),
    "delivered_on": (_("Delivered on"), _day),
    "delivery_note": (_("Note"), _text),
    "language": (_("Language"), _choice(settings.LANGUAGES)),
}

_DETAIL_ORDER = {key: index for index, key in enumerate(DETAIL_LABELS)}

# Every kind of object an entry can be about (`object_type`, the model's name).
OBJECT_KINDS: dict[str, Any] = {
    "campaign": _("Campaign"),
    "petition": _("Petition"),
    "petitionkey": _("Signing key"),
    "codebatch": _("Code batch"),
    "flyerbatch": _("Flyer batch"),
    "printrun": _("PDF"),
    "membership": _("Team member"),
    "invitation": _("Invitation"),
    "signature": _("Name or comment"),
    "webhook": _("Webhook"),
}


def _object_label(target: models.Model) -> str:
    """What the entry is about, in the words of the thing itself. Keys and batches are
    named by their petition (their level is a detail, labelled when read), a membership
    by its person (the role is a detail too)."""
    if target._meta.model_name in ("petitionkey", "codebatch"):
        return str(target.petition)
    if target._meta.model_name == "membership":
        return target.user.email
    return str(target)


# Labels as entries recorded them before _object_label: "<slug>/<level>[/<size>]" for keys
# and batches, "<email> - <campaign> (<role>)" for memberships. The log is append-only, so
# they are read, not rewritten.
_OLD_KEY_OR_BATCH = re.compile(r"^(?P<slug>[a-z0-9-]+)/(?P<level>[a-z_]+)(?:/(?P<size>\d+))?$")
_OLD_MEMBERSHIP = re.compile(r"^(?P<email>\S+@\S+) - .* \((?P<role>[a-z_]+)\)$")


def _readable_object_label(entry: AuditEntry) -> str:
    label = entry.object_label
    if entry.object_type in ("petitionkey", "codebatch") and (
        old := _OLD_KEY_OR_BATCH.match(label)
    ):
        return old["slug"]
    if entry.object_type == "membership" and (old := _OLD_MEMBERSHIP.match(label)):
        return old["email"]
    return label


@dataclass(frozen=True)
class AuditDetail:
    label: str
    value: str


@dataclass(frozen=True)
class AuditRow:
    """One entry as people read it, on the page and in the CSV."""

    created_at: datetime
    who: str
    what: str
    object_kind: str
    object_id: str
    object_label: str
    details: tuple[AuditDetail, ...]

    @property
    def details_text(self) -> str:
        return "; ".join(f"{d.label}: {d.value}" for d in self.details)


def action_label(action: str) -> str:
    try:
        return str(AuditAction(action).label)
    except ValueError:
        return capfirst(_humanize(action))


# Entries about one name or comment recorded, in earlier versions, the signature's id and its
# nullifier's prefix: neither is shown any more (the rows themselves cannot be rewritten),
# so the log cannot link a name or comment to its level, key or batch.
_UNSHOWN_OBJECTS = frozenset({"signature"})


def audit_row(entry: AuditEntry) -> AuditRow:
    details = []
    last = len(_DETAIL_ORDER)  # keys without a label (older entries) read at the end
    for key in sorted(entry.details, key=lambda k: _DETAIL_ORDER.get(k, last)):
        value = entry.details[key]
        if key in DETAIL_LABELS:
            label, reads = DETAIL_LABELS[key]
            details.append(AuditDetail(str(label), reads(value, entry.action)))
        else:  # recorded before the key had a label, if ever
            details.append(AuditDetail(capfirst(_humanize(key)), _humanize(value)))
    kind = OBJECT_KINDS.get(entry.object_type)
    return AuditRow(
        created_at=entry.created_at,
        who=str(entry.actor_display),
        what=action_label(entry.action),
        object_kind=str(kind) if kind else capfirst(_humanize(entry.object_type)),
        object_id="" if entry.object_type in _UNSHOWN_OBJECTS else entry.object_id,
        object_label="" if entry.object_type in _UNSHOWN_OBJECTS else _readable_object_label(entry),
        details=tuple(details),
    )


def audit_rows(entries: Iterable[AuditEntry]) -> list[AuditRow]:
    return [audit_row(entry) for entry in entries]


# --- writing -----------------------------------------------------------------------------


def audit_record(
    *,
    actor: User | None,
    action: str,
    campaign: Campaign | None,
    target: models.Model | None = None,
    details: dict[str, Any] | None = None,
) -> AuditEntry:
    """Record one staff action. `actor=None` is the system (command line, scheduled task).

    Call it inside the service's transaction. `details` must be small and JSON-serialisable,
    and must never carry a signer's name, comment, address or time. Its keys, and the kind
    of `target`, must have a label above: a new one is added there first.
    """
    action = AuditAction(action).value  # an unknown action is a programming error
    # Facts only: an empty value says nothing and would show as "None" in the log.
    details = {key: value for key, value in (details or {}).items() if value is not None}
    unlabelled = sorted(set(details) - set(DETAIL_LABELS))
    if unlabelled:
        raise ValueError(f"audit detail keys without a label in DETAIL_LABELS: {unlabelled}")
    if target is not None and target._meta.model_name not in OBJECT_KINDS:
        raise ValueError(f"no label in OBJECT_KINDS for {target._meta.model_name}")
    if target is not None and target._meta.model_name in _UNSHOWN_OBJECTS:
        raise ValueError("a signature is never named in the audit log (name its petition)")
    encoded = json.dumps(details, sort_keys=True, default=str)
    if len(encoded.encode()) > DETAILS_MAX_BYTES:
        raise ValueError("audit details are limited to a few facts")
    return AuditEntry.objects.create(
        campaign=campaign,
        actor=actor,
        actor_email=actor.email if actor is not None else "",
        action=action,
        object_type=target._meta.model_name if target is not None else "",
        object_id=str(target.pk) if target is not None else "",
        object_label=_object_label(target)[:200] if target is not None else "",
        details=json.loads(encoded),
    )


def update_with_audit(
    instance: models.Model,
    fields: dict[str, Any],
    *,
    actor: User | None,
    action: str,
    campaign: Campaign | None,
    target: models.Model | None,
    changed: Iterable[str] | None = None,
    details: dict[str, Any] | None = None,
) -> list[str]:
    """Set `fields` on `instance`, validate and save it, and record which fields changed.

    `changed` is what the caller compared against the stored row (a ModelForm has already
    copied the new values onto `instance`, so comparing with the instance itself would see
    nothing); without it the instance's current values are the "before". No change, no
    audit row. Call it inside the service's transaction, after the service's own checks.
    Returns the names of the changed fields, sorted.
    """
    if changed is None:
        changed = [name for name, value in fields.items() if getattr(instance, name) != value]
    changed = sorted(changed)
    for name, value in fields.items():
        setattr(instance, name, value)
    instance.full_clean()
    instance.save()
    if changed:
        audit_record(
            actor=actor,
            action=action,
            campaign=campaign,
            target=target,
            details={"fields": changed, **(details or {})},
        )
    return changed


# --- reading -----------------------------------------------------------------------------


def audit_entries_for_campaign(campaign: Campaign) -> QuerySet[AuditEntry]:
    return AuditEntry.objects.filter(campaign=campaign).order_by("-created_at", "-id")


@dataclass(frozen=True)
class ChainHead:
    """The last link of a campaign's audit chain (organizing/auditchain.py): shown to
    organizers outside the database so a rewrite of the whole chain shows."""

    seq: int
    hash: str


def audit_chain_head(campaign: Campaign) -> ChainHead | None:
    head = (
        AuditEntry.objects.filter(campaign=campaign)
        .order_by("-seq")
        .values_list("seq", "hash")
        .first()
    )
    return ChainHead(*head) if head else None


def _safe_cell(value: Any) -> str:
    text = "" if value is None else str(value)
    if text.startswith(_FORMULA_PREFIXES):
        # OWASP's advice for CSV injection: make the cell plain text.
        return "'" + text
    return text


def csv_header() -> list[str]:
    return [
        gettext("When (UTC)"),
        gettext("Who"),
        gettext("What"),
        gettext("Kind"),
        gettext("Record number"),
        gettext("On"),
        gettext("Details"),
    ]


def audit_csv_rows(entries: Iterable[AuditEntry]) -> Iterator[list[str]]:
    """The same words as the page; the time in ISO 8601 so spreadsheets sort it."""
    yield [_safe_cell(title) for title in csv_header()]
    for entry in entries:
        row = audit_row(entry)
        yield [
            _safe_cell(value)
            for value in (
                row.created_at.astimezone(UTC).isoformat(timespec="seconds"),
                row.who,
                row.what,
                row.object_kind,
                row.object_id,
                row.object_label,
                row.details_text,
            )
        ]


class _Echo:
    def write(self, value: str) -> str:
        return value


def audit_csv_lines(entries: Iterable[AuditEntry], language: str | None = None) -> Iterator[str]:
    """CSV text line by line, for a streaming response. The response is read after the view
    returns, so the request's language is passed in and held while the lines are made."""
    writer = csv.writer(_Echo())
    with translation.override(language or translation.get_language()):
        for row in audit_csv_rows(entries):
            yield writer.writerow(row)
