"""Brute-force throttling of the token endpoint: per client ID, username and address."""

import http.client
import json
from http import HTTPStatus
from pathlib import Path
from urllib.parse import urlencode

import pytest
from django.test import Client

from credentials import secrets as credential_secrets
from credentials.models import AccessToken
from tests.oauth.conftest import REQUEST_SECONDS, form_post, in_one_failure_window, request_token

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("throttle_clock")]

ROOT = Path(__file__).resolve().parents[2]
LIMIT = 3
ADDRESS_LIMIT = 5 * LIMIT


@pytest.fixture(autouse=True)
def _small_limit(settings):
    settings.TOKEN_FAILURE_LIMIT = LIMIT
    settings.TOKEN_FAILURE_ADDRESS_LIMIT = ADDRESS_LIMIT


def from_address(address: str) -> dict[str, str]:
    return {"REMOTE_ADDR": address}


def fail(creds, address: str, **overrides):
    response = request_token(
        Client(), creds.form(password="tng_sbx_sap_wrong", **overrides), **from_address(address)
    )
    assert response.status_code == HTTPStatus.BAD_REQUEST
    return response


def assert_locked_out(response) -> None:
    """Refused by the throttle itself, not by another 429 (such as the once-a-day rule)."""
    assert response.status_code == HTTPStatus.TOO_MANY_REQUESTS
    assert response.json()["error"] == "too_many_attempts"
    assert not AccessToken.objects.exists()


def test_repeated_failures_lock_that_client_and_address_out(creds):
    for _ in range(LIMIT):
        fail(creds, "203.0.113.7")

    # Even the right password is not checked any more from there.
    response = request_token(Client(), creds.form(), **from_address("203.0.113.7"))

    assert response.status_code == HTTPStatus.TOO_MANY_REQUESTS
    assert response.json()["error"] == "too_many_attempts"
    assert 0 < int(response["Retry-After"]) <= 15 * 60
    assert response["Cache-Control"] == "no-store"
    assert not AccessToken.objects.exists()


def test_a_legitimate_client_elsewhere_is_not_locked_out(creds):
    for _ in range(LIMIT + 2):
        request_token(Client(), creds.form(password="tng_sbx_sap_wrong"), **from_address("203.0.113.7"))

    response = request_token(Client(), creds.form(), **from_address("198.51.100.20"))

    assert response.status_code == HTTPStatus.OK
    assert AccessToken.objects.get().token_digest == credential_secrets.digest(
        response.json()["access_token"]
    )


def test_failed_client_authentication_counts_per_client_id(creds):
    for _ in range(LIMIT):
        response = request_token(
            Client(), creds.form(client_secret="tng_sbx_cs_wrong"), **from_address("203.0.113.7")
        )
        assert response.status_code == HTTPStatus.UNAUTHORIZED

    locked = request_token(Client(), creds.form(), **from_address("203.0.113.7"))
    assert_locked_out(locked)


def test_failures_count_per_username(creds, manager, team):
    from credentials import services

    # Guesses at one username through different (unknown) client IDs still add up.
    for n in range(LIMIT):
        request_token(
            Client(),
            creds.form(client_id=f"tng_sbx_ci_{n:024d}", client_secret="tng_sbx_cs_x"),
            **from_address("203.0.113.7"),
        )

    same_username = request_token(Client(), creds.form(), **from_address("203.0.113.7"))
    assert_locked_out(same_username)

    account, password = services.service_account_create(actor=manager, team=team)
    other_username = request_token(
        Client(), creds.form(username=account.username, password=password), **from_address("203.0.113.7")
    )
    assert other_username.status_code == HTTPStatus.OK
    assert AccessToken.objects.get().token_digest == credential_secrets.digest(
        other_username.json()["access_token"]
    )


def test_one_address_guessing_many_clients_is_throttled(creds):
    for n in range(ADDRESS_LIMIT):
        request_token(
            Client(),
            {
                "grant_type": "password",
                "client_id": f"tng_sbx_ci_{n:024d}",
                "client_secret": "x",
                "username": f"user-{n}",
                "password": "x",
            },
            **from_address("203.0.113.7"),
        )

    response = request_token(Client(), creds.form(), **from_address("203.0.113.7"))

    assert_locked_out(response)


def test_the_lock_ends_with_the_window(creds, throttle_clock):
    for _ in range(LIMIT):
        fail(creds, "203.0.113.7")
    locked = request_token(Client(), creds.form(), **from_address("203.0.113.7"))
    assert_locked_out(locked)

    throttle_clock.advance(int(locked["Retry-After"]))

    assert request_token(Client(), creds.form(), **from_address("203.0.113.7")).status_code == HTTPStatus.OK


def test_malformed_requests_do_not_count(creds):
    for _ in range(LIMIT + 1):
        response = request_token(Client(), creds.form(audience="nope"), **from_address("203.0.113.7"))
        assert response.json()["error"] == "invalid_request"

    assert request_token(Client(), creds.form(), **from_address("203.0.113.7")).status_code == HTTPStatus.OK


def test_revocation_endpoint_is_throttled_too(creds):
    for _ in range(LIMIT):
        response = form_post(
            Client(),
            "/oauth/revoke",
            {"token": "x", "client_id": creds.client_id, "client_secret": "tng_sbx_cs_wrong"},
            **from_address("203.0.113.7"),
        )
        assert response.status_code == HTTPStatus.UNAUTHORIZED

    response = form_post(
        Client(),
        "/oauth/revoke",
        {"token": "x", "client_id": creds.client_id, "client_secret": creds.client_secret},
        **from_address("203.0.113.7"),
    )
    assert response.status_code == HTTPStatus.TOO_MANY_REQUESTS
    assert response.json()["error"] == "too_many_attempts"


# --- Several app-server processes share the counters (Redis) -----------------------


@pytest.fixture
def two_app_servers(start_app_servers):
    return start_app_servers({"TOKEN_FAILURE_LIMIT": str(LIMIT)})


def post_token(port: int, data: dict[str, str], source: str = "127.0.0.1") -> tuple[int, dict]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=REQUEST_SECONDS, source_address=(source, 0))
    try:
        conn.request(
            "POST",
            "/oauth/token",
            body=urlencode(data),
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
        response = conn.getresponse()
        return response.status, json.loads(response.read() or b"{}")
    finally:
        conn.close()


@pytest.mark.django_db(transaction=True)
def test_failure_counters_are_shared_by_app_server_processes(two_app_servers):
    first, second = two_app_servers

    def failures_then_retries(attempt: int):
        guess = {
            "grant_type": "password",
            "client_id": f"tng_sbx_ci_{attempt:032x}",
            "client_secret": "tng_sbx_cs_guess",
            "username": f"someone-{attempt}",
            "password": "guess",
        }
        # Failures alternate between the two processes; each sees the other's.
        statuses = [post_token((first, second)[n % 2], guess)[0] for n in range(LIMIT)]
        again = [post_token(port, guess) for port in (first, second)]
        elsewhere = [post_token(port, guess, source="127.0.0.2") for port in (first, second)]
        return statuses, again, elsewhere

    statuses, again, elsewhere = in_one_failure_window(failures_then_retries)

    assert statuses == [HTTPStatus.UNAUTHORIZED] * LIMIT
    for status, body in again:
        assert status == HTTPStatus.TOO_MANY_REQUESTS
        assert body["error"] == "too_many_attempts"
    # Another address is not locked out by them, on either process.
    for status, body in elsewhere:
        assert status == HTTPStatus.UNAUTHORIZED
        assert body["error"] == "invalid_client"
