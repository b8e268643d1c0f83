"""What every log line passes through: filters that keep request details and secrets out
of the error log, and the JSON formatter of production (one object per line)."""

from __future__ import annotations

import logging
from typing import Any

from pythonjsonlogger.core import RESERVED_ATTRS
from pythonjsonlogger.json import JsonFormatter as BaseJsonFormatter

from tango_portal.core.security_log import redact


class NoRequestDetails(logging.Filter):
    """Drop the request from a record and redact secret-shaped values from its text.

    `django.request` attaches the request to each record, and a formatter or handler
    that renders it (as AdminEmailHandler does) would write its POST data, cookies and
    headers; the traceback itself may quote a secret that an exception message held.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        if hasattr(record, "request"):
            record.request = None
        record.msg = redact(record.getMessage())
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        return True


class JsonFormatter(BaseJsonFormatter):
    """One JSON object per record: time (UTC), level, logger, message, then the record's
    own fields (the request id, the request line's, a security event's).

    A record's `request` (Django attaches the HttpRequest to django.security and
    django.request records) is never written: its text is the full path, query string
    included. A traceback a filter already rendered (and redacted, NoRequestDetails) is
    written as it is, not rendered again from the exception. Messages and tracebacks are
    redacted here too, whatever logger they come from.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("fmt", "%(levelname)s %(name)s %(message)s")
        kwargs.setdefault("rename_fields", {"levelname": "level", "name": "logger"})
        kwargs.setdefault("timestamp", "time")
        kwargs.setdefault("reserved_attrs", [*RESERVED_ATTRS, "request"])
        super().__init__(*args, **kwargs)

    def format(self, record: logging.LogRecord) -> str:
        if record.exc_info and record.exc_text:
            exc_info, record.exc_info = record.exc_info, None
            try:
                return super().format(record)
            finally:
                record.exc_info = exc_info
        return super().format(record)

    def add_fields(
        self, log_data: dict[str, Any], record: logging.LogRecord, message_dict: dict[str, Any]
    ) -> None:
        super().add_fields(log_data, record, message_dict)
        # A security event (tango_portal.core.security_log): its fields, not its JSON text.
        event = log_data.pop("security_event", None)
        if isinstance(event, dict):
            log_data["message"] = event.get("event")
            for key, value in event.items():
                log_data.setdefault(key, value)
        for key in ("message", "exc_info"):
            if isinstance(log_data.get(key), str):
                log_data[key] = redact(log_data[key])
