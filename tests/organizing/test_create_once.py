"""create_once: a staff form that creates something makes it once per form key, shows a
service's refusal on the form, and can be sent again after one."""

import uuid

from django import forms
from django.core.exceptions import ValidationError
from django.test import RequestFactory

from organizing.forms import create_once
from organizing.idempotency import IdempotentFormMixin
from organizing.models import FormSubmission


class NoteForm(IdempotentFormMixin, forms.Form):
    title = forms.CharField(max_length=20)


def _post(user, data):
    request = RequestFactory().post("/staff/notes/new/", data)
    request.user = user
    return request


def test_a_get_or_invalid_input_shows_the_form(organizer):
    made = []
    request = RequestFactory().get("/staff/notes/new/")
    request.user = organizer
    assert create_once(request, NoteForm(), lambda: made.append(1) or "/x/") is None
    form = NoteForm({"title": "", "form_key": str(uuid.uuid4())})
    assert create_once(_post(organizer, form.data), form, lambda: made.append(1) or "/x/") is None
    assert "title" in form.errors
    assert made == []


def test_the_same_form_sent_twice_makes_one_thing_and_points_both_at_it(organizer):
    made = []
    data = {"title": "Breaks", "form_key": str(uuid.uuid4())}

    def make() -> str:
        made.append(data["title"])
        return f"/notes/{len(made)}/"

    first = create_once(_post(organizer, data), NoteForm(data), make)
    again = create_once(_post(organizer, data), NoteForm(data), make)
    assert (first.url, first.created) == ("/notes/1/", True)
    assert (again.url, again.created) == ("/notes/1/", False)
    assert made == ["Breaks"]


def test_a_refusal_lands_on_the_form_and_the_form_can_be_sent_again(organizer):
    data = {"title": "Breaks", "form_key": str(uuid.uuid4())}

    def refuse() -> str:
        raise ValidationError({"title": "That title is taken."})

    form = NoteForm(data)
    assert create_once(_post(organizer, data), form, refuse) is None
    assert form.errors["title"] == ["That title is taken."]
    assert not FormSubmission.objects.filter(user=organizer).exists()
    retry = create_once(_post(organizer, data), NoteForm(data), lambda: "/notes/1/")
    assert retry.created
