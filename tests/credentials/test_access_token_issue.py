"""The issuing transaction (services.access_token_issue) on each database: what it stores,
what it refuses, and that a refusal changes nothing."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from credentials import secrets as credential_secrets
from credentials import services
from credentials.models import AccessToken, OAuthClient, ServiceAccount
from tests.conftest import issue_access_token as issue

pytestmark = pytest.mark.django_db

AUDIENCE = "https://api.tangocard.com/"


def stamps(client, account):
    return (
        OAuthClient.objects.get(pk=client.pk).last_used_at,
        ServiceAccount.objects.get(pk=account.pk).last_token_at,
    )


def test_issuing_stores_the_digest_and_stamps_both_credentials(client_and_account):
    client, account = client_and_account
    value = credential_secrets.generate(credential_secrets.Kind.ACCESS_TOKEN)
    before = timezone.now()

    returned = issue(client, account, value=value)

    stored = AccessToken.objects.get()
    assert returned.pk == stored.pk
    assert returned.expires_at == stored.expires_at
    assert stored.token_digest == credential_secrets.digest(value)
    assert (stored.client_id, stored.service_account_id) == (client.pk, account.pk)
    assert stored.expires_at - stored.issued_at == timedelta(days=1)
    client_used, account_used = stamps(client, account)
    assert client_used == account_used == stored.issued_at
    assert client_used >= before


def assert_refused_and_nothing_changes(client, account, *, match: str) -> None:
    """Issuing is refused for `match`'s reason: no token, and neither last-used stamp moves."""
    unchanged = stamps(client, account)

    with pytest.raises(services.TokenRefused, match=match):
        issue(client, account)

    assert not AccessToken.objects.exists()
    assert stamps(client, account) == unchanged


def test_a_deactivated_client_is_refused_and_nothing_changes(client_and_account, manager, team):
    client, account = client_and_account
    services.oauth_client_deactivate(actor=manager, team=team, client=client)

    assert_refused_and_nothing_changes(client, account, match="client credentials can no longer")


def test_a_deleted_account_is_refused_and_the_client_stamp_is_rolled_back(client_and_account, manager, team):
    client, account = client_and_account
    services.service_account_delete(actor=manager, team=team, account=account)

    assert_refused_and_nothing_changes(client, account, match="service account can no longer")


def test_another_teams_account_is_refused_and_nothing_changes(client_and_account, outsider, other_team):
    client, _ = client_and_account
    foreign, _ = services.service_account_create(actor=outsider, team=other_team)

    assert_refused_and_nothing_changes(client, foreign, match="service account can no longer")


def test_renewal_too_early_names_when_it_opens_and_changes_nothing(client_and_account, settings):
    client, account = client_and_account
    first = issue(client, account)
    unchanged = stamps(client, account)

    with pytest.raises(services.TokenRenewalTooEarly) as refused:
        issue(client, account)

    assert refused.value.retry_at == first.expires_at - settings.TOKEN_RENEWAL_WINDOW
    assert AccessToken.objects.count() == 1
    assert stamps(client, account) == unchanged


def test_the_rule_counts_only_the_same_audience_revoked_tokens_included(client_and_account):
    client, account = client_and_account
    first = issue(client, account)
    issue(client, account, audience="https://api.bhn.com/fiveminute", expires_in=300)  # another audience
    AccessToken.objects.filter(pk=first.pk).update(revoked_at=timezone.now())

    with pytest.raises(services.TokenRenewalTooEarly):
        issue(client, account)  # revoking the token does not reset the rule

    assert AccessToken.objects.filter(audience=AUDIENCE).count() == 1


def test_legacy_client_credentials_issue_without_an_account(manager, team):
    client, _ = services.oauth_client_create(actor=manager, team=team)

    issue(client, None)
    with pytest.raises(services.TokenRenewalTooEarly):
        issue(client, None)

    stored = AccessToken.objects.get()
    assert stored.service_account_id is None
    assert OAuthClient.objects.get(pk=client.pk).last_used_at == stored.issued_at
