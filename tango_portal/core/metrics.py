"""The portal's own Prometheus counters, and who may scrape /metrics.

django-prometheus's middleware counts requests, responses and latencies per view; these
count what the product does: tokens issued, token requests refused, throttle refusals,
credentials created and deactivated. Labels are closed sets (grant types, RFC error
codes, credential types), so no caller's input can add a time series.

Nothing here is called by the code that does the work. The counters follow it instead:
model signals for tokens and credentials (by lazy "app_label.Model" reference, so this
module imports no app), counted when the transaction that wrote the row commits, and
the security log's events (tango_portal.core.security_log calls `security_event`) for
the token endpoint's failures and throttling.

Under gunicorn each worker counts apart; gunicorn.conf.py points prometheus_client at a
shared directory (PROMETHEUS_MULTIPROC_DIR), and /metrics, answered by any one worker,
adds up all of them.
"""

from __future__ import annotations

import hmac
import ipaddress
import re
from functools import cache
from typing import Any

from django.conf import settings
from django.db import models, transaction
from django.db.models.signals import post_save
from django.dispatch import receiver
from django.http import HttpRequest
from prometheus_client import Counter

TOKENS_ISSUED = Counter(
    "tango_portal_tokens_issued",
    "Access tokens issued by the token endpoint.",
    ["grant", "environment"],
)
TOKEN_FAILURES = Counter(
    "tango_portal_token_failures",
    "Refused requests at the OAuth endpoints (token, revoke, introspect), by RFC 6749 error code.",
    ["error"],
)
THROTTLED = Counter(
    "tango_portal_token_throttled",
    "Requests at the OAuth endpoints refused by the failed-attempts throttle (429 too_many_attempts).",
)
CREDENTIALS_CREATED = Counter(
    "tango_portal_credentials_created",
    "Credentials created, by type.",
    ["type"],
)
CREDENTIALS_DEACTIVATED = Counter(
    "tango_portal_credentials_deactivated",
    "Credentials deactivated (service accounts: deleted), by type.",
    ["type"],
)

# What credentials.models.CredentialType calls each model.
CREDENTIAL_TYPES = {
    "credentials.ServiceAccount": "service_account",
    "credentials.OAuthClient": "oauth_client",
    "credentials.ApiKey": "api_key",
}
# The fields whose save ends a credential (credentials.services._deactivate, the leak scanner).
_ENDED_FIELDS = {"deactivated_at", "deleted_at"}
# An RFC 6749 error code, or one of the portal's own (too_many_requests, invalid_dpop_proof).
_ERROR_CODE = re.compile(r"[a-z_]{1,40}")


def token_issued(grant: str) -> None:
    TOKENS_ISSUED.labels(grant=grant, environment=settings.PORTAL_ENVIRONMENT).inc()


def token_failed(error: str) -> None:
    TOKEN_FAILURES.labels(error=error if _ERROR_CODE.fullmatch(error) else "other").inc()


def throttled() -> None:
    THROTTLED.inc()


def credential_created(credential_type: str) -> None:
    CREDENTIALS_CREATED.labels(type=credential_type).inc()


def credential_deactivated(credential_type: str) -> None:
    CREDENTIALS_DEACTIVATED.labels(type=credential_type).inc()


def security_event(name: str, fields: dict[str, Any]) -> None:
    """Count the security log's events that are metrics too."""
    if name == "token_request_failed":
        token_failed(str(fields.get("error", "")))
    elif name == "token_throttled":
        throttled()


@receiver(post_save, sender="credentials.AccessToken", dispatch_uid="tango_portal.metrics.token")
def _on_token_saved(
    sender: type[models.Model], instance: Any, created: bool, using: str, **kwargs: Any
) -> None:
    if created:
        # The legacy client-credentials grant is the one without a service account.
        grant = "password" if instance.service_account_id else "client_credentials"
        transaction.on_commit(lambda: token_issued(grant), using=using)


def _on_credential_saved(
    sender: type[models.Model],
    instance: Any,
    created: bool,
    update_fields: frozenset[str] | None,
    using: str,
    **kwargs: Any,
) -> None:
    credential_type = CREDENTIAL_TYPES[sender._meta.label]
    if created:
        transaction.on_commit(lambda: credential_created(credential_type), using=using)
    elif update_fields and any(getattr(instance, name, None) for name in _ENDED_FIELDS & update_fields):
        transaction.on_commit(lambda: credential_deactivated(credential_type), using=using)


for _label in CREDENTIAL_TYPES:
    post_save.connect(_on_credential_saved, sender=_label, dispatch_uid=f"tango_portal.metrics.{_label}")


# --- Who may scrape -----------------------------------------------------------------


@cache
def _networks(cidrs: tuple[str, ...]) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    return tuple(ipaddress.ip_network(cidr, strict=False) for cidr in cidrs)


def _from_allowed_network(request: HttpRequest) -> bool:
    # The socket peer, never X-Forwarded-For: a proxy on the same machine (nginx in front of
    # gunicorn on 127.0.0.1) makes every client's peer a loopback address, so a request that
    # came through a proxy (it carries X-Forwarded-For, which nginx and load balancers add)
    # is not "from the network" at all; it may still present the bearer secret.
    if "x-forwarded-for" in request.headers:
        return False
    try:
        peer = ipaddress.ip_address(request.META.get("REMOTE_ADDR") or "")
    except ValueError:
        return False
    if isinstance(peer, ipaddress.IPv6Address) and peer.ipv4_mapped is not None:
        peer = peer.ipv4_mapped
    return any(peer in network for network in _networks(tuple(settings.METRICS_ALLOWED_NETWORKS)))


def _has_bearer_secret(request: HttpRequest) -> bool:
    secret = settings.METRICS_BEARER_SECRET
    scheme, _, presented = request.headers.get("Authorization", "").partition(" ")
    if not secret or scheme.lower() != "bearer":
        return False
    return hmac.compare_digest(presented.strip().encode(), secret.encode())


def scrape_allowed(request: HttpRequest) -> bool:
    """Whether `request` may read /metrics: straight from a METRICS_ALLOWED_NETWORKS address,
    or with `Authorization: Bearer <METRICS_BEARER_SECRET>` (compared in constant time)."""
    return _has_bearer_secret(request) or _from_allowed_network(request)
