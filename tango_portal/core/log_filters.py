"""Logging filters that keep request details and secrets out of the error log."""

from __future__ import annotations

import logging

from tango_portal.core.security_log import _clean as redact


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
