"""Logging that cannot leak who signed (threat model P1)."""

import logging
import re

from config.i18n import path_without_language

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


# Paths where only staff go. Everything else is public: signer pages, the signer API, the
# flyer redirect and any path a visitor may type.
_STAFF_PREFIXES = ("/staff/", "/accounts/")


def _public_path(request) -> bool:
    path = getattr(request, "path", None)
    if not isinstance(path, str):
        return True
    return not path_without_language(path).startswith(_STAFF_PREFIXES)


def _exception_place(exc_info) -> str:
    """The exception's type and the code line that raised it: enough to find the bug, and
    unlike its text or the traceback's values, never what a signer sent."""
    exc, tb = exc_info[1], exc_info[2]
    while tb is not None and tb.tb_next is not None:
        tb = tb.tb_next
    where = f" at {tb.tb_frame.f_code.co_filename}:{tb.tb_lineno}" if tb is not None else ""
    return f"{type(exc).__name__}{where}"


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
        request = getattr(record, "request", None)
        if request is not None and _public_path(request):
            return self._public_request(record)
        if hasattr(record, "request"):
            record.request = None
        if record.name.startswith("celery"):
            return self._quiet_celery(record)
        return True

    def _public_request(self, record: logging.LogRecord) -> bool:
        """A Django line about a public request (django.request, django.security.*).

        A 4xx of the signer API is a signer acting ("403 code_expired", "409 already_signed"),
        and the log's time stamp (journald, docker) would date it: dropped, whatever its level
        (no exact time of a signer's action is kept anywhere). A 5xx is a bug the operator
        must see, so it stays, but as a line with no path (which names the petition and the
        step), no request and no exception text: the status, the exception's type and the
        line that raised it.
        """
        status = getattr(record, "status_code", None)
        server_error = status >= 500 if isinstance(status, int) else record.levelno >= logging.ERROR
        if not server_error:
            return False
        place = _exception_place(record.exc_info) if record.exc_info else None
        record.msg = "Server error %s on a public page%s"
        record.args = (status or "", f": {place}" if place else "")
        record.exc_info = None
        record.exc_text = None
        record.request = None
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
