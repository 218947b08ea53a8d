"""Logging that cannot leak who signed (threat model P1)."""

import logging
import re

# Celery's per-task lines: "received" (celery.worker.strategy) and "succeeded"
# (celery.app.trace). For a code mail each one is the moment someone asked for a code.
_CELERY_PER_TASK = ("celery.worker.strategy",)


def _exception_name(exc) -> str:
    if isinstance(exc, str):
        # Celery logs a retry as "Retry in 2s: SMTPRecipientsRefused({'x@corp': …})": keep
        # the back-off and the exception's name.
        found = re.match(r"(Retry in [^:]*: )?(\w+)", exc)
        return "".join(g for g in found.groups() if g) if found else "error"
    return type(exc).__name__


class PrivacyFilter(logging.Filter):
    """Strip the request from log records, drop request/access lines and per-task lines,
    and keep only the exception type of task failures.

    Django attaches the HttpRequest to records from `django.request` and `django.server`;
    any handler that formats it (AdminEmailHandler, Sentry-like integrations) would then
    write the client address and user agent. We keep the message, never the request.
    A task's arguments and the text of its exceptions may name an address (an SMTP refusal
    quotes the recipient), so worker lines keep the task's name and the exception's type.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        if record.name == "django.server" or record.name in _CELERY_PER_TASK:
            return False
        if hasattr(record, "request"):
            record.request = None
        if record.name.startswith("celery"):
            return self._quiet_celery(record)
        return True

    def _quiet_celery(self, record: logging.LogRecord) -> bool:
        context = record.args if isinstance(record.args, dict) else None
        if context is not None and record.levelno < logging.WARNING and "runtime" in context:
            return False  # "Task … succeeded in …s": one line per mail sent
        if context is not None:
            context = dict(context)
            for name in ("args", "kwargs", "return_value", "traceback"):
                if name in context:
                    context[name] = "…"
            if "exc" in context:
                context["exc"] = _exception_name(context["exc"])
            record.args = context
            if hasattr(record, "data"):
                record.data = context
        if record.exc_info:
            record.msg = f"{record.msg} ({_exception_name(record.exc_info[1])})"
            record.exc_info = None
            record.exc_text = None
        return True
