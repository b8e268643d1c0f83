"""DPoP with a real client nobody here wrote: requests-oauth2client against the live server."""

from __future__ import annotations

from http import HTTPStatus

import pytest
import requests
from requests_oauth2client import DPoPKey, OAuth2Client

from credentials.models import AccessToken
from tests.oauth.conftest import AUDIENCE, make_credentials

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def live_creds(transactional_db, manager, team):
    return make_credentials(manager, team)


def _client(live_server, creds) -> OAuth2Client:
    return OAuth2Client(
        token_endpoint=f"{live_server.url}/oauth/token",
        client_id=creds.client_id,
        client_secret=creds.client_secret,
        dpop_bound_access_tokens=True,
        # The live test server speaks plain HTTP; the library otherwise insists on HTTPS.
        testing=True,
    )


@pytest.mark.parametrize("alg", ["ES256", "EdDSA"])
def test_requests_oauth2client_gets_and_uses_a_dpop_token(live_server, live_creds, team, alg):
    key = DPoPKey.generate(alg=alg)
    token = _client(live_server, live_creds).resource_owner_password(
        live_creds.username, live_creds.password, dpop_key=key, scope="raas.all", audience=AUDIENCE
    )

    assert token.token_type == "DPoP"
    assert AccessToken.objects.get().jkt
    whoami = requests.get(f"{live_server.url}/api/v2/whoami", auth=token, timeout=10)
    assert whoami.status_code == HTTPStatus.OK, whoami.text
    assert whoami.json()["authentication"] == "dpop"
    assert whoami.json()["team"] == team.name
    # Stolen, the token alone is useless.
    stolen = requests.get(
        f"{live_server.url}/api/v2/whoami",
        headers={"Authorization": f"Bearer {token.access_token}"},
        timeout=10,
    )
    assert stolen.status_code == HTTPStatus.UNAUTHORIZED
    assert stolen.headers["WWW-Authenticate"].startswith('DPoP error="invalid_token"')


def test_requests_oauth2client_follows_server_nonces(live_server, live_creds, settings):
    settings.DPOP_NONCES = True
    token = _client(live_server, live_creds).resource_owner_password(
        live_creds.username, live_creds.password, scope="raas.all", audience=AUDIENCE
    )
    assert token.token_type == "DPoP"
    whoami = requests.get(f"{live_server.url}/api/v2/whoami", auth=token, timeout=10)
    assert whoami.status_code == HTTPStatus.OK, whoami.text
