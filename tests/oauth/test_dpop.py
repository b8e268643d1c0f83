"""DPoP-bound tokens (RFC 9449) at the token endpoint, the API and introspection."""

from __future__ import annotations

import http.client
import json
from http import HTTPStatus
from urllib.parse import urlencode

import pytest
from django.test import Client

from credentials.models import AccessToken, OAuthClient
from credentials.oauth import dpop
from tests.oauth.conftest import form_post, request_token
from tests.oauth.dpop_keys import new_key, proof

pytestmark = pytest.mark.django_db

TOKEN_URI = "http://testserver/oauth/token"
WHOAMI_URI = "http://testserver/api/v2/whoami"


def _dpop_token(http: Client, creds, key, **proof_claims) -> str:
    response = request_token(http, creds.form(), HTTP_DPOP=proof(key, **proof_claims))
    assert response.status_code == HTTPStatus.OK, response.content
    assert response.json()["token_type"] == "DPoP"
    return response.json()["access_token"]


def _whoami(http: Client, token: str, *, scheme: str = "DPoP", dpop_proof: str | None = None):
    headers = {"HTTP_AUTHORIZATION": f"{scheme} {token}"}
    if dpop_proof is not None:
        headers["HTTP_DPOP"] = dpop_proof
    return http.get("/api/v2/whoami", **headers)


def _challenge(response) -> str:
    return response["WWW-Authenticate"]


@pytest.mark.parametrize("alg", ["ES256", "EdDSA"])
def test_a_valid_proof_gets_a_token_bound_to_the_key(client, creds, alg):
    key = new_key(alg)
    token = _dpop_token(client, creds, key, alg=alg)

    stored = AccessToken.objects.get()
    assert stored.jkt == key.thumbprint()
    whoami = _whoami(client, token, dpop_proof=proof(key, method="GET", uri=WHOAMI_URI, access_token=token))
    assert whoami.status_code == HTTPStatus.OK
    assert whoami.json()["authentication"] == "dpop"


def test_without_a_proof_a_token_stays_a_bearer_token(client, creds):
    response = request_token(client, creds.form())
    assert response.json()["token_type"] == "Bearer"
    assert AccessToken.objects.get().jkt == ""


@pytest.mark.parametrize(
    "bad",
    [
        {"htm": "GET"},
        {"htu": "http://testserver/api/v2/whoami"},
        {"iat": 1},
    ],
)
def test_a_bad_proof_gets_no_token(client, creds, bad):
    response = request_token(client, creds.form(), HTTP_DPOP=proof(new_key(), **bad))
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert response.json()["error"] == "invalid_dpop_proof"
    assert response["Cache-Control"] == "no-store"
    assert not AccessToken.objects.exists()


def test_a_proof_replayed_to_the_token_endpoint_is_refused(client, creds, other_creds):
    value = proof(new_key())
    assert request_token(client, creds.form(), HTTP_DPOP=value).status_code == HTTPStatus.OK
    replay = request_token(client, other_creds.form(), HTTP_DPOP=value)
    assert replay.status_code == HTTPStatus.BAD_REQUEST
    assert "already used" in replay.json()["error_description"]
    assert AccessToken.objects.count() == 1


def test_a_bound_token_is_refused_as_a_bearer_token(client, creds):
    token = _dpop_token(client, creds, new_key())
    response = _whoami(client, token, scheme="Bearer")
    assert response.status_code == HTTPStatus.UNAUTHORIZED
    assert _challenge(response).startswith('DPoP error="invalid_token"')
    assert f'algs="{dpop.ALGS_VALUE}"' in _challenge(response)


@pytest.mark.parametrize(
    ("case", "error"),
    [
        ("no proof", "invalid_dpop_proof"),
        ("another key", "invalid_dpop_proof"),
        ("no ath", "invalid_dpop_proof"),
        ("ath of another token", "invalid_dpop_proof"),
        ("wrong htu", "invalid_dpop_proof"),
        ("wrong htm", "invalid_dpop_proof"),
        ("replayed", "invalid_dpop_proof"),
    ],
)
def test_the_api_refuses_a_bound_token_without_a_fresh_proof_of_its_key(client, creds, case, error):
    key = new_key()
    token = _dpop_token(client, creds, key)
    good = {"method": "GET", "uri": WHOAMI_URI, "access_token": token}
    value = {
        "no proof": None,
        "another key": proof(new_key(), **good),
        "no ath": proof(key, method="GET", uri=WHOAMI_URI),
        "ath of another token": proof(key, method="GET", uri=WHOAMI_URI, access_token=token + "x"),
        "wrong htu": proof(key, **{**good, "uri": "http://testserver/api/v2/other"}),
        "wrong htm": proof(key, **{**good, "method": "POST"}),
        "replayed": proof(key, **good),
    }[case]
    if case == "replayed":
        assert _whoami(client, token, dpop_proof=value).status_code == HTTPStatus.OK

    response = _whoami(client, token, dpop_proof=value)

    assert response.status_code == HTTPStatus.UNAUTHORIZED
    assert response.json()["error"] == error
    assert _challenge(response).startswith(f'DPoP error="{error}"')
    assert f'algs="{dpop.ALGS_VALUE}"' in _challenge(response)


def test_a_bearer_token_sent_with_the_dpop_scheme_is_refused(client, creds):
    token = request_token(client, creds.form()).json()["access_token"]
    key = new_key()
    response = _whoami(client, token, dpop_proof=proof(key, method="GET", uri=WHOAMI_URI, access_token=token))
    assert response.status_code == HTTPStatus.UNAUTHORIZED
    assert response.json()["error"] == "invalid_token"


def test_a_client_that_requires_dpop_gets_no_bearer_token(client, creds):
    OAuthClient.objects.filter(pk=creds.client.pk).update(require_dpop=True)
    refused = request_token(client, creds.form())
    assert refused.status_code == HTTPStatus.BAD_REQUEST
    assert refused.json()["error"] == "invalid_dpop_proof"
    assert "require DPoP" in refused.json()["error_description"]
    assert not AccessToken.objects.exists()
    _dpop_token(client, creds, new_key())


def test_server_nonces_ask_for_a_retry_with_the_nonce(client, creds, settings):
    settings.DPOP_NONCES = True
    key = new_key()
    first = request_token(client, creds.form(), HTTP_DPOP=proof(key))
    assert first.status_code == HTTPStatus.BAD_REQUEST
    assert first.json()["error"] == "use_dpop_nonce"
    nonce = first["DPoP-Nonce"]
    token = _dpop_token(client, creds, key, nonce=nonce)
    api = _whoami(client, token, dpop_proof=proof(key, method="GET", uri=WHOAMI_URI, access_token=token))
    assert api.status_code == HTTPStatus.UNAUTHORIZED
    assert api.json()["error"] == "use_dpop_nonce" and api["DPoP-Nonce"]
    again = proof(key, method="GET", uri=WHOAMI_URI, access_token=token, nonce=api["DPoP-Nonce"])
    assert _whoami(client, token, dpop_proof=again).status_code == HTTPStatus.OK


def test_introspection_reports_the_binding(client, creds):
    key = new_key()
    token = _dpop_token(client, creds, key)
    response = form_post(
        client,
        "/oauth/introspect",
        {"token": token, "client_id": creds.client_id, "client_secret": creds.client_secret},
    )
    body = response.json()
    assert body["active"] is True
    assert body["token_type"] == "DPoP"
    assert body["cnf"] == {"jkt": key.thumbprint()}


# --- Across app servers: the jti is remembered in the shared cache ---------------------


UNKNOWN_CLIENT = {
    "grant_type": "password",
    "client_id": "tng_sbx_ci_0123456789abcdef01234567",
    "client_secret": "tng_sbx_cs_guess",
    "username": "someone",
    "password": "guess",
}


def _post_token_with_proof(port: int, value: str) -> tuple[int, dict]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request(
            "POST",
            "/oauth/token",
            body=urlencode(UNKNOWN_CLIENT),
            # Behind a balancer both servers answer to one host name: the proof's htu.
            headers={"Content-Type": "application/x-www-form-urlencoded", "Host": "localhost", "DPoP": value},
        )
        response = conn.getresponse()
        return response.status, json.loads(response.read() or b"{}")
    finally:
        conn.close()


@pytest.mark.django_db(transaction=True)
def test_a_proof_replayed_to_another_app_server_is_refused(start_app_servers):
    first, second = start_app_servers({})
    value = proof(new_key(), uri="http://localhost/oauth/token")

    # The proof is good (the credentials are not): the first server spends its jti.
    status, body = _post_token_with_proof(first, value)
    assert (status, body["error"]) == (HTTPStatus.UNAUTHORIZED, "invalid_client")
    status, body = _post_token_with_proof(second, value)

    assert status == HTTPStatus.BAD_REQUEST
    assert body["error"] == "invalid_dpop_proof"
    assert "already used" in body["error_description"]
    fresh = proof(new_key(), uri="http://localhost/oauth/token")
    assert _post_token_with_proof(second, fresh)[1]["error"] == "invalid_client"
