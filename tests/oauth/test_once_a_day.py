"""At most one token a day per client, service account and audience (frozen clock)."""

from datetime import UTC, datetime, timedelta
from http import HTTPStatus

import pytest
from django.test import Client
from django.utils import timezone

from credentials import secrets as credential_secrets
from credentials import services
from credentials.models import AccessToken
from tests.oauth.conftest import FIVE_MINUTE_AUDIENCE, form_post, make_credentials, request_token

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@pytest.fixture
def clock(monkeypatch):
    """A settable clock: every `timezone.now()` in the portal reads it."""

    class Clock:
        now = T0

        def set(self, value: datetime) -> None:
            self.now = value

    frozen = Clock()
    monkeypatch.setattr(timezone, "now", lambda: frozen.now)
    return frozen


def token_at(clock, creds, when: datetime, **overrides):
    clock.set(when)
    return request_token(Client(), creds.form(**overrides))


def issued(response) -> str:
    """The new access token a 200 answer carries; it is stored (as its digest)."""
    assert response.status_code == HTTPStatus.OK
    value = response.json()["access_token"]
    assert AccessToken.objects.filter(token_digest=credential_secrets.digest(value)).exists()
    return value


def test_second_request_within_twenty_hours_gets_429_naming_the_time(clock, creds):
    first = token_at(clock, creds, T0)
    assert first.status_code == HTTPStatus.OK

    second = token_at(clock, creds, T0 + timedelta(hours=1))

    assert second.status_code == HTTPStatus.TOO_MANY_REQUESTS
    assert second.json()["error"] == "too_many_requests"
    assert int(second["Retry-After"]) == 19 * 3600
    assert "2026-03-03T05:00:00+00:00" in second.json()["error_description"]
    assert second["Cache-Control"] == "no-store"
    assert AccessToken.objects.count() == 1


def test_renewal_opens_in_the_last_four_hours(clock, creds):
    assert token_at(clock, creds, T0).status_code == HTTPStatus.OK

    just_before = token_at(clock, creds, T0 + timedelta(hours=20) - timedelta(seconds=1))
    assert just_before.status_code == HTTPStatus.TOO_MANY_REQUESTS
    assert int(just_before["Retry-After"]) in (1, 2)

    opened = token_at(clock, creds, T0 + timedelta(hours=20))
    assert opened.status_code == HTTPStatus.OK
    assert AccessToken.objects.count() == 2


def test_after_expiry_a_new_token_is_issued(clock, creds):
    first = issued(token_at(clock, creds, T0))

    assert issued(token_at(clock, creds, T0 + timedelta(hours=25))) != first
    assert AccessToken.objects.count() == 2


def test_the_rule_is_per_audience_and_per_service_account(clock, creds, manager, team):
    assert token_at(clock, creds, T0).status_code == HTTPStatus.OK
    later = T0 + timedelta(minutes=5)

    issued(token_at(clock, creds, later, audience=FIVE_MINUTE_AUDIENCE))
    account, password = services.service_account_create(actor=manager, team=team)
    issued(token_at(clock, creds, later, username=account.username, password=password))
    assert AccessToken.objects.count() == 3


def revoke_over_http(creds, token: str):
    return form_post(
        Client(),
        "/oauth/revoke",
        {"client_id": creds.client_id, "client_secret": creds.client_secret, "token": token},
    )


def test_revoking_ones_own_token_does_not_reset_the_rule(clock, creds):
    token = issued(token_at(clock, creds, T0))

    for minutes in (1, 2, 3):
        assert revoke_over_http(creds, token).status_code == HTTPStatus.OK
        assert AccessToken.objects.get().revoked_at is not None
        refused = token_at(clock, creds, T0 + timedelta(minutes=minutes))

        assert refused.status_code == HTTPStatus.TOO_MANY_REQUESTS
        assert refused.json()["error"] == "too_many_requests"
        assert int(refused["Retry-After"]) == 20 * 3600 - minutes * 60
        assert "2026-03-03T05:00:00+00:00" in refused.json()["error_description"]
    assert AccessToken.objects.count() == 1


def test_after_a_revoked_tokens_renewal_window_opens_a_new_one_is_issued(clock, creds):
    token = issued(token_at(clock, creds, T0))
    services.access_token_revoke(client=creds.client, token=token)

    assert issued(token_at(clock, creds, T0 + timedelta(hours=20))) != token
    assert AccessToken.objects.count() == 2


def test_five_minute_tokens_are_renewed_only_in_their_last_minute(clock, creds):
    first = issued(token_at(clock, creds, T0, audience=FIVE_MINUTE_AUDIENCE))

    refused = token_at(clock, creds, T0 + timedelta(seconds=10), audience=FIVE_MINUTE_AUDIENCE)
    assert refused.status_code == HTTPStatus.TOO_MANY_REQUESTS
    assert refused.json()["error"] == "too_many_requests"
    assert int(refused["Retry-After"]) == 230
    assert "2026-03-02T09:04:00+00:00" in refused.json()["error_description"]

    assert issued(token_at(clock, creds, T0 + timedelta(minutes=4), audience=FIVE_MINUTE_AUDIENCE)) != first
    assert AccessToken.objects.count() == 2


def test_five_minute_tokens_come_at_most_fifteen_an_hour(clock, creds):
    granted = 0
    for second in range(0, 3600, 20):
        response = token_at(clock, creds, T0 + timedelta(seconds=second), audience=FIVE_MINUTE_AUDIENCE)
        granted += response.status_code == HTTPStatus.OK
    assert granted == 15


def test_revoking_a_five_minute_token_does_not_reset_its_rule(clock, creds):
    token = issued(token_at(clock, creds, T0, audience=FIVE_MINUTE_AUDIENCE))
    assert revoke_over_http(creds, token).status_code == HTTPStatus.OK

    refused = token_at(clock, creds, T0 + timedelta(seconds=30), audience=FIVE_MINUTE_AUDIENCE)

    assert refused.status_code == HTTPStatus.TOO_MANY_REQUESTS
    assert int(refused["Retry-After"]) == 210


def test_the_short_window_is_a_setting(clock, creds, settings):
    settings.TOKEN_SHORT_RENEWAL_WINDOW = timedelta(seconds=150)
    issued(token_at(clock, creds, T0, audience=FIVE_MINUTE_AUDIENCE))

    refused = token_at(clock, creds, T0 + timedelta(seconds=100), audience=FIVE_MINUTE_AUDIENCE)
    assert int(refused["Retry-After"]) == 50

    issued(token_at(clock, creds, T0 + timedelta(seconds=150), audience=FIVE_MINUTE_AUDIENCE))


def test_both_durations_are_settings(clock, creds, settings):
    settings.TOKEN_RENEWAL_WINDOW = timedelta(hours=12)
    settings.TOKEN_AUDIENCES = {**settings.TOKEN_AUDIENCES, "https://api.tangocard.com/": 48 * 3600}
    first = token_at(clock, creds, T0)
    assert first.json()["expires_in"] == 48 * 3600

    refused = token_at(clock, creds, T0 + timedelta(hours=35))
    assert refused.status_code == HTTPStatus.TOO_MANY_REQUESTS
    assert int(refused["Retry-After"]) == 3600

    issued(token_at(clock, creds, T0 + timedelta(hours=36)))
    assert AccessToken.objects.count() == 2


def test_legacy_client_credentials_tokens_follow_the_rule_too(clock, manager, team):
    legacy = make_credentials(manager, team, legacy=True)
    data = {
        "grant_type": "client_credentials",
        "client_id": legacy.client_id,
        "client_secret": legacy.client_secret,
    }
    clock.set(T0)
    issued(request_token(Client(), data))

    clock.set(T0 + timedelta(hours=2))
    refused = request_token(Client(), data)
    assert refused.status_code == HTTPStatus.TOO_MANY_REQUESTS
    assert refused.json()["error"] == "too_many_requests"
    assert AccessToken.objects.count() == 1


def test_once_a_day_refusals_do_not_count_as_failures(clock, creds, settings):
    settings.TOKEN_FAILURE_LIMIT = 2
    assert token_at(clock, creds, T0).status_code == HTTPStatus.OK
    for minutes in range(1, 5):
        response = token_at(clock, creds, T0 + timedelta(minutes=minutes))
        assert response.json()["error"] == "too_many_requests"
