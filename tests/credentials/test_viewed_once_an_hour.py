"""Opening a detail page records "viewed" at most once per user, credential and hour."""

from datetime import UTC, datetime, timedelta
from http import HTTPStatus

import pytest
from django.utils import timezone

from credentials import services
from credentials.models import CredentialHistory

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
Action = CredentialHistory.Action


@pytest.fixture
def clock(monkeypatch):
    class Clock:
        now = T0

    frozen = Clock()
    monkeypatch.setattr(timezone, "now", lambda: frozen.now)
    return frozen


@pytest.fixture
def credentials_of(team, manager):
    team.oauth_enabled = True
    team.save()
    account, _ = services.service_account_create(actor=manager, team=team)
    client, _ = services.oauth_client_create(actor=manager, team=team)
    base = "/team/api-credentials"
    return {
        account.username: f"{base}/service-accounts/{account.pk}/",
        client.client_id: f"{base}/clients/{client.pk}/",
    }


def viewed(identifier: str) -> int:
    return CredentialHistory.objects.filter(action=Action.VIEWED, credential_identifier=identifier).count()


@pytest.mark.parametrize("which", [0, 1])
def test_two_views_within_the_hour_record_one_row_and_after_it_two(
    clock, credentials_of, manager_client, which
):
    identifier, url = list(credentials_of.items())[which]

    assert manager_client.get(url).status_code == HTTPStatus.OK
    clock.now = T0 + timedelta(minutes=59)
    assert manager_client.get(url).status_code == HTTPStatus.OK
    assert viewed(identifier) == 1

    clock.now = T0 + timedelta(hours=1, seconds=1)
    assert manager_client.get(url).status_code == HTTPStatus.OK
    assert viewed(identifier) == 2


def test_the_limit_is_per_user_and_per_credential(clock, credentials_of, manager_client, auditor_client):
    (account_id, account_url), (client_id, client_url) = credentials_of.items()

    for browser in (manager_client, auditor_client, manager_client, auditor_client):
        browser.get(account_url)
    manager_client.get(client_url)

    assert viewed(account_id) == 2
    assert viewed(client_id) == 1


def test_the_interval_is_a_setting(clock, credentials_of, manager_client, settings):
    settings.HISTORY_VIEW_INTERVAL = timedelta(minutes=5)
    identifier, url = next(iter(credentials_of.items()))

    manager_client.get(url)
    clock.now = T0 + timedelta(minutes=6)
    manager_client.get(url)

    assert viewed(identifier) == 2
