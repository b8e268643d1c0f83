"""The API's token lookup: one query, prepared once per PostgreSQL session."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.utils import timezone

from credentials import secrets as credential_secrets
from credentials import selectors
from credentials.models import AccessToken, OAuthClient, ServiceAccount
from tango_portal.models import Team

pytestmark = pytest.mark.django_db


@pytest.fixture
def token(issued_token) -> str:
    return issued_token.value


def test_lookup_finds_a_live_token_and_nothing_else(token, django_assert_num_queries):
    live = selectors.live_token_by_value(token=token)
    assert live is not None
    assert live.scope == "raas.all"
    assert selectors.live_token_by_value(token=token + "x") is None
    with django_assert_num_queries(1):
        selectors.live_token_by_value(token=token)


@pytest.mark.postgres
def test_postgresql_prepares_the_lookup_once_and_keeps_it_across_rollbacks(token):
    with transaction.atomic():
        assert selectors.live_token_by_value(token=token) is not None
        transaction.set_rollback(True)
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_prepared_statements WHERE name = 'tango_live_token'")
        assert cursor.fetchone() == (1,)
    assert selectors.live_token_by_value(token=token) is not None
    # Not knowing whether this session has it (as after a reconnect), it prepares it afresh.
    connection._prepared_on.clear()
    assert selectors.live_token_by_value(token=token) is not None
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_prepared_statements WHERE name = 'tango_live_token'")
        assert cursor.fetchone() == (1,)


def _the_token_row(token: str):
    return AccessToken.objects.select_related("client__team", "service_account").get(
        token_digest=credential_secrets.digest(token)
    )


@pytest.mark.parametrize(
    "kill",
    [
        lambda row: AccessToken.objects.filter(pk=row.pk).update(revoked_at=timezone.now()),
        lambda row: OAuthClient.objects.filter(pk=row.client_id).update(deactivated_at=timezone.now()),
        lambda row: Team.objects.filter(pk=row.client.team_id).update(oauth_enabled=False),
        lambda row: ServiceAccount.objects.filter(pk=row.service_account_id).update(
            deleted_at=timezone.now(), password_hash=""
        ),
    ],
    ids=["revoked", "client deactivated", "oauth off", "account deleted"],
)
def test_the_lookup_itself_refuses_a_token_whatever_else_revoked_it(token, kill):
    # Written straight to the rows, as if the service had not revoked the token too.
    kill(_the_token_row(token))

    assert selectors.live_token_by_value(token=token) is None


def test_the_lookup_refuses_an_expired_token_by_the_applications_clock(token):
    row = _the_token_row(token)

    assert selectors.live_token_by_value(token=token, now=row.expires_at - timedelta(seconds=1)) is not None
    assert selectors.live_token_by_value(token=token, now=row.expires_at) is None
