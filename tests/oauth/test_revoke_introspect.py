"""POST /oauth/revoke (RFC 7009) and POST /oauth/introspect (RFC 7662)."""

from http import HTTPStatus

import pytest
from django.test import Client

from credentials.models import AccessToken
from tests.oauth.conftest import AUDIENCE, basic, form_post, request_token

pytestmark = pytest.mark.django_db

REVOKE = "/oauth/revoke"
INTROSPECT = "/oauth/introspect"


def get_token(creds) -> str:
    response = request_token(Client(), creds.form())
    assert response.status_code == HTTPStatus.OK
    return response.json()["access_token"]


def as_client(creds, **data) -> dict[str, str]:
    return {"client_id": creds.client_id, "client_secret": creds.client_secret, **data}


def whoami_status(token: str) -> int:
    return Client().get("/api/v2/whoami", HTTP_AUTHORIZATION=f"Bearer {token}").status_code


def test_client_revokes_its_own_token(creds):
    token = get_token(creds)

    response = form_post(Client(), REVOKE, as_client(creds, token=token, token_type_hint="access_token"))

    assert response.status_code == HTTPStatus.OK
    assert response["Cache-Control"] == "no-store"
    assert AccessToken.objects.get().revoked_at is not None
    assert whoami_status(token) == HTTPStatus.UNAUTHORIZED


def test_revocation_by_http_basic(creds):
    token = get_token(creds)

    response = form_post(
        Client(), REVOKE, {"token": token}, HTTP_AUTHORIZATION=basic(creds.client_id, creds.client_secret)
    )

    assert response.status_code == HTTPStatus.OK
    assert whoami_status(token) == HTTPStatus.UNAUTHORIZED


def test_revoking_an_unknown_token_is_still_200(creds):
    response = form_post(Client(), REVOKE, as_client(creds, token="tng_sbx_at_unknown"))

    assert response.status_code == HTTPStatus.OK


def test_a_client_cannot_revoke_another_clients_token(creds, other_creds):
    token = get_token(creds)

    response = form_post(Client(), REVOKE, as_client(other_creds, token=token))

    assert response.status_code == HTTPStatus.OK  # RFC 7009: says nothing either way
    assert AccessToken.objects.get().revoked_at is None
    assert whoami_status(token) == HTTPStatus.OK


def test_revocation_requires_client_authentication(creds):
    token = get_token(creds)

    unauthenticated = form_post(Client(), REVOKE, {"token": token})
    wrong_secret = form_post(
        Client(), REVOKE, as_client(creds, token=token, client_secret="tng_sbx_cs_wrong")
    )

    for response in (unauthenticated, wrong_secret):
        assert response.status_code == HTTPStatus.UNAUTHORIZED
        assert response.json()["error"] == "invalid_client"
    assert AccessToken.objects.get().revoked_at is None


def test_revocation_without_token_is_invalid_request(creds):
    response = form_post(Client(), REVOKE, as_client(creds))

    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert response.json()["error"] == "invalid_request"


def test_introspection_of_an_active_token(creds, team):
    token = get_token(creds)
    stored = AccessToken.objects.get()

    response = form_post(Client(), INTROSPECT, as_client(creds, token=token))

    assert response.status_code == HTTPStatus.OK
    assert response["Cache-Control"] == "no-store"
    body = response.json()
    assert body["active"] is True
    assert body["client_id"] == creds.client_id
    assert body["username"] == creds.username
    assert body["scope"] == "raas.all"
    assert body["token_type"] == "Bearer"
    assert body["aud"] == AUDIENCE
    assert body["exp"] == int(stored.expires_at.timestamp())
    assert body["iat"] == int(stored.issued_at.timestamp())
    assert body["team"] == team.slug


def test_introspection_of_a_revoked_or_unknown_token_is_inactive(creds):
    token = get_token(creds)
    form_post(Client(), REVOKE, as_client(creds, token=token))

    for value in (token, "tng_sbx_at_unknown"):
        response = form_post(Client(), INTROSPECT, as_client(creds, token=value))
        assert response.status_code == HTTPStatus.OK
        assert response.json() == {"active": False}


def test_a_client_cannot_introspect_another_clients_token(creds, other_creds):
    token = get_token(creds)

    response = form_post(Client(), INTROSPECT, as_client(other_creds, token=token))

    assert response.json() == {"active": False}


def test_introspection_requires_client_authentication(creds):
    token = get_token(creds)

    response = form_post(Client(), INTROSPECT, {"token": token})

    assert response.status_code == HTTPStatus.UNAUTHORIZED
    assert response.json()["error"] == "invalid_client"
    assert "active" not in response.json()


@pytest.mark.parametrize("url", [REVOKE, INTROSPECT])
def test_both_endpoints_take_only_posted_forms(creds, url):
    assert Client().get(url).status_code == HTTPStatus.METHOD_NOT_ALLOWED
    json_body = Client().post(url, data=as_client(creds, token="x"), content_type="application/json")
    assert json_body.status_code == HTTPStatus.BAD_REQUEST
    assert json_body.json()["error"] == "invalid_request"
