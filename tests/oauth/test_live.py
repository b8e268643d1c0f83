"""A real client over HTTP: requests-oauthlib's LegacyApplicationClient against the live server,
and the portal's own ready-to-paste snippets run as a user would run them."""

import html
import json
import os
import re
import shutil
import subprocess
import sys
from http import HTTPStatus
from urllib.parse import urlsplit

import pytest
import requests
from oauthlib.oauth2 import LegacyApplicationClient
from oauthlib.oauth2.rfc6749.errors import InvalidClientError, InvalidGrantError
from requests_oauthlib import OAuth2Session

from credentials import services
from tests.conftest import client_for
from tests.oauth.conftest import AUDIENCE, make_credentials

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _plain_http_test_server(monkeypatch):
    # The live test server speaks HTTP; oauthlib refuses that unless told it is a test.
    monkeypatch.setenv("OAUTHLIB_INSECURE_TRANSPORT", "1")


@pytest.fixture
def live_creds(transactional_db, manager, team):
    return make_credentials(manager, team)


def session_for(creds) -> OAuth2Session:
    return OAuth2Session(client=LegacyApplicationClient(client_id=creds.client_id))


def fetch(session: OAuth2Session, live_server, creds, **overrides):
    arguments = {
        "token_url": f"{live_server.url}/oauth/token",
        "username": creds.username,
        "password": creds.password,
        "client_id": creds.client_id,
        "client_secret": creds.client_secret,
        "scope": ["raas.all"],
        "audience": AUDIENCE,
    }
    arguments.update(overrides)
    return session.fetch_token(**arguments)


def test_requests_oauthlib_gets_a_token_and_calls_the_api(live_server, live_creds, team):
    session = session_for(live_creds)

    token = fetch(session, live_server, live_creds)

    assert token["token_type"] == "Bearer"
    assert token["expires_in"] == 86400
    assert token["scope"] == ["raas.all"]
    response = session.get(f"{live_server.url}/api/v2/whoami")
    assert response.status_code == HTTPStatus.OK
    assert response.json()["team"] == team.name
    assert response.json()["service_account"] == live_creds.username


def test_requests_oauthlib_with_client_id_in_the_body(live_server, live_creds):
    session = session_for(live_creds)

    fetch(session, live_server, live_creds, include_client_id=True)

    response = session.get(f"{live_server.url}/api/v2/whoami")
    assert response.status_code == HTTPStatus.OK
    assert response.json()["service_account"] == live_creds.username


def test_requests_oauthlib_sees_rfc_errors(live_server, live_creds):
    with pytest.raises(InvalidGrantError):
        fetch(session_for(live_creds), live_server, live_creds, password="tng_sbx_sap_wrong")
    with pytest.raises(InvalidClientError):
        fetch(session_for(live_creds), live_server, live_creds, client_secret="tng_sbx_cs_wrong")


def test_a_deleted_account_token_stops_working_over_http(live_server, live_creds, manager, team):
    session = session_for(live_creds)
    fetch(session, live_server, live_creds)

    services.service_account_delete(actor=manager, team=team, account=live_creds.account)

    response = session.get(f"{live_server.url}/api/v2/whoami")
    assert response.status_code == HTTPStatus.UNAUTHORIZED
    assert response.headers["WWW-Authenticate"].startswith('Bearer error="invalid_token"')


def test_revoke_and_introspect_over_http(live_server, live_creds):
    token = fetch(session_for(live_creds), live_server, live_creds)["access_token"]
    auth = (live_creds.client_id, live_creds.client_secret)

    introspected = requests.post(
        f"{live_server.url}/oauth/introspect", data={"token": token}, auth=auth, timeout=30
    )
    assert introspected.json()["active"] is True

    revoked = requests.post(f"{live_server.url}/oauth/revoke", data={"token": token}, auth=auth, timeout=30)
    assert revoked.status_code == HTTPStatus.OK

    introspected = requests.post(
        f"{live_server.url}/oauth/introspect", data={"token": token}, auth=auth, timeout=30
    )
    assert introspected.json() == {"active": False}


# --- The panel's snippets, pasted and run ------------------------------------------


def panel_snippets(live_server, user, **query) -> dict[str, str]:
    """The page as the browser gets it from this server's host; the snippets' text."""
    host = urlsplit(live_server.url).netloc
    response = client_for(user).get("/team/api-credentials/", query, HTTP_HOST=host)
    assert response.status_code == HTTPStatus.OK
    page = response.content.decode()
    return {
        name: html.unescape(
            re.search(rf'id="get-token-{name}-snippet"><code>(.*?)</code>', page, re.S).group(1)
        )
        for name in ("curl", "call", "python", "dpop")
    }


@pytest.mark.parametrize("name", ["python", "dpop"])
def test_the_python_snippets_run_as_pasted(live_server, live_creds, manager, name):
    snippet = panel_snippets(live_server, manager)[name]
    assert live_creds.password not in snippet
    assert live_creds.client_secret not in snippet

    result = subprocess.run(
        [sys.executable, "-c", snippet],
        env={
            **os.environ,
            "CLIENT_SECRET": live_creds.client_secret,
            "SERVICE_ACCOUNT_PASSWORD": live_creds.password,
        },
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert result.returncode == 0, result.stderr
    assert live_creds.username in result.stdout


@pytest.mark.skipif(
    shutil.which("curl") is None and not os.environ.get("CI"),
    reason="curl is not installed (apt-get install curl); CI installs it",
)
def test_the_curl_snippets_run_as_pasted(live_server, live_creds, manager, team):
    account, password = services.service_account_create(actor=manager, team=team, display_name="Curl box")
    snippets = panel_snippets(live_server, manager, token_sa=account.pk)
    env = {**os.environ, "CLIENT_SECRET": live_creds.client_secret, "SERVICE_ACCOUNT_PASSWORD": password}

    got = subprocess.run(
        ["bash", "-c", snippets["curl"]], env=env, capture_output=True, text=True, timeout=60, check=True
    )
    token = json.loads(got.stdout)["access_token"]
    called = subprocess.run(
        ["bash", "-c", snippets["call"]],
        env={**env, "ACCESS_TOKEN": token},
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )

    assert json.loads(called.stdout)["service_account"] == account.username
