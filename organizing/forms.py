"""The staff forms: campaign, petition, invitation and member role, with `create_once`, the
body of every staff view whose form creates something. The code-batch form also lives here,
but only parses input: its rules (sizes, levels, expiry) belong to petition/codes.py."""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import DomainNameValidator
from django.http import HttpRequest
from django.utils import formats, timezone
from django.utils.functional import lazy
from django.utils.text import slugify
from django.utils.translation import gettext_lazy as _

from petition.codes import code_batch_expiry
from petition.models import (
    CODE_BATCH_MAX_SIZE,
    CODE_BATCH_MIN_SIZE,
    DELIVERY_NOTE_MAX,
    HiddenPart,
    HideReason,
    Level,
    Petition,
    PetitionTranslation,
)
from petition.publication_policy import (
    MAX_PUBLISH_INTERVAL,
    MAX_PUBLISH_MAX_WAIT,
    MAX_PUBLISH_MIN_BATCH,
    MIN_PUBLISH_MAX_WAIT,
    new_petition_policy,
)
from petition.review import HIDE_REASON_MAX
from petition.workemail import canonical_domain

from .idempotency import IdempotentFormMixin, Submission, earlier_result, submit_once
from .models import SLUG_MESSAGE, SLUG_REGEX, Campaign, Role
from .services import work_email_locked_message

SLUG_RE = re.compile(SLUG_REGEX)
TOO_LONG = _("Use at most %(limit_value)d characters; this has %(show_value)d.")


class StaffFormMixin:
    """Limits are shown and counted down, never enforced by cutting.

    A browser's `maxlength` silently drops what goes past the limit (a pasted title loses
    its end); instead the limit moves to `data-maxlength` for the counter in
    static/js/staff.js, and the server answers a longer value with a form error.
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            limit = getattr(field, "max_length", None)
            if limit and not field.widget.is_hidden:
                field.widget.attrs.pop("maxlength", None)
                field.widget.attrs["data-maxlength"] = limit
                field.error_messages["max_length"] = TOO_LONG


def clean_short_name(value: str, source: str) -> str:
    """A short name as typed, or one suggested from `source` (the name or title) when empty."""
    value = (value or "").strip().lower()
    if not value:
        value = slugify(source)[:60].strip("-")
    if not SLUG_RE.match(value):
        raise forms.ValidationError(SLUG_MESSAGE, code="invalid")
    return value


def _lines(text: str) -> list[str]:
    items = [line.strip() for line in re.split(r"[\n,]", text or "") if line.strip()]
    return list(dict.fromkeys(items))  # unique, order kept


class CampaignForm(StaffFormMixin, forms.ModelForm):
    email_domains_text = forms.CharField(
        label=_("Accepted work email domains"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_(
            "One per line, e.g. example.com. Signers can prove they work here with an "
            "address at one of these."
        ),
    )
    employer_networks_text = forms.CharField(
        label=_("Employer network address ranges"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_(
            "One range per line, e.g. 198.51.100.0/24. Signers who visit from these "
            "see a warning. Addresses are checked in memory and never stored."
        ),
    )

    class Meta:
        model = Campaign
        fields = [
            "name",
            "slug",
            "employer_name",
            "description",
            "email_subaddress_separator",
            "code_batches_need_approval",
            "entries_need_review",
            "retention_days",
        ]
        widgets = {"description": forms.Textarea(attrs={"rows": 4})}
        help_texts = {
            "slug": _(
                "Part of the campaign's web address, e.g. warehouse-workers. Leave it empty "
                "to use one made from the name."
            )
        }
        error_messages = {
            "slug": {
                "unique": _("Another campaign already uses this short name. Choose another."),
                "invalid": SLUG_MESSAGE,
            }
        }

    # A service's refusal about a model field shows on the form field that edits it.
    service_field_names = {"email_domains": "email_domains_text"}
    # A question about the mail server a new organizer cannot answer up front; the default
    # (only "+" counts as a sub-address) is right for most (review O3).
    advanced = (_("Advanced: how your mail system reads addresses"), ["email_subaddress_separator"])

    def __init__(self, *args, work_email_locked: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["slug"].required = False
        self.fields["slug"].widget.attrs["data-suggest-from"] = self["name"].auto_id
        self.work_email_locked = work_email_locked
        if work_email_locked:
            for name in ("email_domains_text", "email_subaddress_separator"):
                self.fields[name].help_text = work_email_locked_message()
        # Empty means the default, so a form without the field still creates a campaign.
        self.fields["retention_days"].required = False
        if self.instance.pk:
            self.fields["email_domains_text"].initial = "\n".join(self.instance.email_domains)
            self.fields["employer_networks_text"].initial = "\n".join(
                self.instance.employer_networks
            )

    def clean_retention_days(self) -> int:
        value = self.cleaned_data.get("retention_days")
        return Campaign._meta.get_field("retention_days").default if value is None else value

    def clean_slug(self) -> str:
        return clean_short_name(self.cleaned_data.get("slug"), self.cleaned_data.get("name", ""))

    def clean_email_domains_text(self) -> list[str]:
        domains, bad = [], []
        validate = DomainNameValidator()
        for item in _lines(self.cleaned_data["email_domains_text"]):
            try:
                validate(item.lstrip("@").rstrip("."))
                domains.append(canonical_domain(item.lstrip("@")))
            except (ValidationError, ValueError):
                bad.append(item)
        if bad:
            raise forms.ValidationError(
                _("Not a domain name: %(names)s"), params={"names": ", ".join(bad)}
            )
        domains = list(dict.fromkeys(domains))
        if self.work_email_locked and domains != self.instance.email_domains:
            raise forms.ValidationError(work_email_locked_message())
        return domains

    def clean_email_subaddress_separator(self) -> str:
        value = self.cleaned_data["email_subaddress_separator"]
        if self.work_email_locked and value != self.instance.email_subaddress_separator:
            raise forms.ValidationError(work_email_locked_message())
        return value

    def clean_employer_networks_text(self) -> list[str]:
        networks = []
        for item in _lines(self.cleaned_data["employer_networks_text"]):
            try:
                networks.append(str(ipaddress.ip_network(item, strict=False)))
            except ValueError as exc:
                raise forms.ValidationError(
                    _("Not an address range: %(value)s"), params={"value": item}
                ) from exc
        return networks

    def service_fields(self) -> dict:
        data = {name: self.cleaned_data[name] for name in self.Meta.fields}
        data["email_domains"] = self.cleaned_data["email_domains_text"]
        data["employer_networks"] = self.cleaned_data["employer_networks_text"]
        return data


class PetitionForm(StaffFormMixin, forms.ModelForm):
    fieldsets = [
        (
            _("Ways signers can prove they work here"),
            ["accepts_work_email", "accepts_in_person", "accepts_flyer"],
        ),
        (
            _("When new signatures become public"),
            ["publish_interval", "publish_min_batch", "publish_max_wait"],
        ),
    ]
    # The policy is stored in seconds; people think in minutes and hours.
    publish_interval = forms.IntegerField(
        required=False,
        label=_("Publish at most every (minutes)"),
        min_value=0,
        max_value=MAX_PUBLISH_INTERVAL // 60,
        help_text=_(
            "New signatures appear on the public page in batches, only at the start of each "
            "interval (by the clock), never the moment one more person signs. Longer "
            "intervals mix more signatures together; shorter ones make the count move "
            "sooner. 60 is a good choice."
        ),
    )
    publish_min_batch = forms.IntegerField(
        required=False,
        label=_("Smallest batch"),
        min_value=1,
        max_value=MAX_PUBLISH_MIN_BATCH,
        help_text=_(
            "A batch goes out only with at least this many new signatures of one kind; "
            "withdrawals never count towards it. Someone who holds this many codes minus one "
            "can still fill a batch around one coworker's signature with their own, so "
            "larger is safer. Outside demonstrations it must be 5 or more."
        ),
    )
    publish_max_wait = forms.IntegerField(
        required=False,
        label=_("Longest wait (hours)"),
        min_value=MIN_PUBLISH_MAX_WAIT // 3600,
        max_value=MAX_PUBLISH_MAX_WAIT // 3600,
        help_text=_(
            "At each interval a random part of the waiting signatures is published; one that "
            "has waited this long after the end of the day it was made on is always "
            "included. Fewer than the smallest batch of one kind are never published while "
            "the petition is open, however long they wait; closing the petition publishes "
            "everything. Outside demonstrations it must be 24 or more. Once the petition is "
            "open, these three settings can only become stricter."
        ),
    )

    class Meta:
        model = Petition
        fields = [
            "title",
            "slug",
            "summary",
            "demands",
            "addressed_to",
            "language",
            "goal",
            "deadline",
            "accepts_work_email",
            "accepts_in_person",
            "accepts_flyer",
            "publish_interval",
            "publish_min_batch",
            "publish_max_wait",
        ]
        widgets = {
            "demands": forms.Textarea(attrs={"rows": 10}),
            "deadline": forms.DateInput(attrs={"type": "date"}),
        }
        help_texts = {
            "slug": _(
                "Part of the petition's web address and of the links on code cards, e.g. "
                "night-breaks. Leave it empty to use one made from the title."
            )
        }
        error_messages = {
            "slug": {
                # Short names are unique site-wide (they are the public address, printed on
                # flyers and code cards), so a taken one must be refused; the message says
                # no more than that: not whose, nor whether it is a draft
                # (docs/threat-model.md accepts that a taken name shows).
                "unique": _("This short name is not available. Choose another."),
                "invalid": SLUG_MESSAGE,
            }
        }

    def __init__(self, *args, locked: frozenset[str] = frozenset(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["slug"].required = False
        self.fields["slug"].widget.attrs["data-suggest-from"] = self["title"].auto_id
        # Left out, the petition keeps its language (a new one: the site's default).
        self.fields["language"].required = False
        self.fields["language"].help_text = _(
            "The language you write the title, summary, demands and addressee in. Add "
            "translations into other languages on the petition's page."
        )
        if not self.is_bound:
            self.initial["publish_interval"] = self.instance.publish_interval // 60
            self.initial["publish_max_wait"] = self.instance.publish_max_wait // 3600
        for name in locked & self.fields.keys():
            self.fields[name].disabled = True
            self.fields[name].help_text = _("Fixed once the petition is published.")

    def clean_slug(self) -> str:
        if self.fields["slug"].disabled:
            return self.instance.slug
        return clean_short_name(self.cleaned_data.get("slug"), self.cleaned_data.get("title", ""))

    def clean_language(self) -> str:
        return self.cleaned_data.get("language") or self.instance.language

    # "Accept at least one way" is the constraint petition_petition_accepts_a_level; the
    # model's validation shows its message, so the form does not say it a second time.

    # Left blank, each keeps the petition's current value (for a new one: the defaults).
    def clean_publish_interval(self) -> int:
        minutes = self.cleaned_data["publish_interval"]
        return self.instance.publish_interval if minutes is None else minutes * 60

    def clean_publish_min_batch(self) -> int:
        size = self.cleaned_data["publish_min_batch"]
        return self.instance.publish_min_batch if size is None else size

    def clean_publish_max_wait(self) -> int:
        hours = self.cleaned_data["publish_max_wait"]
        return self.instance.publish_max_wait if hours is None else hours * 3600

    def service_fields(self) -> dict:
        return {name: self.cleaned_data[name] for name in self.Meta.fields}


class PetitionTranslationForm(StaffFormMixin, forms.ModelForm):
    """The petition's text in one other language. The language is chosen when adding and
    fixed afterwards (delete and add again while a draft); the service
    (petition_translation_create/update) holds the rules."""

    class Meta:
        model = PetitionTranslation
        fields = ["title", "summary", "demands", "addressed_to"]
        widgets = {"demands": forms.Textarea(attrs={"rows": 10})}

    def __init__(self, *args, petition: Petition, locked: frozenset[str] = frozenset(), **kwargs):
        super().__init__(*args, **kwargs)
        self.petition = petition
        for name in locked & self.fields.keys():
            self.fields[name].disabled = True
            self.fields[name].help_text = _("Fixed once the petition is published.")

    def service_fields(self) -> dict:
        return {name: self.cleaned_data[name] for name in self.Meta.fields}


class PetitionTranslationCreateForm(IdempotentFormMixin, PetitionTranslationForm):
    language = forms.ChoiceField(label=_("Language"))

    field_order = ["language", "title", "summary", "demands", "addressed_to"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Only the languages still missing: not the petition's own, not one already there.
        self.fields["language"].choices = missing_translation_languages(self.petition)
        if self.petition.status != Petition.Status.DRAFT:
            self.fields["title"].help_text = _(
                "The petition is open: once saved, the title, demands and addressee of this "
                "translation are fixed like the original's. Read them twice before saving."
            )

    def service_fields(self) -> dict:
        return {"language": self.cleaned_data["language"], **super().service_fields()}


def missing_translation_languages(petition: Petition) -> list[tuple[str, str]]:
    """The shipped languages the petition can still be translated into, as choices."""
    taken = set(petition.translations.values_list("language", flat=True)) | {petition.language}
    return [(code, name) for code, name in settings.LANGUAGES if code not in taken]


# Addresses anyone can have: a staff account there says nothing about the employer.
PUBLIC_MAIL_DOMAINS = frozenset({
    "aol.com", "fastmail.com", "gmail.com", "gmx.com", "gmx.de", "gmx.net", "googlemail.com",
    "hotmail.com", "icloud.com", "live.com", "mail.com", "mailbox.org", "me.com", "outlook.com",
    "posteo.de", "proton.me", "protonmail.com", "tutanota.com", "web.de", "yahoo.com",
    "yandex.com",
})  # fmt: skip


def suggested_work_domain(email: str) -> str | None:
    """The domain of a staff member's own address, if it may be the employer's: not a public
    mail service. Only the person filling in the form is looked at, never a signer."""
    try:
        domain = canonical_domain(email.rsplit("@", 1)[-1])
    except ValueError:
        return None
    return None if domain in PUBLIC_MAIL_DOMAINS else domain


class CampaignCreateForm(IdempotentFormMixin, CampaignForm):
    """A new campaign's work-email domain starts from the creator's own address, when that
    is not a public mail service (review O3); the help says where it came from."""

    def __init__(self, *args, creator=None, **kwargs):
        super().__init__(*args, **kwargs)
        if self.is_bound or creator is None:
            return
        domain = suggested_work_domain(creator.email or "")
        if domain:
            self.initial["email_domains_text"] = domain
            self.fields["email_domains_text"].help_text = _(
                "One per line. %(domain)s comes from your own address: remove it if it is "
                "not the employer's. Signers can prove they work here with an address at one "
                "of these. Mail to your address there can be read by the employer."
            ) % {"domain": domain}


class PetitionCreateForm(IdempotentFormMixin, PetitionForm):
    """A new petition's form starts from what the program knows (review O4): the safe
    publication policy, work email when the campaign has a domain, the employer as the
    addressee."""

    def __init__(self, *args, campaign: Campaign | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        if self.is_bound:
            return
        policy = new_petition_policy()
        self.initial["publish_interval"] = policy["publish_interval"] // 60
        self.initial["publish_min_batch"] = policy["publish_min_batch"]
        self.initial["publish_max_wait"] = policy["publish_max_wait"] // 3600
        if campaign is not None:
            self.initial["accepts_work_email"] = bool(campaign.email_domains)
            if campaign.employer_name:
                self.initial["addressed_to"] = campaign.employer_name


def at_employer_domain(email: str, domains) -> str | None:
    """The campaign's work-email domain `email` is at (or under), if any."""
    try:
        domain = canonical_domain(email.rsplit("@", 1)[-1])
    except ValueError:
        return None
    for known in domains or ():
        if domain == known or domain.endswith(f".{known}"):
            return known
    return None


class InvitationForm(StaffFormMixin, IdempotentFormMixin, forms.Form):
    email = forms.EmailField(label=_("Email address"))
    role = forms.ChoiceField(label=_("Role"), choices=Role.choices, initial=Role.MODERATOR)
    # Shown only after a work address was entered (review O15): the invitee's work mail is
    # read by the employer, so sending there needs a deliberate second click.
    work_address_ok = forms.BooleanField(
        label=_("Send to this work address anyway"), required=False, widget=forms.HiddenInput
    )

    def __init__(self, *args, campaign=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.domains = list(getattr(campaign, "email_domains", None) or [])
        if self.domains:
            self.fields["email"].help_text = _(
                "Better a personal address: mail at %(domains)s can be read by the employer."
            ) % {"domains": ", ".join(self.domains)}

    def clean(self):
        cleaned = super().clean()
        email = cleaned.get("email")
        domain = at_employer_domain(email, self.domains) if email else None
        if domain and not cleaned.get("work_address_ok"):
            self.fields["work_address_ok"].widget = forms.CheckboxInput()
            self.add_error(
                "email",
                _(
                    "%(email)s is at %(domain)s, the employer's domain: the employer can read "
                    "this invitation and learn who helps the campaign. Ask for a personal "
                    "address, or tick the box below to send it there anyway."
                )
                % {"email": email.strip().lower(), "domain": domain},
            )
        return cleaned


class MemberRoleForm(forms.Form):
    role = forms.ChoiceField(label=_("Role"), choices=Role.choices)


class EntryHideForm(forms.Form):
    """Hide a name, a comment or both, for a preset reason or "other" in words (review M5).
    The service (`petition.review.entry_hide`) holds the rules; this parses the post."""

    # Not sent for an entry with only a name or only a comment: then it is all of it.
    part = forms.ChoiceField(label=_("What to hide"), choices=HiddenPart.choices, required=False)
    reason = forms.ChoiceField(label=_("Why"), choices=HideReason.choices)
    other_reason = forms.CharField(
        label=_("In your words"), required=False, max_length=HIDE_REASON_MAX, strip=True
    )

    def clean(self):
        cleaned = super().clean()
        if not cleaned.get("part") and "part" not in self.errors:
            cleaned["part"] = HiddenPart.BOTH
        if cleaned.get("reason") == HideReason.OTHER and not cleaned.get("other_reason"):
            self.add_error("other_reason", _("Say why, for the rest of the team."))
        return cleaned


class DeliveryForm(forms.Form):
    """Mark as delivered: the day (today unless changed) and an optional note (O22)."""

    delivered_on = forms.DateField(
        label=_("Delivered on"),
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        error_messages={"required": _("Give the day the petition was handed over.")},
    )
    delivery_note = forms.CharField(
        label=_("Note (optional)"),
        required=False,
        max_length=DELIVERY_NOTE_MAX,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_(
            'For example "Handed to HR at the staff meeting". Shown on the petition\'s staff '
            "page and in the audit log."
        ),
    )

    def __init__(self, *args, petition: Petition, **kwargs):
        kwargs.setdefault("initial", {"delivered_on": timezone.localdate()})
        super().__init__(*args, **kwargs)
        widget = self.fields["delivered_on"].widget
        widget.attrs["max"] = timezone.localdate().isoformat()
        if petition.published_at:
            widget.attrs["min"] = timezone.localdate(petition.published_at).isoformat()


def apply_validation_error(form: forms.BaseForm, exc: Exception) -> None:
    """Show a service's refusal on the form (a clear error, never a 500)."""
    if isinstance(exc, ValidationError) and hasattr(exc, "error_dict"):
        aliases = getattr(form, "service_field_names", {})
        for field, errors in exc.error_dict.items():
            field = aliases.get(field, field)
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, exc.messages if isinstance(exc, ValidationError) else str(exc))


def create_once(
    request: HttpRequest, form: IdempotentFormMixin, make: Callable[[], str]
) -> Submission | None:
    """The body of every staff view whose form creates something (organizing/idempotency.py).

    Returns None when the view should show the form: a GET, invalid input, or a service's
    refusal (then on the form). Otherwise the view redirects to the returned submission's
    URL; `created` is False when this form was sent before (a reload, a double click), and
    `make`, which creates the thing and returns the URL to show next, did not run again.
    The sent-before check comes first, so a resend whose values are now taken (a short name,
    say) still lands on the first result instead of an error.
    """
    if request.method != "POST":
        return None
    if url := earlier_result(user=request.user, data=request.POST):
        return Submission(url=url, created=False)
    if not form.is_valid():
        return None
    try:
        return submit_once(user=request.user, key=form.cleaned_data["form_key"], action=make)
    except ValidationError as exc:
        apply_validation_error(form, exc)
        return None


class CodeBatchForm(StaffFormMixin, IdempotentFormMixin, forms.Form):
    """Parses input only: petition/codes.py holds the rules (sizes, levels, expiry)."""

    level = forms.ChoiceField(label=_("Kind of code"))
    size = forms.IntegerField(
        label=_("How many codes"),
        min_value=CODE_BATCH_MIN_SIZE,
        max_value=CODE_BATCH_MAX_SIZE,
        initial=20,
        # Lazy all the way: `_(...) % {...}` here would freeze the text in the language of
        # the moment the module was imported (English), whatever the visitor reads.
        help_text=lazy(
            lambda: (
                _(
                    "At least %(min)d, so that nobody can follow one person's code. "
                    "Usage is shown only in steps of 5."
                )
                % {"min": CODE_BATCH_MIN_SIZE}
            ),
            str,
        )(),
    )
    expires_at = forms.DateField(
        label=_("Codes work until"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text=_("Last day the codes work. Leave empty: until the petition closes."),
    )
    label = forms.CharField(
        label=_("Note for this batch"),
        max_length=120,
        required=False,
        help_text=_("For your team only, e.g. where the cards will be handed out."),
    )
    paper = forms.ChoiceField(
        label=_("Paper"),
        choices=[("letter", _("US Letter")), ("a4", _("A4"))],
        initial="letter",
        required=False,  # Letter unless chosen
    )

    def __init__(self, *args, petition, **kwargs):
        super().__init__(*args, **kwargs)
        # The same names as the batches table and the petition page use.
        choices = [(level, Level(level).label) for level in (Level.IN_PERSON, Level.FLYER)]
        self.fields["level"].choices = [c for c in choices if c[0] in petition.levels]
        # Empty by default: "until the petition closes" is what most batches want, and any
        # prefilled day would end the codes before the petition's deadline (review O19).
        if petition.deadline:
            self.fields["expires_at"].help_text = _(
                "Last day the codes work. Leave empty: until the petition closes "
                "(its deadline is %(deadline)s)."
            ) % {"deadline": formats.date_format(petition.deadline, "DATE_FORMAT")}

    def service_fields(self) -> dict:
        expires_on = self.cleaned_data["expires_at"]
        expires_at = None
        if expires_on is not None:
            expires_at = code_batch_expiry(expires_on)
        return {
            "level": self.cleaned_data["level"],
            "size": self.cleaned_data["size"],
            "label": self.cleaned_data["label"],
            "expires_at": expires_at,
        }
