"""The security log: one event per record on the `tango_portal.security` logger.

Callers pass facts (who, from where, what was refused); values under secret-sounding
keys are dropped here as a second line of defence, so a careless caller cannot log a
password, secret or token. Each record's message is the event as a JSON object, and the
same fields ride on the record (`security_event`), so that the JSON formatter of
production (tango_portal.core.log_filters.JsonFormatter) writes them as fields of the
line beside the request id. The token endpoint's failures and throttling feed the
metrics (tango_portal.core.metrics) from here.
"""

from __future__ import annotations

import json
import logging
import re
from typing import Any

from django.contrib.auth.signals import user_logged_in, user_login_failed
from django.dispatch import receiver
from django.http import HttpRequest

from tango_portal.core import metrics
from tango_portal.core.http import client_ip

logger = logging.getLogger("tango_portal.security")

_SECRET_WORDS = ("password", "secret", "token", "authorization", "api_key", "apikey", "key")


# Anything shaped like one of the portal's secrets, wherever a caller put it (a secret
# pasted into the client ID field, say).
_SECRET_VALUE = re.compile(r"tng_[a-z]+_(?:sap|cs|ak|at|su)_\S*")


def redact(value: Any) -> Any:
    """`value` with anything shaped like one of the portal's secrets replaced; other types as they are."""
    if isinstance(value, str):
        return _SECRET_VALUE.sub("[redacted]", value)
    return value


def _is_secret_key(key: str) -> bool:
    lowered = key.lower()
    return any(word in lowered for word in _SECRET_WORDS) and lowered not in {"token_type", "key_prefix"}


def event(
    name: str, *, request: HttpRequest | None = None, level: int = logging.WARNING, **fields: Any
) -> None:
    """Log one security event with its structured fields."""
    record: dict[str, Any] = {"event": name}
    if request is not None:
        record["ip"] = client_ip(request)
        record["path"] = redact(request.path)
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            record["user_id"] = user.pk
    for key, value in fields.items():
        record[key] = "[redacted]" if _is_secret_key(key) else redact(value)
    logger.log(level, json.dumps(record, default=str, sort_keys=True), extra={"security_event": record})
    metrics.security_event(name, record)


@receiver(user_login_failed)
def _on_login_failed(
    sender: Any, credentials: dict[str, Any], request: HttpRequest | None = None, **kwargs: Any
) -> None:
    event("sign_in_failed", request=request, email=str(credentials.get("username", ""))[:254])


@receiver(user_logged_in)
def _on_logged_in(sender: Any, request: HttpRequest | None, user: Any, **kwargs: Any) -> None:
    event("signed_in", request=request, level=logging.INFO, email=user.email)
