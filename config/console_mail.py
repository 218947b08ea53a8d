"""Mail printed on the console, readable: the embedded default's mail backend (`make run`
prints it in the worker's output).

Django's console backend prints the message as it would go over SMTP: a subject with curly
quotes becomes `=?utf-8?q?=E2=80=9CStop_the_Employee…`, and a body in quoted-printable or
base64 is unreadable. A newcomer trying the demo reads the mails there (review 2026-12), so
this prints the headers decoded and each text part as text; attachments by name and size.
"""

from __future__ import annotations

from email.header import decode_header, make_header

from django.core.mail.backends import console

SHOWN_HEADERS = ("From", "To", "Cc", "Reply-To", "Subject", "Date", "Message-ID")


def _decoded(value: str) -> str:
    # Folded (multi-line) encoded words: one line, as a mail client shows it.
    return str(make_header(decode_header(value))).replace("\n", " ")


class EmailBackend(console.EmailBackend):
    def write_message(self, message):
        msg = message.message()
        lines = [f"{name}: {_decoded(msg[name])}" for name in SHOWN_HEADERS if msg[name]]
        for part in msg.walk():
            if part.is_multipart():
                continue
            filename = part.get_filename()
            payload = part.get_payload(decode=True) or b""
            if filename or part.get_content_maintype() != "text":
                kind = filename or part.get_content_type()
                lines.append(f"[attachment {kind}, {len(payload)} bytes]")
                continue
            lines.append("")
            if msg.is_multipart():
                lines.append(f"[{part.get_content_type()}]")
            charset = part.get_content_charset() or "utf-8"
            lines.append(payload.decode(charset, "replace").rstrip("\n"))
        self.stream.write("\n".join(lines) + "\n")
        self.stream.write("-" * 79 + "\n")
