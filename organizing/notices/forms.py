"""Staff forms: milestone thresholds, webhooks, one's own notification settings."""

from __future__ import annotations

import re

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from petition.models import MAX_GOAL

from ..models import MilestonePlan, NoticeMode, NotificationPreference, Webhook
from .channels import is_loopback_url, url_problem

MAX_EXTRA_THRESHOLDS = 20


class MilestonePlanForm(forms.ModelForm):
    extra_thresholds_text = forms.CharField(
        label=_("Other thresholds"),
        required=False,
        help_text=_("Whole numbers separated by commas, e.g. 75, 150, 300. At most 20."),
    )

    class Meta:
        model = MilestonePlan
        fields = ["use_default_ladder", "use_goal_percentages", "raise_goal_when_reached"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["extra_thresholds_text"].initial = ", ".join(
            str(t) for t in self.instance.extra_thresholds
        )
        self.order_fields(["use_default_ladder", "use_goal_percentages", "extra_thresholds_text"])

    def clean_extra_thresholds_text(self) -> list[int]:
        items = [i for i in re.split(r"[\s,;]+", self.cleaned_data["extra_thresholds_text"]) if i]
        values = []
        for item in items:
            number = item.replace("_", "").replace("'", "")
            if not number.isdigit() or not 1 <= int(number) <= MAX_GOAL:
                raise forms.ValidationError(
                    _("“%(value)s” is not a whole number between 1 and 10,000,000."),
                    params={"value": item},
                )
            values.append(int(number))
        values = sorted(set(values))
        if len(values) > MAX_EXTRA_THRESHOLDS:
            raise forms.ValidationError(
                _("At most %(max)d thresholds of your own."), params={"max": MAX_EXTRA_THRESHOLDS}
            )
        return values

    def service_fields(self) -> dict:
        fields = {name: self.cleaned_data[name] for name in self.Meta.fields}
        fields["extra_thresholds"] = self.cleaned_data["extra_thresholds_text"]
        return fields


URL_PROBLEMS = {
    "malformed": _("This is not a web address."),
    "scheme": _("Use an https:// address."),
    "host": _("Use an address with a host name and without a user name or password."),
    "address": _("Notices never go to private, local or link-local network addresses."),
    # Only loopback can be allowed, and only for a demo or tests (config/checks.py warns).
    "loopback": _(
        "Notices never go to this computer's own addresses (127.0.0.1, localhost). To try a "
        "receiver on this computer in the demo, start the server with "
        "COUNTERSIGN_WEBHOOK_ALLOW_LOOPBACK=1; never in production."
    ),
}


class WebhookForm(forms.ModelForm):
    url = forms.URLField(
        label=_("Address"),
        max_length=500,
        assume_scheme="https",
        help_text=_("Where Countersign posts milestone notices, e.g. a chat bridge."),
    )

    class Meta:
        model = Webhook
        fields = ["url", "label"]
        help_texts = {"label": _("For your team, e.g. “Team chat”.")}

    def __init__(self, *args, campaign, **kwargs):
        super().__init__(*args, **kwargs)
        self.campaign = campaign

    def clean_url(self) -> str:
        url = self.cleaned_data["url"]
        problem = url_problem(url)
        # `localhost` is refused on connection anyway; say so now, with the demo's way out.
        if is_loopback_url(url) and not settings.COUNTERSIGN_WEBHOOK_ALLOW_LOOPBACK:
            problem = "loopback"
        if problem:
            raise forms.ValidationError(URL_PROBLEMS[problem])
        if Webhook.objects.filter(campaign=self.campaign, url=url).exists():
            raise forms.ValidationError(_("This address is registered already."))
        return url


class NotificationPreferenceForm(forms.ModelForm):
    class Meta:
        model = NotificationPreference
        fields = ["mode", "email"]
        widgets = {"mode": forms.RadioSelect}
        labels = {"mode": _("Tell me about"), "email": _("By email")}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["mode"].choices = NoticeMode.choices
