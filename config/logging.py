"""Logging that cannot leak who signed (threat model P1)."""

import logging


class PrivacyFilter(logging.Filter):
    """Strip the request from log records and drop request/access lines.

    Django attaches the HttpRequest to records from `django.request` and `django.server`;
    any handler that formats it (AdminEmailHandler, Sentry-like integrations) would then
    write the client address and user agent. We keep the message, never the request.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        if record.name == "django.server":
            return False
        if hasattr(record, "request"):
            record.request = None
        return True
