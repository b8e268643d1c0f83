"""GET /api/v2/whoami: bearer tokens and legacy API keys; revocation on delete/deactivate."""

from collections.abc import Callable
from datetime import timedelta
from http import HTTPStatus

import pytest
from django.test import Client
from django.utils import timezone

from credentials import secrets as credential_secrets
from credentials import services
from credentials.models import AccessToken, ApiKey
from tests.oauth.conftest import AUDIENCE, basic, request_token

pytestmark = pytest.mark.django_db

WHOAMI = "/api/v2/whoami"


def get_token(creds, **overrides) -> str:
    response = request_token(Client(), creds.form(**overrides))
    assert response.status_code == HTTPStatus.OK
    return response.json()["access_token"]


def whoami(token: str | None = None, **headers):
    if token is not None:
        headers["HTTP_AUTHORIZATION"] = f"Bearer {token}"
    return Client().get(WHOAMI, **headers)


def assert_invalid_token(response) -> None:
    assert response.status_code == HTTPStatus.UNAUTHORIZED
    assert response["WWW-Authenticate"].startswith('Bearer error="invalid_token"')
    assert response.json()["error"] == "invalid_token"


def test_whoami_answers_who_the_token_is(creds, team):
    token = get_token(creds)

    response = whoami(token)

    assert response.status_code == HTTPStatus.OK
    assert response["Cache-Control"] == "no-store"
    body = response.json()
    stored = AccessToken.objects.get()
    assert body["team"] == team.name
    assert body["team_slug"] == team.slug
    assert body["environment"] == "sandbox"
    assert body["client_id"] == creds.client_id
    assert body["service_account"] == creds.username
    assert body["scope"] == "raas.all"
    assert body["audience"] == AUDIENCE
    assert body["expires_at"] == stored.expires_at.isoformat().replace("+00:00", "Z")
    assert body["authentication"] == "bearer"


def test_legacy_client_credentials_token_has_no_service_account(legacy_creds):
    response = request_token(
        Client(),
        {
            "grant_type": "client_credentials",
            "client_id": legacy_creds.client_id,
            "client_secret": legacy_creds.client_secret,
        },
    )

    body = whoami(response.json()["access_token"]).json()

    assert body["client_id"] == legacy_creds.client_id
    assert body["service_account"] is None


def test_no_credentials_get_a_bare_bearer_challenge():
    response = whoami()

    assert response.status_code == HTTPStatus.UNAUTHORIZED
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert "error=" not in response["WWW-Authenticate"]


def test_unknown_token_is_invalid_token(creds):
    get_token(creds)

    assert_invalid_token(whoami("tng_sbx_at_" + "A" * 43))


def test_token_in_the_query_string_is_not_accepted(creds):
    token = get_token(creds)

    response = Client().get(f"{WHOAMI}?access_token={token}")

    assert response.status_code == HTTPStatus.UNAUTHORIZED
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert "team" not in response.json()


def test_expired_token_is_invalid_token(creds, monkeypatch):
    token = get_token(creds)
    later = timezone.now() + timedelta(hours=24, seconds=1)
    monkeypatch.setattr(timezone, "now", lambda: later)

    assert_invalid_token(whoami(token))


def test_revoked_token_is_invalid_token(creds):
    token = get_token(creds)
    AccessToken.objects.update(revoked_at=timezone.now())

    assert_invalid_token(whoami(token))


def assert_revokes_its_tokens_at_once(creds, retire: Callable[[], object]) -> None:
    """A token that worked stops working the moment `retire()` returns, and is marked revoked."""
    token = get_token(creds)
    assert whoami(token).status_code == HTTPStatus.OK

    retire()

    assert_invalid_token(whoami(token))
    assert AccessToken.objects.get().revoked_at is not None


def test_deleting_the_service_account_revokes_its_tokens_at_once(creds, manager, team):
    assert_revokes_its_tokens_at_once(
        creds, lambda: services.service_account_delete(actor=manager, team=team, account=creds.account)
    )


def test_deactivating_the_client_revokes_its_tokens_at_once(creds, manager, team):
    assert_revokes_its_tokens_at_once(
        creds, lambda: services.oauth_client_deactivate(actor=manager, team=team, client=creds.client)
    )


def test_tokens_stop_working_when_oauth_is_turned_off_for_the_team(creds, team):
    token = get_token(creds)
    team.oauth_enabled = False
    team.save()

    assert_invalid_token(whoami(token))


def test_sandbox_token_in_production_says_so(creds, settings):
    token = get_token(creds)
    settings.PORTAL_ENVIRONMENT = "production"

    response = whoami(token)

    assert_invalid_token(response)
    assert "sandbox credential" in response.json()["error_description"]


# --- Legacy API keys by HTTP Basic -------------------------------------------------


@pytest.fixture
def api_key(manager, team):
    return services.api_key_create(actor=manager, team=team, platform_name="Storefront")


def test_api_key_authenticates_by_basic_with_the_team_slug(api_key, team):
    key, plaintext = api_key

    response = Client().get(WHOAMI, HTTP_AUTHORIZATION=basic(team.slug, plaintext))

    assert response.status_code == HTTPStatus.OK
    body = response.json()
    assert body["team"] == team.name
    assert body["authentication"] == "api_key"
    assert body["api_key"] == key.masked
    assert plaintext not in response.content.decode()
    assert ApiKey.objects.get(pk=key.pk).last_used_at is not None


def test_api_key_last_used_is_written_at_most_once_a_minute(api_key, team):
    key, plaintext = api_key
    Client().get(WHOAMI, HTTP_AUTHORIZATION=basic(team.slug, plaintext))
    first = ApiKey.objects.get(pk=key.pk).last_used_at

    Client().get(WHOAMI, HTTP_AUTHORIZATION=basic(team.slug, plaintext))

    assert ApiKey.objects.get(pk=key.pk).last_used_at == first


def test_api_key_of_another_team_slug_is_refused(api_key, other_team):
    _key, plaintext = api_key

    response = Client().get(WHOAMI, HTTP_AUTHORIZATION=basic(other_team.slug, plaintext))

    assert response.status_code == HTTPStatus.UNAUTHORIZED
    assert response["WWW-Authenticate"].startswith("Basic")


def test_wrong_api_key_is_refused(api_key, team):
    response = Client().get(WHOAMI, HTTP_AUTHORIZATION=basic(team.slug, "tng_sbx_ak_wrong"))

    assert response.status_code == HTTPStatus.UNAUTHORIZED
    assert response.json()["error"] == "invalid_api_key"


def test_deactivated_api_key_is_refused(api_key, manager, team):
    key, plaintext = api_key
    services.api_key_deactivate(actor=manager, team=team, key=key)

    response = Client().get(WHOAMI, HTTP_AUTHORIZATION=basic(team.slug, plaintext))

    assert response.status_code == HTTPStatus.UNAUTHORIZED
    assert "deactivated" in response.json()["error_description"]


def test_sandbox_api_key_in_production_says_so(api_key, team, settings):
    _key, plaintext = api_key
    settings.PORTAL_ENVIRONMENT = "production"

    response = Client().get(WHOAMI, HTTP_AUTHORIZATION=basic(team.slug, plaintext))

    assert response.status_code == HTTPStatus.UNAUTHORIZED
    assert "sandbox credential" in response.json()["error_description"]
    assert credential_secrets.other_environment(plaintext) == "sandbox"


def test_a_bearer_call_is_one_query(creds, django_assert_num_queries):
    token = get_token(creds)

    with django_assert_num_queries(1):
        response = whoami(token)

    assert response.status_code == HTTPStatus.OK


def test_an_api_key_call_stays_within_its_query_budget(api_key, team, django_assert_num_queries):
    _key, value = api_key
    # The first call writes the evidence of use: the address (one upsert), the day's
    # count (new, in a savepoint where it may race another process) and "last used".
    with django_assert_num_queries(7):
        first = Client().get(WHOAMI, HTTP_AUTHORIZATION=basic(team.slug, value))
    # Within the minute after: the key by its digest, and nothing written.
    with django_assert_num_queries(1):
        response = Client().get(WHOAMI, HTTP_AUTHORIZATION=basic(team.slug, value))

    assert first.status_code == response.status_code == HTTPStatus.OK
