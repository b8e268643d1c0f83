"""Usage evidence: when, how often and from where each credential was used.

Every successful token request and every API call is a *use* of each credential that
authenticated it: the client and the service account, or the API key. Counting a use
costs no database write and no network round trip: each app-server process adds it to
its own counters. The database is written at the first use of a credential from an
address, then at most once per USAGE_FLUSH_SECONDS per credential and address: that
day's count grows by what the process counted (an `F()` increment, so processes add up),
the address's last-seen time and user agent are set, and so is the credential's
`last_used_at`. A process that exits writes what it still holds (`flush_all`, at exit).

So "last used" is exact to USAGE_FLUSH_SECONDS, and a day's count is complete once the
last process that served it has written (its next use or its exit). Day counts are kept
for API keys: tokens issued per day need none, every token being a row of AccessToken.
The daily `purge_usage_evidence` task drops old counts and all but the newest addresses.
"""

from __future__ import annotations

import atexit
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F, Window
from django.db.models.functions import RowNumber
from django.http import HttpRequest
from django.tasks import task
from django.utils import timezone

from credentials.models import (
    ApiKey,
    CredentialAddress,
    CredentialType,
    CredentialUsageDay,
    OAuthClient,
    ServiceAccount,
)
from tango_portal.core.http import client_ip

USER_AGENT_MAX = CredentialAddress._meta.get_field("user_agent").max_length or 300
_MODELS = {
    CredentialType.OAUTH_CLIENT: OAuthClient,
    CredentialType.SERVICE_ACCOUNT: ServiceAccount,
    CredentialType.API_KEY: ApiKey,
}


@dataclass(frozen=True)
class Credential:
    """A credential that authenticated a request: its type, id and team."""

    type: CredentialType
    pk: int
    team_id: int


@dataclass
class _Pending:
    """What this process counted of one credential and address since it last wrote."""

    written_at: float
    counts: dict[date, int]
    last_seen: datetime
    user_agent: str


_lock = threading.Lock()
_pending: dict[tuple[Credential, str], _Pending] = {}


def token_credentials(*, team_id: int, client_pk: int, service_account_pk: int | None) -> list[Credential]:
    """The credentials a token stands for: its client, and its service account if any."""
    used = [Credential(CredentialType.OAUTH_CLIENT, client_pk, team_id)]
    if service_account_pk is not None:
        used.append(Credential(CredentialType.SERVICE_ACCOUNT, service_account_pk, team_id))
    return used


def _printable(agent: str) -> str:
    # Printable text only: a user agent is shown on a page and may carry anything.
    return "".join(ch for ch in agent[: USER_AGENT_MAX * 2] if ch.isprintable())[:USER_AGENT_MAX]


def record(
    request: HttpRequest, credentials: Iterable[Credential], *, last_used_stamped: bool = False
) -> None:
    """Count one use of each of `credentials` by this request (a token request or API call).

    `last_used_stamped`: the caller already set the credentials' `last_used_at` (the token
    endpoint does, in the transaction that issues the token).
    """
    if not settings.USAGE_RECORDING:
        return
    address = client_ip(request)
    if not address:
        return
    now = timezone.now()
    # As sent; made printable only when written.
    user_agent = request.headers.get("User-Agent", "")
    due: list[tuple[Credential, str, _Pending]] = []
    clock = time.monotonic()
    with _lock:
        for credential in credentials:
            key = (credential, address)
            pending = _pending.get(key)
            if pending is None:
                # The first use this process sees: written at once, so a new credential's
                # first use shows straight away.
                pending = _pending[key] = _Pending(-float("inf"), {}, now, user_agent)
            pending.counts[now.date()] = pending.counts.get(now.date(), 0) + 1
            pending.last_seen, pending.user_agent = now, user_agent
            if clock - pending.written_at >= settings.USAGE_FLUSH_SECONDS:
                due.append((credential, address, _take(pending, clock)))
    if due:
        _write(due, last_used_stamped=last_used_stamped)


def _take(pending: _Pending, clock: float) -> _Pending:
    """What `pending` holds, to write; it starts counting afresh (call with the lock held)."""
    taken = _Pending(pending.written_at, pending.counts, pending.last_seen, pending.user_agent)
    pending.written_at, pending.counts = clock, {}
    return taken


def _write(due: list[tuple[Credential, str, _Pending]], *, last_used_stamped: bool = False) -> None:
    """Write what was taken of each credential and address: a handful of statements, each
    complete on its own, so no transaction is needed.

    The addresses go in one upsert. Day counts are kept for API keys, whose requests are
    all there is to count; a client's or service account's tokens per day are its
    AccessToken rows. `last_used_at` is set unless the caller's own write set it already
    (the token endpoint's, under the credentials' row locks).
    """
    CredentialAddress.objects.bulk_create(
        [
            CredentialAddress(
                team_id=credential.team_id,
                credential_type=credential.type,
                credential_pk=credential.pk,
                ip_address=address,
                user_agent=_printable(taken.user_agent),
                first_seen_at=taken.last_seen,
                last_seen_at=taken.last_seen,
            )
            for credential, address, taken in due
        ],
        update_conflicts=True,
        unique_fields=["credential_type", "credential_pk", "ip_address"],
        update_fields=["last_seen_at", "user_agent"],
    )
    for credential, _, taken in due:
        if credential.type == CredentialType.API_KEY:
            for day, count in taken.counts.items():
                _add_to_day(credential, day, count)
        if not last_used_stamped:
            # Only ever forward: processes write in any order.
            _MODELS[credential.type]._default_manager.filter(pk=credential.pk).exclude(
                last_used_at__gte=taken.last_seen
            ).update(last_used_at=taken.last_seen)


def _add_to_day(credential: Credential, day: date, count: int) -> None:
    rows = CredentialUsageDay.objects.filter(
        credential_type=credential.type, credential_pk=credential.pk, day=day
    )
    if rows.update(requests=F("requests") + count):
        return
    try:
        with transaction.atomic():
            CredentialUsageDay.objects.create(
                team_id=credential.team_id,
                credential_type=credential.type,
                credential_pk=credential.pk,
                day=day,
                requests=count,
            )
    except IntegrityError:
        # Another process made the day's row meanwhile: add to it.
        rows.update(requests=F("requests") + count)


def flush_all() -> None:
    """Write every count this process holds (at exit, and in tests)."""
    with _lock:
        clock = time.monotonic()
        due = [
            (credential, address, _take(pending, clock))
            for (credential, address), pending in _pending.items()
        ]
        _pending.clear()
    if written := [(credential, address, taken) for credential, address, taken in due if taken.counts]:
        _write(written)


def forget() -> None:
    """Drop what this process holds, unwritten (tests start from nothing)."""
    with _lock:
        _pending.clear()


def purge(*, now: datetime | None = None) -> int:
    """The daily housekeeping: delete day counts older than USAGE_RETENTION_DAYS, and the
    addresses of each credential but its USAGE_ADDRESSES_KEPT newest; return how many rows."""
    cutoff = (now or timezone.now()).date() - timedelta(days=settings.USAGE_RETENTION_DAYS)
    deleted, _ = CredentialUsageDay.objects.filter(day__lt=cutoff).delete()
    ranked = CredentialAddress.objects.annotate(
        rank=Window(
            RowNumber(),
            partition_by=[F("credential_type"), F("credential_pk")],
            order_by=[F("last_seen_at").desc(), F("id").desc()],
        )
    )
    old = [row.pk for row in ranked if row.rank > settings.USAGE_ADDRESSES_KEPT]
    dropped, _ = CredentialAddress.objects.filter(pk__in=old).delete()
    return deleted + dropped


@task()
def purge_usage_evidence() -> dict[str, int]:
    """The daily housekeeping of usage evidence (enqueued with the reminder check)."""
    return {"deleted": purge()}


def _flush_at_exit() -> None:
    try:
        flush_all()
    except Exception:
        return


atexit.register(_flush_at_exit)
