from __future__ import annotations

import ipaddress
import re

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from petition.models import Petition

from .models import Campaign, Role

DOMAIN_RE = re.compile(r"^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")


def _lines(text: str) -> list[str]:
    items = [line.strip() for line in re.split(r"[\n,]", text or "") if line.strip()]
    return list(dict.fromkeys(items))  # unique, order kept


class CampaignForm(forms.ModelForm):
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
        fields = ["name", "slug", "employer_name", "description"]
        widgets = {"description": forms.Textarea(attrs={"rows": 4})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.fields["email_domains_text"].initial = "\n".join(self.instance.email_domains)
            self.fields["employer_networks_text"].initial = "\n".join(
                self.instance.employer_networks
            )

    def clean_email_domains_text(self) -> list[str]:
        domains = [d.lower().lstrip("@") for d in _lines(self.cleaned_data["email_domains_text"])]
        bad = [d for d in domains if not DOMAIN_RE.match(d)]
        if bad:
            raise forms.ValidationError(
                _("Not a domain name: %(names)s"), params={"names": ", ".join(bad)}
            )
        return domains

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


class PetitionForm(forms.ModelForm):
    class Meta:
        model = Petition
        fields = [
            "title",
            "slug",
            "summary",
            "demands",
            "addressed_to",
            "goal",
            "deadline",
            "accepts_work_email",
            "accepts_in_person",
            "accepts_flyer",
        ]
        widgets = {
            "demands": forms.Textarea(attrs={"rows": 10}),
            "deadline": forms.DateInput(attrs={"type": "date"}),
        }

    def __init__(self, *args, locked: frozenset[str] = frozenset(), **kwargs):
        super().__init__(*args, **kwargs)
        for name in locked & self.fields.keys():
            self.fields[name].disabled = True
            self.fields[name].help_text = _("Fixed once the petition is published.")

    def clean(self):
        cleaned = super().clean()
        levels = ("accepts_work_email", "accepts_in_person", "accepts_flyer")
        if not any(cleaned.get(name) for name in levels):
            raise forms.ValidationError(_("Accept at least one way for signers to verify."))
        return cleaned

    def service_fields(self) -> dict:
        return {name: self.cleaned_data[name] for name in self.Meta.fields}


class InvitationForm(forms.Form):
    email = forms.EmailField(label=_("Email address"))
    role = forms.ChoiceField(label=_("Role"), choices=Role.choices, initial=Role.MODERATOR)


def apply_validation_error(form: forms.BaseForm, exc: Exception) -> None:
    """Show a service's refusal on the form (a clear error, never a 500)."""
    if isinstance(exc, ValidationError) and hasattr(exc, "error_dict"):
        for field, errors in exc.error_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, exc.messages if isinstance(exc, ValidationError) else str(exc))


class CodeBatchForm(forms.Form):
    level = forms.ChoiceField(label=_("Kind of code"))
    size = forms.IntegerField(label=_("How many codes"), min_value=1, max_value=500, initial=20)
    label = forms.CharField(
        label=_("Note for this batch"),
        max_length=120,
        required=False,
        help_text=_("For your team only, e.g. where the cards will be handed out."),
    )

    def __init__(self, *args, petition, **kwargs):
        super().__init__(*args, **kwargs)
        from petition.models import Level

        choices = [(Level.IN_PERSON, _("Handed out in person")), (Level.FLYER, _("Flyer tabs"))]
        self.fields["level"].choices = [c for c in choices if c[0] in petition.levels]
