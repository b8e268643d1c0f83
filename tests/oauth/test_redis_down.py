"""When Redis is down: nothing answers 500; each use of the shared cache fails closed or falls back.

- the token throttle (and so the token, revocation and introspection endpoints) falls
  back to counting in each process: tokens are still issued, failures still throttled;
- the DPoP replay check fails closed: 503 temporarily_unavailable with Retry-After, at
  the token endpoint and at the API, and no proof is accepted;
- sudo mode counts wrong passwords in the session instead;
- sign-in lockouts (django-axes) live in the database and do not notice.

Each path logs `cache_unavailable` once. The cache is pointed at a port that refuses
connections (in this process), or, for an app server in its production configuration, at
one that accepts them and never answers (the settings' socket timeouts end the wait).
"""

from __future__ import annotations

import http.client
import json
import logging
import socket
from collections.abc import Callable, Iterator
from http import HTTPStatus
from urllib.parse import urlencode

import pytest
import redis
from django.core.cache.backends.locmem import LocMemCache
from django.test import Client, override_settings

from credentials import services
from credentials.models import AccessToken, OAuthClient
from credentials.oauth import throttle
from tests.factories import PASSWORD
from tests.oauth.conftest import REQUEST_SECONDS, basic, form_post, request_token
from tests.oauth.dpop_keys import new_key, proof

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("throttle_clock")]

LIMIT = 3
WHOAMI_URI = "http://testserver/api/v2/whoami"


@pytest.fixture(autouse=True)
def _small_limits(settings):
    settings.TOKEN_FAILURE_LIMIT = LIMIT
    settings.TOKEN_FAILURE_ADDRESS_LIMIT = 5 * LIMIT


@pytest.fixture(autouse=True)
def _empty_fallback() -> Iterator[None]:
    # The throttle's per-process fallback outlives a test: each starts and ends empty.
    throttle.fallback.clear()
    yield
    throttle.fallback.clear()


@pytest.fixture
def refusing_port() -> Iterator[int]:
    """A loopback port that refuses every connection: bound here, never listening."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        yield sock.getsockname()[1]


@pytest.fixture
def redis_down(refusing_port) -> Iterator[Callable[[], None]]:
    """Call it to point the shared cache at a Redis that is down, until the test ends.

    A call rather than a fixture that acts at once, so a test makes what it needs first.
    """
    down = override_settings(
        CACHES={
            "default": {
                "BACKEND": "django.core.cache.backends.redis.RedisCache",
                "LOCATION": f"redis://127.0.0.1:{refusing_port}/0",
                "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 1.0},
            }
        }
    )
    entered: list[override_settings] = []

    def take_down() -> None:
        down.enable()
        entered.append(down)

    yield take_down
    # Restored here, before the suite's own teardown clears the (then working) cache.
    for override in entered:
        override.disable()


@pytest.fixture
def security_events(caplog) -> Callable[[str], list[dict]]:
    caplog.set_level(logging.INFO, logger="tango_portal.security")

    def named(name: str) -> list[dict]:
        logged = [json.loads(r.getMessage()) for r in caplog.records if r.name == "tango_portal.security"]
        return [event for event in logged if event["event"] == name]

    return named


def _assert_unavailable(response) -> None:
    assert response.status_code == HTTPStatus.SERVICE_UNAVAILABLE
    assert response.json()["error"] == "temporarily_unavailable"
    assert "new proof" in response.json()["error_description"]
    assert int(response["Retry-After"]) > 0
    assert response["Cache-Control"] == "no-store"


def test_the_cache_is_really_down(redis_down):
    from django.core.cache import cache

    redis_down()
    with pytest.raises(redis.exceptions.ConnectionError):
        cache.add("probe", 1)


# --- The token throttle falls back to this process's memory -------------------------


def test_a_token_is_still_issued_once_a_day(creds, redis_down, security_events):
    redis_down()

    response = request_token(Client(), creds.form())

    assert response.status_code == HTTPStatus.OK
    assert AccessToken.objects.get().client == creds.client
    # Once for the request: its reservation and settlement both use this process's memory.
    [event] = security_events("cache_unavailable")
    assert (event["use"], event["step"], event["ip"]) == ("token_throttle", "reserve", "127.0.0.1")
    # The once-a-day rule is in the database.
    again = request_token(Client(), creds.form())
    assert (again.status_code, again.json()["error"]) == (HTTPStatus.TOO_MANY_REQUESTS, "too_many_requests")


def test_failures_are_still_throttled_in_each_process(creds, redis_down):
    redis_down()
    for _ in range(LIMIT):
        wrong = request_token(Client(), creds.form(password="tng_sbx_sap_wrong"))
        assert wrong.json()["error"] == "invalid_grant"

    locked = request_token(Client(), creds.form())

    assert locked.status_code == HTTPStatus.TOO_MANY_REQUESTS
    assert locked.json()["error"] == "too_many_attempts"
    assert not AccessToken.objects.exists()


def test_revocation_and_introspection_still_answer(creds, redis_down):
    token = request_token(Client(), creds.form()).json()["access_token"]
    client_auth = {"HTTP_AUTHORIZATION": basic(creds.client_id, creds.client_secret)}
    redis_down()

    active = form_post(Client(), "/oauth/introspect", {"token": token}, **client_auth)
    revoked = form_post(Client(), "/oauth/revoke", {"token": token}, **client_auth)
    inactive = form_post(Client(), "/oauth/introspect", {"token": token}, **client_auth)

    assert (active.status_code, active.json()["active"]) == (HTTPStatus.OK, True)
    assert revoked.status_code == HTTPStatus.OK
    assert (inactive.status_code, inactive.json()["active"]) == (HTTPStatus.OK, False)


def test_a_settlement_after_redis_went_away_does_not_raise(monkeypatch, security_events):
    class GoesAway(LocMemCache):
        def decr(self, key, delta=1, version=None):
            raise redis.exceptions.ConnectionError("Connection refused.")

    monkeypatch.setattr(throttle, "cache", GoesAway("goes-away", {}))
    reservation = throttle.reserve(throttle.Presented(address="198.51.100.1", client_id="c", username="u"))
    assert not reservation.refused

    reservation.settle(throttle.Outcome.OK)

    [event] = security_events("cache_unavailable")
    assert (event["use"], event["step"]) == ("token_throttle", "settle")


# --- The DPoP replay check fails closed ---------------------------------------------


def test_a_dpop_token_request_is_refused_not_answered_unchecked(creds, redis_down, security_events):
    redis_down()

    response = request_token(Client(), creds.form(), HTTP_DPOP=proof(new_key()))

    _assert_unavailable(response)
    assert not AccessToken.objects.exists()
    events = security_events("cache_unavailable")
    assert {event["use"] for event in events} == {"dpop_replay_check"}
    assert len(events) == 1


def test_an_api_call_with_a_dpop_token_is_refused_but_bearer_and_api_keys_work(
    creds, manager, team, redis_down, security_events
):
    key = new_key()
    dpop_token = request_token(Client(), creds.form(), HTTP_DPOP=proof(key)).json()["access_token"]
    other, other_password = services.service_account_create(actor=manager, team=team)
    bearer = request_token(Client(), creds.form(username=other.username, password=other_password))
    api_key, api_key_value = services.api_key_create(actor=manager, team=team, platform_name="Shop")
    redis_down()

    bound = Client().get(
        "/api/v2/whoami",
        HTTP_AUTHORIZATION=f"DPoP {dpop_token}",
        HTTP_DPOP=proof(key, method="GET", uri=WHOAMI_URI, access_token=dpop_token),
    )
    as_bearer = Client().get("/api/v2/whoami", HTTP_AUTHORIZATION=f"Bearer {bearer.json()['access_token']}")
    as_api_key = Client().get("/api/v2/whoami", HTTP_AUTHORIZATION=basic(team.slug, api_key_value))

    _assert_unavailable(bound)
    assert [e["use"] for e in security_events("cache_unavailable")] == ["dpop_replay_check"]
    assert (as_bearer.status_code, as_bearer.json()["service_account"]) == (HTTPStatus.OK, other.username)
    assert (as_api_key.status_code, as_api_key.json()["api_key"]) == (HTTPStatus.OK, api_key.masked)


# --- Sudo mode counts in the session; sign-in lockouts are in the database ----------


@pytest.fixture
def stale_client(manager_client):
    session = manager_client.session
    session["sudo_at"] = 0
    session.save()
    return manager_client


@pytest.fixture
def client_to_deactivate(team, manager) -> OAuthClient:
    client, _ = services.oauth_client_create(actor=manager, team=team)
    return client


def _deactivate(http: Client, client: OAuthClient, password: str):
    return http.post(
        f"/team/api-credentials/clients/{client.pk}/deactivate/", {"confirm": "on", "sudo_password": password}
    )


def _is_active(client: OAuthClient) -> bool:
    return OAuthClient.objects.get(pk=client.pk).is_active


def test_wrong_sudo_passwords_still_sign_the_user_out(stale_client, client_to_deactivate, redis_down):
    redis_down()
    for left in (4, 3, 2, 1):
        wrong = _deactivate(stale_client, client_to_deactivate, "guess")
        assert wrong.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
        assert ("left: after that you will be signed out" in wrong.content.decode()) is (left <= 2)

    last = _deactivate(stale_client, client_to_deactivate, "guess")

    assert last.status_code == HTTPStatus.FOUND
    assert last["Location"].startswith("/accounts/login/")
    assert stale_client.get("/team/api-credentials/")["Location"].startswith("/accounts/login/")
    assert _is_active(client_to_deactivate)


def test_the_right_sudo_password_still_works(stale_client, client_to_deactivate, redis_down, security_events):
    redis_down()
    assert _deactivate(stale_client, client_to_deactivate, "guess").status_code == (
        HTTPStatus.UNPROCESSABLE_ENTITY
    )

    done = _deactivate(stale_client, client_to_deactivate, PASSWORD)

    assert done.status_code in (HTTPStatus.OK, HTTPStatus.FOUND)
    assert not _is_active(client_to_deactivate)
    assert [e["use"] for e in security_events("cache_unavailable")] == ["sudo_failures"] * 2
    assert "sudo_failures" not in stale_client.session


def test_signing_in_and_its_lockout_do_not_need_the_cache(manager, redis_down, settings):
    # django-axes keeps its failures in the database (its default handler): never in the cache.
    assert settings.AXES_HANDLER == "axes.handlers.database.AxesDatabaseHandler"
    redis_down()

    signed_in = Client().post("/accounts/login/", {"username": manager.email, "password": PASSWORD})
    assert signed_in.status_code == HTTPStatus.FOUND
    for _ in range(settings.AXES_FAILURE_LIMIT):
        Client().post("/accounts/login/", {"username": manager.email, "password": "wrong"})
    locked = Client().post("/accounts/login/", {"username": manager.email, "password": PASSWORD})

    assert locked.status_code == HTTPStatus.TOO_MANY_REQUESTS


# --- An app server in its production configuration, its Redis silent -----------------


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A loopback port that accepts connections (the kernel's backlog) and never answers."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(64)
        yield sock.getsockname()[1]


def _post(port: int, data: dict[str, str], headers: dict[str, str] | None = None) -> tuple[int, dict]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=REQUEST_SECONDS)
    try:
        conn.request(
            "POST",
            "/oauth/token",
            body=urlencode(data),
            headers={
                "Content-Type": "application/x-www-form-urlencoded",
                "Host": "localhost",
                **(headers or {}),
            },
        )
        response = conn.getresponse()
        return response.status, json.loads(response.read() or b"{}")
    finally:
        conn.close()


@pytest.mark.django_db(transaction=True)
def test_an_app_server_answers_within_its_timeouts_when_redis_never_replies(
    start_gunicorn_servers, silent_port
):
    [port] = start_gunicorn_servers({"REDIS_URL": f"redis://127.0.0.1:{silent_port}/0"}, count=1)
    unknown = {
        "grant_type": "password",
        "client_id": "tng_sbx_ci_0123456789abcdef0123456789abcdef",
        "client_secret": "tng_sbx_cs_guess",
        "username": "someone",
        "password": "guess",
    }

    # Without the settings' socket timeouts each would wait until the worker is killed.
    status, body = _post(port, unknown)
    assert (status, body["error"]) == (HTTPStatus.UNAUTHORIZED, "invalid_client")
    status, body = _post(port, unknown, {"DPoP": proof(new_key(), uri="http://localhost/oauth/token")})
    assert (status, body["error"]) == (HTTPStatus.SERVICE_UNAVAILABLE, "temporarily_unavailable")
