"""A NUL byte in what a client presents is a wrong credential, never a 500.

PostgreSQL refuses NUL in text parameters (DataError), so a lookup by a presented value
that holds one must not reach the database; it fails like any wrong value, and counts
towards the failure throttle.
"""

from http import HTTPStatus

import pytest
from django.test import Client

from credentials import services
from tests.nul_bytes import database_refuses_nul  # noqa: F401 - the fixture
from tests.oauth.conftest import basic, form_post, request_token

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("database_refuses_nul")]

NUL = "\x00"


def _form_with(creds, field: str) -> dict[str, str]:
    value = {"client_id": creds.client_id, "client_secret": creds.client_secret, "username": creds.username}
    return creds.form(**{field: value[field] + NUL})


@pytest.mark.parametrize(
    ("field", "error"),
    [("client_id", "invalid_client"), ("client_secret", "invalid_client"), ("username", "invalid_grant")],
)
def test_a_nul_in_a_form_field_is_a_counted_failure(creds, settings, field, error):
    settings.TOKEN_FAILURE_LIMIT = 2
    for _attempt in range(2):
        response = request_token(Client(), _form_with(creds, field))
        assert response.status_code in (HTTPStatus.BAD_REQUEST, HTTPStatus.UNAUTHORIZED)
        assert response.json()["error"] == error

    throttled = request_token(Client(), _form_with(creds, field))

    assert throttled.status_code == HTTPStatus.TOO_MANY_REQUESTS
    assert throttled.json()["error"] == "too_many_attempts"


@pytest.mark.parametrize("part", ["user", "password"])
def test_a_nul_in_basic_client_authentication_is_invalid_client(creds, settings, part):
    settings.TOKEN_FAILURE_LIMIT = 1
    user = creds.client_id + (NUL if part == "user" else "")
    password = creds.client_secret + (NUL if part == "password" else "")
    data = creds.form(client_id=None, client_secret=None)

    response = request_token(Client(), data, HTTP_AUTHORIZATION=basic(user, password))

    assert response.status_code == HTTPStatus.UNAUTHORIZED
    assert response.json()["error"] == "invalid_client"
    again = request_token(Client(), data, HTTP_AUTHORIZATION=basic(user, password))
    assert again.status_code == HTTPStatus.TOO_MANY_REQUESTS


@pytest.mark.parametrize("url", ["/oauth/revoke", "/oauth/introspect"])
@pytest.mark.parametrize("field", ["client_id", "token"])
def test_revocation_and_introspection_refuse_a_nul(creds, url, field):
    data = {"client_id": creds.client_id, "client_secret": creds.client_secret, "token": "t"}
    data[field] += NUL

    response = form_post(Client(), url, data)

    assert response.status_code < HTTPStatus.INTERNAL_SERVER_ERROR
    if field == "client_id":
        assert response.json()["error"] == "invalid_client"


@pytest.mark.parametrize("part", ["user", "password"])
def test_a_nul_in_api_key_basic_auth_is_invalid_api_key(team, manager, part):
    _key, value = services.api_key_create(actor=manager, team=team, platform_name="Shop")
    user = team.slug + (NUL if part == "user" else "")
    password = value + (NUL if part == "password" else "")

    response = Client().get("/api/v2/whoami", HTTP_AUTHORIZATION=basic(user, password))

    assert response.status_code == HTTPStatus.UNAUTHORIZED
    assert response.json()["error"] == "invalid_api_key"


def test_a_nul_in_a_bearer_token_is_invalid_token():
    response = Client().get("/api/v2/whoami", HTTP_AUTHORIZATION="Bearer abc\x00def")

    assert response.status_code == HTTPStatus.UNAUTHORIZED
