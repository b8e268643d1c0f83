"""Brute-force throttling of the token, revocation and introspection endpoints.

Failed client authentications and failed service-account logins are counted in
Django's cache, which is Redis when REDIS_URL is set, so every app-server process
shares the same counters (INCR is atomic there). Counters are fixed windows of
TOKEN_FAILURE_WINDOW; once one reaches TOKEN_FAILURE_LIMIT, further requests that
match it get 429 with Retry-After until the window ends, before any secret is checked.

Three counters, all keyed with the caller's address:

- the client ID presented, from that address (limit TOKEN_FAILURE_LIMIT);
- the service-account username presented, from that address (same limit);
- the address itself, whatever it presents (ADDRESS_LIMIT_FACTOR times the limit:
  one address guessing across many client IDs or usernames, with room for the
  several integrations that often share one egress address).

There is deliberately no counter for a client ID or username on its own. Client
secrets and service-account passwords are 256-bit random values, so spreading guesses
over many addresses gains an attacker nothing, while a global counter would let
anyone who knows a (public) client ID lock its owner out from elsewhere. Keying by
address keeps a legitimate client working whatever happens at other addresses.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from django.utils import timezone

KEY_PREFIX = "oauth-failures"
ADDRESS_LIMIT_FACTOR = 5


@dataclass(frozen=True)
class Presented:
    """Who a request says it is: what the counters are keyed by."""

    address: str | None
    client_id: str | None = None
    username: str | None = None


def _window_seconds() -> int:
    return max(1, int(settings.TOKEN_FAILURE_WINDOW.total_seconds()))


def _now() -> float:
    return timezone.now().timestamp()


def _part(value: str) -> str:
    # Presented values are attacker-chosen: hash them into safe, bounded cache keys.
    return hashlib.sha256(value.encode("utf-8", "surrogatepass")).hexdigest()[:32]


def _limits(presented: Presented, window: int) -> dict[str, int]:
    """Each counter this request matches, and the failures it allows per window."""
    limit = settings.TOKEN_FAILURE_LIMIT
    address = _part(presented.address or "unknown")
    limits = {f"{KEY_PREFIX}:{window}:addr:{address}": limit * ADDRESS_LIMIT_FACTOR}
    if presented.client_id:
        limits[f"{KEY_PREFIX}:{window}:client:{_part(presented.client_id)}:{address}"] = limit
    if presented.username:
        limits[f"{KEY_PREFIX}:{window}:user:{_part(presented.username)}:{address}"] = limit
    return limits


def _current_window() -> tuple[int, int]:
    """The current window's index and the seconds left in it."""
    length = _window_seconds()
    now = _now()
    index = int(now // length)
    return index, max(1, math.ceil((index + 1) * length - now))


def retry_after(presented: Presented) -> int | None:
    """Seconds until this caller may try again, or None if it is not throttled."""
    index, remaining = _current_window()
    limits = _limits(presented, index)
    counts = cache.get_many(list(limits))
    if any(isinstance(count, int) and count >= limits[key] for key, count in counts.items()):
        return remaining
    return None


def record_failure(presented: Presented) -> None:
    """Count one failed authentication against every counter this request matches."""
    index, remaining = _current_window()
    # The key lives a little beyond its window so that late readers still see it.
    timeout = remaining + 5
    for key in _limits(presented, index):
        cache.add(key, 0, timeout=timeout)
        try:
            cache.incr(key)
        except ValueError:
            # Expired between add and incr (the window just ended): start afresh.
            cache.add(key, 1, timeout=timeout)
