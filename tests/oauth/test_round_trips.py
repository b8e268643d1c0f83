"""How many statements a token request and an API call send: each one is a database
round trip, which costs more than the work it carries (bench/token.py)."""

from http import HTTPStatus

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from credentials import db_functions, selectors, services
from tests.oauth.conftest import request_token

pytestmark = pytest.mark.django_db


def statements(action) -> tuple[list[str], object]:
    with CaptureQueriesContext(connection) as captured:
        result = action()
    return [query["sql"] for query in captured.captured_queries], result


def test_the_client_and_the_named_service_account_come_in_one_query(creds, django_assert_num_queries):
    selectors.token_request_credentials(client_id=creds.client.client_id, username=None)  # prepares it

    with django_assert_num_queries(1):
        client, account = selectors.token_request_credentials(
            client_id=creds.client.client_id, username=creds.account.username
        )

    assert client == creds.client
    assert client.team == creds.client.team
    assert account == creds.account
    assert account.password_hash == creds.account.password_hash
    assert account.created_at == creds.account.created_at


def test_the_lookup_finds_no_account_of_another_team_nor_a_deleted_one(creds, other_creds, manager, team):
    _, foreign = selectors.token_request_credentials(
        client_id=creds.client.client_id, username=other_creds.account.username
    )
    assert foreign is None
    _, unnamed = selectors.token_request_credentials(client_id=creds.client.client_id, username=None)
    assert unnamed is None
    services.service_account_delete(actor=manager, team=team, account=creds.account)
    client, deleted = selectors.token_request_credentials(
        client_id=creds.client.client_id, username=creds.account.username
    )
    assert client == creds.client
    assert deleted is None
    assert selectors.token_request_credentials(client_id="nobody", username=creds.account.username) == (
        None,
        None,
    )


@pytest.mark.postgres
def test_on_postgresql_a_token_request_is_two_statements(creds):
    sent, response = statements(lambda: request_token(Client(), creds.form()))

    assert response.status_code == HTTPStatus.OK
    assert len(sent) == 2, sent
    assert sent[0].startswith("EXECUTE tango_token_request(")
    assert db_functions.ISSUE_ACCESS_TOKEN in sent[1]


def test_an_api_call_is_one_statement(creds):
    token = request_token(Client(), creds.form()).json()["access_token"]
    Client().get("/api/v2/whoami", HTTP_AUTHORIZATION=f"Bearer {token}")  # prepares the lookup

    sent, response = statements(lambda: Client().get("/api/v2/whoami", HTTP_AUTHORIZATION=f"Bearer {token}"))

    assert response.status_code == HTTPStatus.OK
    assert len(sent) == 1, sent
