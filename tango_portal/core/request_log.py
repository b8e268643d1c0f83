"""A request id for every request, on its response and on every log line it causes; and
one log line per request.

The request line (logger `tango_portal.request`) holds the method, the path, the status,
the duration and the client's address: never a header, a body, a cookie or the query
string, which may carry secrets, and the path has anything secret-shaped (a sign-up
link's token) redacted. This is logging only: the middleware changes nothing about how
a request is answered but the `X-Request-ID` header.
"""

from __future__ import annotations

import logging
import re
import time
import uuid
from collections.abc import Callable
from contextvars import ContextVar

from django.conf import settings
from django.http import HttpRequest, HttpResponse

from tango_portal.core.http import client_ip
from tango_portal.core.security_log import redact

logger = logging.getLogger("tango_portal.request")

HEADER = "X-Request-ID"
# What a proxy's id may look like to be kept: a short token of characters that cannot
# break a log line or a header, such as nginx's $request_id (32 hex digits).
_SAFE_ID = re.compile(r"[A-Za-z0-9._:-]{1,64}")

_request_id: ContextVar[str | None] = ContextVar("request_id", default=None)


def current_request_id() -> str | None:
    """The id of the request being served, or None outside a request."""
    return _request_id.get()


class RequestIdFilter(logging.Filter):
    """Put the current request's id on every record (`request_id`, None outside a request).

    On the handler, so that records of every logger get it, as they are written.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "request_id", None) is None:
            record.request_id = _request_id.get()
        return True


def _request_id_for(request: HttpRequest) -> str:
    if settings.REQUEST_ID_FROM_PROXY:
        offered = request.headers.get(HEADER, "")
        if _SAFE_ID.fullmatch(offered) and redact(offered) == offered:
            return offered
    return uuid.uuid4().hex


class RequestLogMiddleware:
    """Give each request an id (the proxy's `X-Request-ID` when REQUEST_ID_FROM_PROXY says it
    sets one, otherwise a new one), send it back as `X-Request-ID`, and log the request line
    once the response is ready. Outermost but for django-prometheus's first middleware, so
    that it sees every answer, redirects to HTTPS and 500 pages included.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request_id = _request_id_for(request)
        reset = _request_id.set(request_id)
        started = time.monotonic()
        try:
            response = self.get_response(request)
            response[HEADER] = request_id
            duration_ms = round((time.monotonic() - started) * 1000, 1)
            path = redact(request.path)
            logger.info(
                "%s %s %s %sms",
                request.method,
                path,
                response.status_code,
                duration_ms,
                extra={
                    "method": request.method,
                    "path": path,
                    "status": response.status_code,
                    "duration_ms": duration_ms,
                    "client_ip": client_ip(request),
                },
            )
            return response
        finally:
            _request_id.reset(reset)
