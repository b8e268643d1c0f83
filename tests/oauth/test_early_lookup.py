"""The API's token lookup is sent ahead as the request arrives (PostgreSQL), only for a
bearer token the view will look up, and never left pending after the response."""

from __future__ import annotations

from http import HTTPStatus

import pytest
from django.db import OperationalError, connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from oauthlib.common import Request as OAuthlibRequest
from oauthlib.oauth2.rfc6749.tokens import get_token_from_header

from credentials import secrets as credential_secrets
from credentials import selectors, services
from credentials.oauth.middleware import bearer_token
from tango_portal.db.postgresql.base import DatabaseWrapper
from tests.oauth.conftest import basic, request_token
from tests.pg_sessions import terminate_backend

pytestmark = pytest.mark.django_db

WHOAMI = "/api/v2/whoami"


@pytest.fixture
def sent_ahead(monkeypatch) -> list[tuple[str, tuple[str | None, ...]]]:
    """Every statement sent ahead, as (name, params); the statements still go out."""
    calls: list[tuple[str, tuple[str | None, ...]]] = []
    original = DatabaseWrapper.send_ahead

    def spy(self, name, params):
        sent = original(self, name, params)
        if sent:
            calls.append((name, tuple(params)))
        return sent

    monkeypatch.setattr(DatabaseWrapper, "send_ahead", spy)
    return calls


@pytest.fixture
def token(creds) -> str:
    response = request_token(Client(), creds.form())
    assert response.status_code == HTTPStatus.OK
    return response.json()["access_token"]


def lookup_of(token: str) -> tuple[str, tuple[str, ...]]:
    """The live-token lookup of this token, as sent ahead: its name and text parameters."""
    lookup = selectors._live_token_lookup(connection.alias)
    values = {selectors._DIGEST_PLACEHOLDER: credential_secrets.digest(token)}
    params = tuple(selectors._as_text(selectors._lookup_params(lookup, values)))
    assert credential_secrets.digest(token) in params
    return (lookup.name, params)


def whoami(authorization: str, method: str = "get"):
    return getattr(Client(), method)(WHOAMI, HTTP_AUTHORIZATION=authorization)


@pytest.mark.postgres
def test_a_bearer_call_sends_its_token_lookup_ahead(creds, token, sent_ahead):
    response = whoami(f"Bearer {token}")

    assert response.status_code == HTTPStatus.OK
    assert response.json()["client_id"] == creds.client_id
    assert sent_ahead == [lookup_of(token)]
    assert connection._ahead is None


@pytest.mark.postgres
def test_a_session_that_has_not_prepared_the_lookup_prepares_it_and_sends_it_ahead(token, sent_ahead):
    with connection.cursor() as cursor:
        cursor.execute("DEALLOCATE ALL")
    connection._prepared_on.clear()  # as on a new session

    response = whoami(f"Bearer {token}")

    assert response.status_code == HTTPStatus.OK
    assert sent_ahead == [lookup_of(token)]
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_prepared_statements WHERE name = 'tango_live_token'")
        assert cursor.fetchone() == (1,)


@pytest.mark.postgres
def test_a_bearer_call_is_the_one_statement_sent_ahead(token):
    whoami(f"Bearer {token}")  # prepares the lookup

    with CaptureQueriesContext(connection) as captured:
        response = whoami(f"Bearer {token}")

    assert response.status_code == HTTPStatus.OK
    assert [query["sql"] for query in captured.captured_queries] == [
        "EXECUTE tango_live_token(...) -- sent ahead"
    ]


@pytest.mark.postgres
def test_a_token_revoked_before_the_call_is_refused(creds, token, sent_ahead):
    assert whoami(f"Bearer {token}").status_code == HTTPStatus.OK
    assert services.access_token_revoke(client=creds.client, token=token) is True

    response = whoami(f"Bearer {token}")

    assert response.status_code == HTTPStatus.UNAUTHORIZED
    assert "invalid_token" in response["WWW-Authenticate"]
    assert sent_ahead == [lookup_of(token), lookup_of(token)]


@pytest.mark.postgres
@pytest.mark.parametrize(
    "call",
    [
        pytest.param(
            lambda token: Client().get("/healthz", HTTP_AUTHORIZATION=f"Bearer {token}"), id="non-api"
        ),
        pytest.param(lambda token: whoami(basic("acme-rewards", token)), id="basic"),
        pytest.param(lambda token: whoami(f"Bearer {token} {token}"), id="three-parts"),
    ],
)
def test_no_lookup_is_sent_for_what_the_view_does_not_look_up(token, sent_ahead, call):
    call(token)

    assert sent_ahead == []
    assert connection._ahead is None


@pytest.mark.postgres
def test_no_lookup_is_sent_for_a_token_of_the_other_environment(token, sent_ahead, settings):
    settings.PORTAL_ENVIRONMENT = "production"

    response = whoami(f"Bearer {token}")

    assert response.status_code == HTTPStatus.UNAUTHORIZED
    assert "sandbox credential" in response.json()["error_description"]
    assert sent_ahead == []


def test_the_lookup_is_sent_ahead_only_where_a_query_is_a_round_trip(token):
    end_lookup = selectors.live_token_lookup_ahead(token=token)

    if connection.vendor != "postgresql":
        assert end_lookup is None
        return
    assert end_lookup is not None
    assert connection._ahead is not None
    end_lookup()
    assert connection._ahead is None


@pytest.mark.postgres
def test_a_lookup_the_view_never_collects_is_discarded(token, sent_ahead):
    response = whoami(f"Bearer {token}", method="post")

    assert response.status_code == HTTPStatus.METHOD_NOT_ALLOWED
    assert sent_ahead == [lookup_of(token)]
    assert connection._ahead is None
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        assert cursor.fetchone() == (1,)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_failed_lookup_the_view_never_collects_does_not_change_the_answer(token):
    whoami(f"Bearer {token}")  # prepares the lookup on this connection
    with connection.cursor() as cursor:
        cursor.execute("DEALLOCATE tango_live_token")  # the lookup sent ahead will fail

    response = whoami(f"Bearer {token}", method="post")

    assert response.status_code == HTTPStatus.METHOD_NOT_ALLOWED
    assert connection._ahead is None
    connection._prepared_on.clear()
    assert whoami(f"Bearer {token}").status_code == HTTPStatus.OK


@pytest.mark.postgres
def test_when_sending_ahead_fails_the_view_looks_the_token_up_itself(token, creds, monkeypatch):
    def fail(self, name, params):
        raise OperationalError("the server closed the connection")

    monkeypatch.setattr(DatabaseWrapper, "send_ahead", fail)

    response = whoami(f"Bearer {token}")

    assert response.status_code == HTTPStatus.OK
    assert response.json()["client_id"] == creds.client.client_id


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_session_the_server_ended_before_the_call_is_replaced_and_the_call_answered(
    token, creds, sent_ahead
):
    assert whoami(f"Bearer {token}").status_code == HTTPStatus.OK  # prepares the lookup
    raw = connection.connection
    terminate_backend(raw.info.backend_pid)
    assert connection.health_check_enabled  # CONN_HEALTH_CHECKS
    connection.health_check_done = False  # a new request, as close_old_connections leaves it

    response = whoami(f"Bearer {token}")

    assert response.status_code == HTTPStatus.OK
    assert response.json()["client_id"] == creds.client.client_id
    assert connection.connection is not raw
    # The lookup went ahead on the ended session (its answer is the health check).
    assert sent_ahead == [lookup_of(token), lookup_of(token)]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_lookup_sent_on_an_ended_session_is_run_again_on_a_new_one(token, creds):
    assert whoami(f"Bearer {token}").status_code == HTTPStatus.OK  # prepares the lookup
    raw = connection.connection
    terminate_backend(raw.info.backend_pid)
    assert selectors.live_token_lookup_ahead(token=token) is not None  # the socket takes it
    connection.health_check_done = True  # replaced even when the request has checked already

    live = selectors.live_token_by_value(token=token)

    assert live is not None
    assert live.client_id == creds.client.client_id
    assert connection.connection is not raw
    assert connection._ahead is None
    assert connection.is_usable()


@pytest.mark.parametrize(
    ("authorization", "expected"),
    [
        ("Bearer abc", "abc"),
        ("bearer abc", "abc"),
        ("Bearer", None),
        ("Basic abc", None),
        ("Bearer a b", None),
        ("BEARER  abc ", "abc"),
        ("", None),
    ],
)
def test_the_bearer_token_is_split_as_oauthlib_splits_it(authorization, expected):
    oauthlib_request = OAuthlibRequest(WHOAMI, headers={"Authorization": authorization})

    assert bearer_token(authorization) == expected
    assert get_token_from_header(oauthlib_request) == expected
