"""Forms that create things run once per form key (reload, double click, back-and-resend).

Use it in two steps:

1. Mix `IdempotentFormMixin` into the form: it adds a hidden `form_key` field holding a new
   random key each time the empty form is shown (and keeps the key when the form comes back
   with errors, so the corrected resend is still the same submission).
2. In the view, `organizing.forms.create_once(request, form, make)`, where `make` creates the
   thing and returns the URL to show next. It returns None (show the form) or a
   `Submission` to redirect to (POST, redirect, GET); `created` is False when the key was
   seen before, and the URL is then the first submission's result. It is built on
   `earlier_result` and `submit_once` below, and lives in forms.py beside
   `apply_validation_error`, which puts a service's refusal on the form.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from django import forms
from django.db import IntegrityError, transaction
from django.utils import timezone

from .models import FormSubmission, User

# Long enough to cover any reload or resend of an old tab; the rows only hold a random key
# and a staff URL.
KEEP_SUBMISSIONS = timedelta(days=7)


class IdempotentFormMixin(forms.Form):
    form_key = forms.UUIDField(widget=forms.HiddenInput)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # A fresh key each time the empty form is rendered; a bound form keeps the posted one.
        self.fields["form_key"].initial = uuid.uuid4


@dataclass(frozen=True)
class Submission:
    url: str
    created: bool


def earlier_result(*, user: User, data) -> str | None:
    """The result URL if this form's key was already used (checked before validating, so a
    reload of a form whose values are now taken, e.g. its short name, still lands on the
    first result instead of an error)."""
    try:
        key = uuid.UUID(str(data.get("form_key", "")))
    except ValueError:
        return None
    return (
        FormSubmission.objects.filter(user=user, key=key)
        .values_list("result_url", flat=True)
        .first()
    )


def submit_once(*, user: User, key: uuid.UUID, action: Callable[[], str]) -> Submission:
    """Run `action` at most once per (user, key) and return the URL of its result.

    The claim row and the action share one transaction: a concurrent resend of the same key
    waits on the unique index until the first commits, then reads the first result. If the
    action fails, the claim is rolled back with it and the form can be sent again.
    """
    try:
        with transaction.atomic():
            submission = FormSubmission.objects.create(user=user, key=key)
            url = action()
            submission.result_url = url
            submission.save(update_fields=["result_url"])
    except IntegrityError:
        earlier = FormSubmission.objects.filter(user=user, key=key).first()
        if earlier is None:  # the action's own integrity error, not a resend
            raise
        return Submission(url=earlier.result_url, created=False)
    FormSubmission.objects.filter(created_at__lt=timezone.now() - KEEP_SUBMISSIONS).delete()
    return Submission(url=url, created=True)
