"""POST /oauth/token: the wire format of DESIGN.md section 5, success and every error."""

import json
import logging
from http import HTTPStatus

import pytest
from django.test import Client

from credentials import secrets as credential_secrets
from credentials import services
from credentials.models import AccessToken, OAuthClient, ServiceAccount
from tests.oauth.conftest import (
    AUDIENCE,
    FIVE_MINUTE_AUDIENCE,
    TOKEN_URL,
    basic,
    form_post,
    request_token,
)

pytestmark = pytest.mark.django_db


def error_of(response) -> str:
    return response.json()["error"]


def assert_no_store(response) -> None:
    assert response["Cache-Control"] == "no-store"
    assert response["Pragma"] == "no-cache"


def assert_refused(response, error: str, *, status: int = HTTPStatus.BAD_REQUEST) -> None:
    """An RFC 6749 error answer with `error`, not to be cached, and no token issued."""
    assert response.status_code == status
    assert error_of(response) == error
    assert_no_store(response)
    assert not AccessToken.objects.exists()


def test_password_grant_issues_a_24_hour_bearer_token(creds):
    response = request_token(Client(), creds.form())

    assert response.status_code == HTTPStatus.OK
    assert response["Content-Type"] == "application/json"
    assert_no_store(response)
    body = response.json()
    assert set(body) == {"access_token", "token_type", "expires_in", "scope"}
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 86400
    assert body["scope"] == "raas.all"
    assert body["access_token"].startswith(credential_secrets.prefix(credential_secrets.Kind.ACCESS_TOKEN))
    # 32 random bytes, URL-safe base64: 43 characters after the prefix.
    assert len(body["access_token"]) - len("tng_sbx_at_") >= 43


def test_token_is_stored_only_as_its_digest(creds):
    token = request_token(Client(), creds.form()).json()["access_token"]

    stored = AccessToken.objects.get()
    assert stored.token_digest == credential_secrets.digest(token)
    assert token not in json.dumps(list(AccessToken.objects.values()), default=str)
    assert stored.client == creds.client
    assert stored.service_account == creds.account
    assert stored.audience == AUDIENCE
    assert stored.scope == "raas.all"
    assert (stored.expires_at - stored.issued_at).total_seconds() == 86400


def test_five_minute_audience_gives_300_seconds(creds):
    response = request_token(Client(), creds.form(audience=FIVE_MINUTE_AUDIENCE))

    assert response.status_code == HTTPStatus.OK
    assert response.json()["expires_in"] == 300
    assert AccessToken.objects.get().audience == FIVE_MINUTE_AUDIENCE


def test_audience_defaults_to_the_main_api(creds):
    response = request_token(Client(), creds.form(audience=None))

    assert response.status_code == HTTPStatus.OK
    assert response.json()["expires_in"] == 86400
    assert AccessToken.objects.get().audience == AUDIENCE


def test_client_authentication_by_http_basic(creds):
    data = creds.form(client_id=None, client_secret=None)

    response = request_token(Client(), data, HTTP_AUTHORIZATION=basic(creds.client_id, creds.client_secret))

    assert response.status_code == HTTPStatus.OK
    assert AccessToken.objects.get().client == creds.client


def test_success_updates_last_used_and_last_token_issued(creds):
    assert creds.client.last_used_at is None
    assert creds.account.last_token_at is None

    request_token(Client(), creds.form())

    client = OAuthClient.objects.get(pk=creds.client.pk)
    account = ServiceAccount.objects.get(pk=creds.account.pk)
    token = AccessToken.objects.get()
    assert client.last_used_at >= token.issued_at  # then the use was recorded (credentials.usage)
    assert account.last_token_at == token.issued_at


def test_failure_updates_nothing(creds):
    request_token(Client(), creds.form(password="wrong"))

    assert OAuthClient.objects.get(pk=creds.client.pk).last_used_at is None
    assert ServiceAccount.objects.get(pk=creds.account.pk).last_token_at is None
    assert not AccessToken.objects.exists()


def test_endpoint_is_csrf_exempt(creds):
    response = request_token(Client(enforce_csrf_checks=True), creds.form())

    assert response.status_code == HTTPStatus.OK
    assert response.json()["access_token"].startswith("tng_sbx_at_")


def test_get_is_not_allowed():
    response = Client().get(TOKEN_URL)

    assert response.status_code == HTTPStatus.METHOD_NOT_ALLOWED


# --- invalid_request ------------------------------------------------------------


@pytest.mark.parametrize("missing", ["grant_type", "username", "password"])
def test_missing_parameter_is_invalid_request(creds, missing):
    response = request_token(Client(), creds.form(**{missing: None}))

    assert_refused(response, "invalid_request")
    assert missing in response.json()["error_description"]


@pytest.mark.parametrize("repeated", ["username", "password", "client_id", "audience", "scope", "grant_type"])
def test_repeated_parameter_is_invalid_request(creds, repeated):
    pairs = [*creds.form().items(), (repeated, creds.form()[repeated])]

    response = request_token(Client(), pairs)

    assert_refused(response, "invalid_request")
    assert f"Duplicate {repeated}" in response.json()["error_description"]


def test_json_body_is_invalid_request(creds):
    response = Client().post(TOKEN_URL, data=creds.form(), content_type="application/json")

    assert_refused(response, "invalid_request")
    assert "x-www-form-urlencoded" in response.json()["error_description"]


def test_multipart_body_is_invalid_request(creds):
    response = Client().post(TOKEN_URL, data=creds.form())  # the test client's default: multipart

    assert_refused(response, "invalid_request")


def test_body_that_is_not_utf8_is_invalid_request(creds):
    response = Client().post(
        TOKEN_URL,
        data=b"grant_type=password&username=\xff\xfe",
        content_type="application/x-www-form-urlencoded",
    )

    assert_refused(response, "invalid_request")


def test_query_string_parameters_are_refused(creds):
    response = form_post(Client(), f"{TOKEN_URL}?username={creds.username}", creds.form())

    assert_refused(response, "invalid_request")


def test_unknown_audience_is_invalid_request(creds):
    response = request_token(Client(), creds.form(audience="https://evil.example/"))

    assert_refused(response, "invalid_request")
    assert "audience" in response.json()["error_description"]


def test_basic_and_body_secret_together_is_invalid_request(creds):
    response = request_token(
        Client(), creds.form(), HTTP_AUTHORIZATION=basic(creds.client_id, creds.client_secret)
    )

    assert_refused(response, "invalid_request")


# --- invalid_client ----------------------------------------------------------------


@pytest.mark.parametrize(
    "overrides",
    [
        {"client_secret": "tng_sbx_cs_wrong"},
        {"client_id": "tng_sbx_ci_000000000000000000000000"},
        {"client_secret": None},
        {"client_id": None, "client_secret": None},
    ],
    ids=["wrong-secret", "unknown-client", "no-secret", "no-client"],
)
def test_bad_client_credentials_are_invalid_client(creds, overrides):
    response = request_token(Client(), creds.form(**overrides))

    assert_refused(response, "invalid_client", status=HTTPStatus.UNAUTHORIZED)


def test_invalid_client_by_basic_challenges_with_basic(creds):
    data = creds.form(client_id=None, client_secret=None)

    response = request_token(Client(), data, HTTP_AUTHORIZATION=basic(creds.client_id, "tng_sbx_cs_wrong"))

    assert_refused(response, "invalid_client", status=HTTPStatus.UNAUTHORIZED)
    assert response["WWW-Authenticate"].startswith("Basic ")


def test_malformed_basic_header_is_invalid_client(creds):
    data = creds.form(client_id=None, client_secret=None)

    response = request_token(Client(), data, HTTP_AUTHORIZATION="Basic !!!not-base64")

    assert_refused(response, "invalid_client", status=HTTPStatus.UNAUTHORIZED)
    assert response["WWW-Authenticate"].startswith("Basic ")


def test_deactivated_client_gets_no_token(creds, manager, team):
    services.oauth_client_deactivate(actor=manager, team=team, client=creds.client)

    response = request_token(Client(), creds.form())

    assert_refused(response, "invalid_client", status=HTTPStatus.UNAUTHORIZED)
    assert "deactivated" in response.json()["error_description"]


# --- invalid_grant -----------------------------------------------------------------


@pytest.mark.parametrize(
    "overrides",
    [{"password": "tng_sbx_sap_wrong"}, {"username": "acme-rewards-sa-nobody00"}],
    ids=["wrong-password", "unknown-username"],
)
def test_bad_service_account_is_invalid_grant(creds, overrides):
    response = request_token(Client(), creds.form(**overrides))

    assert_refused(response, "invalid_grant")


def test_deleted_service_account_is_invalid_grant(creds, manager, team):
    services.service_account_delete(actor=manager, team=team, account=creds.account)

    response = request_token(Client(), creds.form())

    assert_refused(response, "invalid_grant")


def test_service_account_of_another_team_is_invalid_grant(creds, other_creds):
    # Our client credentials, with a (correct) username and password of another team.
    response = request_token(
        Client(), creds.form(username=other_creds.username, password=other_creds.password)
    )

    assert_refused(response, "invalid_grant")


# --- grant types, scope, team state ----------------------------------------------


def test_unknown_grant_type_is_unsupported_grant_type(creds):
    response = request_token(Client(), creds.form(grant_type="authorization_code"))

    assert_refused(response, "unsupported_grant_type")


def test_refresh_token_grant_is_unsupported(creds):
    response = request_token(Client(), {**creds.form(), "grant_type": "refresh_token", "refresh_token": "x"})

    assert_refused(response, "unsupported_grant_type")


def test_unknown_scope_is_invalid_scope(creds):
    response = request_token(Client(), creds.form(scope="raas.all admin"))

    assert_refused(response, "invalid_scope")


def test_missing_scope_defaults_to_raas_all(creds):
    response = request_token(Client(), creds.form(scope=None))

    assert response.status_code == HTTPStatus.OK
    assert response.json()["scope"] == "raas.all"


def test_non_legacy_client_may_not_use_client_credentials(creds):
    data = {
        "grant_type": "client_credentials",
        "client_id": creds.client_id,
        "client_secret": creds.client_secret,
    }

    response = request_token(Client(), data)

    assert_refused(response, "unauthorized_client")
    assert "service account" in response.json()["error_description"]


def test_legacy_client_may_use_client_credentials_with_a_deprecation_warning(legacy_creds):
    data = {
        "grant_type": "client_credentials",
        "client_id": legacy_creds.client_id,
        "client_secret": legacy_creds.client_secret,
        "scope": "raas.all",
        "audience": AUDIENCE,
    }

    response = request_token(Client(), data)

    assert response.status_code == HTTPStatus.OK
    assert set(response.json()) == {"access_token", "token_type", "expires_in", "scope"}
    assert response["Deprecation"].startswith("@")
    assert "service account" in response["Warning"]
    token = AccessToken.objects.get()
    assert token.client == legacy_creds.client
    assert token.service_account is None


def test_legacy_client_may_also_use_the_password_grant_without_warning(legacy_creds):
    response = request_token(Client(), legacy_creds.form())

    assert response.status_code == HTTPStatus.OK
    assert "Deprecation" not in response


def test_team_with_oauth_off_gets_no_token(creds, team):
    team.oauth_enabled = False
    team.save()

    response = request_token(Client(), creds.form())

    assert_refused(response, "unauthorized_client")
    assert "not enabled" in response.json()["error_description"]


# --- sandbox secrets presented to production -------------------------------------


def test_sandbox_client_secret_in_production_is_refused_clearly(creds, settings):
    settings.PORTAL_ENVIRONMENT = "production"

    response = request_token(Client(), creds.form())

    assert_refused(response, "invalid_client", status=HTTPStatus.UNAUTHORIZED)
    description = response.json()["error_description"]
    assert "sandbox credential" in description
    assert creds.client_secret not in description


def test_sandbox_password_in_production_is_refused_clearly(creds, settings):
    # Production client credentials, but a sandbox service-account password.
    settings.PORTAL_ENVIRONMENT = "production"
    secret = credential_secrets.generate(credential_secrets.Kind.CLIENT_SECRET)
    client_id = credential_secrets.generate_public_id(credential_secrets.Kind.CLIENT_ID)
    OAuthClient.objects.filter(pk=creds.client.pk).update(
        client_id=client_id, secret_digest=credential_secrets.digest(secret)
    )

    response = request_token(Client(), creds.form(client_id=client_id, client_secret=secret))

    assert_refused(response, "invalid_grant")
    assert "sandbox credential" in response.json()["error_description"]


def test_no_secret_reaches_the_logs_even_at_debug(creds, caplog):
    caplog.set_level(logging.DEBUG)

    token = request_token(Client(), creds.form()).json()["access_token"]
    request_token(Client(), creds.form(password="tng_sbx_sap_wrong"))

    for secret in (token, creds.client_secret, creds.password):
        assert secret not in caplog.text


def test_a_token_request_stays_within_its_query_budget(creds, settings, django_assert_max_num_queries):
    # Client and account lookups, the two "last used" stamps that lock them, the
    # once-a-day check and the token itself; in a test the transaction is a savepoint
    # and its release. Nothing per parameter or per header.
    settings.USAGE_RECORDING = False
    with django_assert_max_num_queries(8):
        response = request_token(Client(), creds.form())

    assert response.status_code == HTTPStatus.OK


def test_a_token_requests_evidence_is_one_statement(creds, django_assert_max_num_queries):
    # The addresses of the client and the account, in one upsert: "last used" is stamped
    # by the token's own transaction, and its tokens per day are the AccessToken rows.
    with django_assert_max_num_queries(8 + 1):
        response = request_token(Client(), creds.form())

    assert response.status_code == HTTPStatus.OK
