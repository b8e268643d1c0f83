"""The API's token lookup: one query by the token's digest, deciding every way a token dies."""

from __future__ import annotations

from datetime import timedelta

import pytest
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


def test_the_lookup_answers_aware_datetimes_and_the_row_as_issued(token):
    row = _the_token_row(token)

    live = selectors.live_token_by_value(token=token)

    assert live is not None
    assert (live.issued_at, live.expires_at) == (row.issued_at, row.expires_at)
    assert live.expires_at.utcoffset() == timedelta(0)
    assert (live.client_pk, live.client_id, live.team_slug, live.service_account) == (
        row.client_id,
        row.client.client_id,
        row.client.team.slug,
        row.service_account.username,
    )
