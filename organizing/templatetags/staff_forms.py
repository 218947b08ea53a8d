"""The shared form-field rendering for staff pages: every input is tied to its help text,
its length counter and its errors (`aria-describedby`, `aria-invalid`), and groups of
checkboxes get a fieldset with a legend."""

from __future__ import annotations

from django import forms, template
from django.utils.safestring import SafeString

register = template.Library()


def error_ids(field: forms.BoundField) -> list[str]:
    return [f"{field.auto_id}_error{i}" for i in range(1, len(field.errors) + 1)]


@register.filter
def field_error_ids(field: forms.BoundField) -> list[tuple[str, str]]:
    return list(zip(error_ids(field), field.errors, strict=True))


@register.filter
def field_limit(field: forms.BoundField) -> int | None:
    """The character limit the counter shows (see StaffFormMixin)."""
    return field.field.widget.attrs.get("data-maxlength")


@register.simple_tag
def field_widget(field: forms.BoundField) -> SafeString:
    described_by = []
    if field.help_text:
        described_by.append(f"{field.auto_id}_helptext")
    if field_limit(field):
        described_by.append(f"{field.auto_id}_counter")
    described_by += error_ids(field)
    attrs = {"aria-describedby": " ".join(described_by)} if described_by else {}
    return field.as_widget(attrs=attrs)


@register.filter
def hidden_errors(form: forms.BaseForm) -> bool:
    """A hidden field (the form key) was refused: the form is out of date. Field errors
    alone must not open the form's error box (an empty red bar, review O3)."""
    return any(field.errors for field in form.hidden_fields())


@register.filter
def form_layout(form: forms.BaseForm) -> list[dict]:
    """Visible fields in order; the names a form lists in `fieldsets` come as one group, and
    those in `advanced` (summary, names) last, folded in a <details> part (review O3)."""
    grouped = {
        name: (legend, names) for legend, names in getattr(form, "fieldsets", ()) for name in names
    }
    summary, advanced_names = getattr(form, "advanced", (None, ()))
    layout, seen = [], set()
    for field in form.visible_fields():
        if field.name in advanced_names:
            continue
        if field.name in grouped:
            legend, names = grouped[field.name]
            if legend not in seen:
                seen.add(legend)
                fields = [form[name] for name in names if name in form.fields]
                layout.append({"legend": legend, "fields": fields})
        else:
            layout.append({"field": field})
    advanced = [form[name] for name in advanced_names if name in form.fields]
    if advanced:
        is_open = any(field.errors for field in advanced)
        layout.append({"advanced": summary, "fields": advanced, "open": is_open})
    return layout
