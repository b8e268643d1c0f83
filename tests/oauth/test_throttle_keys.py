"""The token throttle counts the failing key, counts before it decides, and sees past the balancer."""

from __future__ import annotations

import json
import logging
import threading
from http import HTTPStatus

import pytest
from django.core.cache.backends.redis import RedisCache
from django.test import Client

from credentials import services
from credentials.oauth import throttle
from tests.oauth.conftest import request_token

# No test here straddles the end of a failure window (its counters would start afresh).
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("throttle_clock")]

LIMIT = 3
BALANCER = "10.0.0.5"


@pytest.fixture(autouse=True)
def _small_limits(settings):
    settings.TOKEN_FAILURE_LIMIT = LIMIT
    settings.TOKEN_FAILURE_ADDRESS_LIMIT = 5 * LIMIT


def _token(creds, forwarded_for: str | None = None, **overrides):
    extra = {"REMOTE_ADDR": BALANCER}
    if forwarded_for is not None:
        extra["HTTP_X_FORWARDED_FOR"] = forwarded_for
    return request_token(Client(), creds.form(**overrides), **extra)


def _is_throttled(response) -> bool:
    return response.status_code == HTTPStatus.TOO_MANY_REQUESTS and response.json()["error"] == (
        "too_many_attempts"
    )


def test_a_failing_service_account_does_not_lock_out_the_clients_other_accounts(creds, manager, team):
    other, other_password = services.service_account_create(actor=manager, team=team)
    for _ in range(LIMIT + 2):
        _token(creds, password="tng_sbx_sap_wrong")

    assert _is_throttled(_token(creds))
    # Same client, same address: its other service account still gets its token.
    response = _token(creds, username=other.username, password=other_password)
    assert response.status_code == HTTPStatus.OK


def test_hammering_a_locked_account_does_not_fill_the_addresss_counter(creds, manager, team, settings):
    settings.TOKEN_FAILURE_ADDRESS_LIMIT = LIMIT + 1
    other, other_password = services.service_account_create(actor=manager, team=team)
    for _ in range(5 * LIMIT):
        _token(creds, password="tng_sbx_sap_wrong")

    # Only the LIMIT failures that were checked count against the address.
    response = _token(creds, username=other.username, password=other_password)
    assert response.status_code == HTTPStatus.OK


def test_clients_behind_one_balancer_are_throttled_apart(creds, settings, caplog):
    caplog.set_level(logging.INFO, logger="tango_portal.security")

    # Off: X-Forwarded-For is ignored, so everyone behind the balancer is one address.
    settings.TRUSTED_PROXY_COUNT = 0
    for _ in range(LIMIT):
        _token(creds, "198.51.100.1", password="tng_sbx_sap_wrong")
    assert _is_throttled(_token(creds, "198.51.100.2"))
    off = [json.loads(r.getMessage()) for r in caplog.records if r.name == "tango_portal.security"]
    assert {e["ip"] for e in off if e["event"].startswith("token_")} == {BALANCER}

    from django.core.cache import cache

    cache.clear()
    caplog.clear()
    settings.TRUSTED_PROXY_COUNT = 1
    for _ in range(LIMIT):
        _token(creds, "198.51.100.1", password="tng_sbx_sap_wrong")

    assert _is_throttled(_token(creds, "198.51.100.1"))
    # A spoofed left-most entry does not make a new key.
    assert _is_throttled(_token(creds, "203.0.113.66, 198.51.100.1"))
    # Another client behind the same balancer is not held back by them.
    assert _token(creds, "198.51.100.2").status_code == HTTPStatus.OK
    logged = [json.loads(r.getMessage()) for r in caplog.records if r.name == "tango_portal.security"]
    assert {e["ip"] for e in logged if e["event"] == "token_throttled"} == {"198.51.100.1"}


def test_racing_failures_do_not_get_past_the_limit():
    # Every attempt is in flight (counted, not yet settled) before any of them fails.
    presented = throttle.Presented(address="198.51.100.1", client_id="tng_sbx_ci_x", username="u")
    reservations = [throttle.reserve(presented) for _ in range(10)]
    accepted = [r for r in reservations if not r.refused]
    for reservation in accepted:
        reservation.settle(throttle.Outcome.ACCOUNT_FAILED)

    assert len(accepted) == LIMIT
    assert throttle.reserve(presented).refused


def test_a_success_in_flight_gives_its_count_back():
    presented = throttle.Presented(address="198.51.100.1", client_id="tng_sbx_ci_x", username="u")
    for _ in range(LIMIT - 1):
        throttle.reserve(presented).settle(throttle.Outcome.ACCOUNT_FAILED)
    throttle.reserve(presented).settle(throttle.Outcome.OK)

    last = throttle.reserve(presented)
    assert not last.refused
    last.settle(throttle.Outcome.ACCOUNT_FAILED)
    assert throttle.reserve(presented).refused


@pytest.fixture(params=["locmem", "redis"])
def shared_cache(request, monkeypatch):
    """The throttle's cache: this process's memory, or Redis as many app servers share it
    (under this test's own key prefix, which nothing else flushes)."""
    if request.param == "locmem":
        return
    shared = request.getfixturevalue("shared_redis")
    options = {"socket_connect_timeout": 2, "socket_timeout": 5}
    monkeypatch.setattr(
        throttle, "cache", RedisCache(shared.url, {"KEY_PREFIX": shared.prefix, "OPTIONS": options})
    )


def test_concurrent_failing_requests_do_not_get_past_the_limit(shared_cache):
    presented = throttle.Presented(address="198.51.100.1", client_id="tng_sbx_ci_x", username="u")
    threads_count = 12
    # Bounded: a thread that fails breaks the barriers for the others instead of leaving
    # them waiting for ever.
    start = threading.Barrier(threads_count, timeout=30)
    checked = threading.Barrier(threads_count, timeout=30)
    accepted: list[bool] = []
    errors: list[BaseException] = []

    def attempt() -> None:
        try:
            start.wait()
            reservation = throttle.reserve(presented)
            # Nobody settles before everybody has asked: the widest race there is.
            checked.wait()
            accepted.append(not reservation.refused)
            if not reservation.refused:
                reservation.settle(throttle.Outcome.ACCOUNT_FAILED)
        except BaseException as error:
            errors.append(error)
            start.abort()
            checked.abort()

    threads = [threading.Thread(target=attempt) for _ in range(threads_count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert not any(thread.is_alive() for thread in threads)
    assert not errors
    assert accepted.count(True) == LIMIT
    assert throttle.reserve(presented).refused
