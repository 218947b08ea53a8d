"""The embedded default's console mail (config/console_mail.py): what `make run` prints in
the worker's output reads as the mail does, not as its SMTP encoding."""

from __future__ import annotations

import io

from django.core.mail import EmailMultiAlternatives

from config.console_mail import EmailBackend


def _printed(message) -> str:
    stream = io.StringIO()
    EmailBackend(stream=stream).send_messages([message])
    return stream.getvalue()


def test_subject_and_body_are_printed_decoded():
    message = EmailMultiAlternatives(
        subject="“Stop the Employee Data Extraction Factory” passed 1 signature & more",
        body="Published total: 2 — goal: 500\nÄnderungen: none\n" + "long line " * 20,
        from_email="Countersign <noreply@localhost>",
        to=["organizer@acme.example"],
    )
    printed = _printed(message)
    assert (
        "Subject: “Stop the Employee Data Extraction Factory” passed 1 signature & more\n"
        in printed
    )
    assert "To: organizer@acme.example\n" in printed
    assert "Published total: 2 — goal: 500\nÄnderungen: none\n" in printed
    assert "=?utf-8?" not in printed and "=E2=80" not in printed
    assert printed.endswith("-" * 79 + "\n")


def test_parts_are_labelled_and_attachments_named():
    message = EmailMultiAlternatives(
        subject="Codes", body="Plain text", from_email="a@localhost", to=["b@localhost"]
    )
    message.attach_alternative("<p>HTML</p>", "text/html")
    message.attach("cards.pdf", b"%PDF-1.7 " + b"x" * 91, "application/pdf")
    printed = _printed(message)
    assert "[text/plain]\nPlain text" in printed
    assert "[text/html]\n<p>HTML</p>" in printed
    assert "[attachment cards.pdf, 100 bytes]" in printed
    assert "JVBERi0" not in printed  # the PDF's base64 is not dumped on the console
