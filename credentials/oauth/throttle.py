"""Brute-force throttling of the token, revocation and introspection endpoints.

Failed client authentications and failed service-account logins are counted in
Django's cache, which is Redis when REDIS_URL is set, so every app-server process
shares the same counters. Counters are fixed windows of TOKEN_FAILURE_WINDOW.

When the shared cache cannot be reached, each process counts in its own memory instead
(and logs `cache_unavailable`): every limit then holds per process rather than across
app servers (N processes let through up to N times as many failures), and tokens are
still issued. Refusing every token request instead would stop all integrations for a
cache outage, while the secrets this throttle guards are 256-bit random values that a
few more guesses cannot find.

Four keys, each with the caller's address (`tango_portal.core.http.client_ip`):

- the client ID presented (limit TOKEN_FAILURE_LIMIT);
- the service account presented, client ID + username (same limit);
- the username presented, through whatever client ID (same limit);
- the address itself, whatever it presents (TOKEN_FAILURE_ADDRESS_LIMIT: one address
  guessing across many client IDs or usernames, with room for the several
  integrations that often share one egress address).

Only the failing key is throttled: a wrong service-account password counts against
that account, its username and the address, not against the client, whose secret was
right. So one misconfigured server cannot lock out the client's other service
accounts. A wrong client secret counts against everything the request presented.

Counting comes first, atomically (`cache.add` then `cache.incr`): `reserve` counts the
attempt against every key it presents and refuses it, before any secret is checked,
if that takes any key past its limit; `Reservation.settle` then gives back what the
outcome did not earn (everything, for a success). However many requests race, no more
than the limit of them get checked. A refused attempt gives its counts back too, so
hammering a locked key does not fill the address's counter.

There is deliberately no counter for a client ID or username on its own. Client
secrets and service-account passwords are 256-bit random values, so spreading guesses
over many addresses gains an attacker nothing, while a global counter would let
anyone who knows a (public) client ID lock its owner out from elsewhere. Keying by
address keeps a legitimate client working whatever happens at other addresses.
"""

from __future__ import annotations

import contextlib
import enum
import hashlib
import math
from dataclasses import dataclass, field

from django.conf import settings
from django.core.cache import BaseCache, cache
from django.core.cache.backends.locmem import LocMemCache
from django.utils import timezone
from redis.exceptions import RedisError

from tango_portal.core import security_log

KEY_PREFIX = "oauth-failures"
# Counters outlive their window this long, so that a slow attempt can still give back.
GRACE_SECONDS = 60
# Where this process counts while the shared cache is unreachable; bounded, as an
# attacker chooses how many keys there are.
fallback = LocMemCache("oauth-failures-fallback", {"OPTIONS": {"MAX_ENTRIES": 10_000}})


@dataclass(frozen=True)
class Presented:
    """Who a request says it is: what the counters are keyed by."""

    address: str | None
    client_id: str | None = None
    username: str | None = None


class Outcome(enum.Enum):
    """What checking the attempt showed, and so which keys it counts against."""

    OK = "ok"  # succeeded, or failed for a reason that is not a guessed secret
    CLIENT_FAILED = "client_failed"  # wrong client secret (invalid_client)
    ACCOUNT_FAILED = "account_failed"  # right client, wrong service account (invalid_grant)


class _Kind(enum.Enum):
    CLIENT = "client"
    ACCOUNT = "account"
    USERNAME = "user"
    ADDRESS = "addr"


# The keys each outcome keeps counted; the rest are given back.
_KEPT = {
    Outcome.OK: frozenset[_Kind](),
    Outcome.CLIENT_FAILED: frozenset(_Kind),
    Outcome.ACCOUNT_FAILED: frozenset({_Kind.ACCOUNT, _Kind.USERNAME, _Kind.ADDRESS}),
}


def _window_seconds() -> int:
    return max(1, int(settings.TOKEN_FAILURE_WINDOW.total_seconds()))


def _now() -> float:
    return timezone.now().timestamp()


def _part(value: str) -> str:
    # Presented values are attacker-chosen: hash them into safe, bounded cache keys.
    return hashlib.sha256(value.encode("utf-8", "surrogatepass")).hexdigest()[:32]


def _current_window() -> tuple[int, int]:
    """The current window's index and the seconds left in it."""
    length = _window_seconds()
    now = _now()
    index = int(now // length)
    return index, max(1, math.ceil((index + 1) * length - now))


def _keys(presented: Presented, window: int) -> dict[_Kind, tuple[str, int]]:
    """Each key this request presents: its cache key and the failures it allows."""
    limit = settings.TOKEN_FAILURE_LIMIT
    address = _part(presented.address or "unknown")
    base = f"{KEY_PREFIX}:{window}"
    # Narrowest first: an attempt refused by its own key barely touches the wider ones.
    keys: dict[_Kind, tuple[str, int]] = {}
    if presented.client_id and presented.username:
        account = _part(f"{presented.client_id}\0{presented.username}")
        keys[_Kind.ACCOUNT] = (f"{base}:account:{account}:{address}", limit)
    if presented.client_id:
        keys[_Kind.CLIENT] = (f"{base}:client:{_part(presented.client_id)}:{address}", limit)
    if presented.username:
        keys[_Kind.USERNAME] = (f"{base}:user:{_part(presented.username)}:{address}", limit)
    keys[_Kind.ADDRESS] = (f"{base}:addr:{address}", settings.TOKEN_FAILURE_ADDRESS_LIMIT)
    return keys


def _increment(store: BaseCache, key: str, timeout: int) -> int:
    """Add one to a counter atomically and return the new count."""
    if store.add(key, 1, timeout=timeout):
        return 1
    try:
        return store.incr(key)
    except ValueError:
        # Expired between add and incr (the window just ended): start afresh.
        store.add(key, 1, timeout=timeout)
        return 1


def _give_back(store: BaseCache, keys: list[str]) -> None:
    for key in keys:
        # ValueError: the window (and its grace) is over, nothing left to give back to.
        with contextlib.suppress(ValueError):
            store.decr(key)


def _cache_unavailable(step: str, error: RedisError, address: str | None) -> None:
    security_log.event(
        "cache_unavailable",
        use="token_throttle",
        step=step,
        fallback="counted in this process"
        if step == "reserve"
        else "not given back, expires with its window",
        ip=address,
        reason=str(error),
    )


@dataclass
class Reservation:
    """One attempt, counted against every key it presents until `settle` says otherwise."""

    retry_after: int | None
    _counted: dict[_Kind, str] = field(default_factory=dict, repr=False)
    # Where the counts were made: the shared cache, or this process's fallback.
    _store: BaseCache | None = field(default=None, repr=False)
    _address: str | None = field(default=None, repr=False)

    @property
    def refused(self) -> bool:
        return self.retry_after is not None

    def settle(self, outcome: Outcome) -> None:
        """Keep the counts this outcome earned and give back the rest (once). Never raises:
        if the shared cache went away meanwhile, what was not given back expires with its
        window."""
        kept = _KEPT[outcome]
        keys = [key for kind, key in self._counted.items() if kind not in kept]
        self._counted = {}
        if self._store is None:
            return
        try:
            _give_back(self._store, keys)
        except RedisError as error:
            _cache_unavailable("settle", error, self._address)


def _reserve(store: BaseCache, presented: Presented) -> Reservation:
    index, remaining = _current_window()
    timeout = remaining + GRACE_SECONDS
    counted: dict[_Kind, str] = {}
    over = False
    for kind, (key, limit) in _keys(presented, index).items():
        counted[kind] = key
        if _increment(store, key, timeout) > limit:
            over = True
            break
    if over:
        _give_back(store, list(counted.values()))
        return Reservation(retry_after=remaining)
    return Reservation(retry_after=None, _counted=counted, _store=store, _address=presented.address)


def reserve(presented: Presented) -> Reservation:
    """Count this attempt before any secret is checked; refused if a key is past its limit.

    A refused reservation has already given its counts back and carries the seconds
    until the window ends. An accepted one must be settled with the outcome. Counted in
    this process alone while the shared cache is unreachable (counts already made in it
    before it failed expire with their window).
    """
    try:
        return _reserve(cache, presented)
    except RedisError as error:
        _cache_unavailable("reserve", error, presented.address)
        return _reserve(fallback, presented)
