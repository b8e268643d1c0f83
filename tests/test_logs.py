"""The logs of production: one JSON line per request and per security event, each with the id
of its request (also sent back as X-Request-ID), and no secret on any line in a full run of
the token flow and the UI flows.
"""

from __future__ import annotations

import io
import json
import logging
import re
import subprocess
import sys
from http import HTTPStatus
from logging.config import dictConfig
from urllib.parse import urlencode

import pytest
from django.test import Client

from credentials import services
from credentials.models import OAuthClient, ServiceAccount
from tango_portal.core.log_filters import JsonFormatter
from tango_portal.core.request_log import RequestIdFilter
from tests.conftest import revealed
from tests.factories import PASSWORD
from tests.test_settings import ROOT, _production_env

pytestmark = pytest.mark.django_db

FORM = "application/x-www-form-urlencoded"
SECRET = re.compile(r"tng_sbx_(?:sap|cs|ak|at|su)_[A-Za-z0-9_\-]{40,}")
NEW_MEMBER_PASSWORD = "plum-orbit-velvet-93-quartz"
HEX_ID = re.compile(r"[0-9a-f]{32}")


@pytest.fixture
def console(settings, monkeypatch):
    """What production's console handler writes (settings.LOGGING, built on a captured stderr)."""
    stream = io.StringIO()
    monkeypatch.setattr(sys, "stderr", stream)
    dictConfig(settings.LOGGING)
    yield stream
    monkeypatch.undo()
    dictConfig(settings.LOGGING)


def lines(stream: io.StringIO) -> list[dict]:
    """Every line written, each parsed: a line that is not one JSON object fails here."""
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def token_request(client: Client, form: dict[str, str], **extra):
    return client.post("/oauth/token", urlencode(form), content_type=FORM, **extra)


# --- The request id -----------------------------------------------------------------------


def test_every_answer_carries_a_new_request_id(client):
    first = client.get("/healthz")
    second = client.get("/no-such-page")
    assert HEX_ID.fullmatch(first["X-Request-ID"])
    assert HEX_ID.fullmatch(second["X-Request-ID"])
    assert first["X-Request-ID"] != second["X-Request-ID"]


def test_a_clients_request_id_is_ignored_unless_a_proxy_sets_it(client, settings):
    assert client.get("/healthz", HTTP_X_REQUEST_ID="mine-123")["X-Request-ID"] != "mine-123"
    settings.REQUEST_ID_FROM_PROXY = True
    assert client.get("/healthz", HTTP_X_REQUEST_ID="0f3c9a7e5b1d4c2a8e6f0b9d7c5a3e1f")["X-Request-ID"] == (
        "0f3c9a7e5b1d4c2a8e6f0b9d7c5a3e1f"
    )
    # Only a short token of safe characters, and nothing shaped like a secret.
    for unsafe in ("a" * 65, "two words", 'quote"d', "new\nline", "", "tng_sbx_at_" + "A" * 43):
        answered = client.get("/healthz", HTTP_X_REQUEST_ID=unsafe)["X-Request-ID"]
        assert HEX_ID.fullmatch(answered), unsafe


# --- The request line -----------------------------------------------------------------------


def test_one_json_line_per_request_without_query_string_headers_or_cookies(console, client):
    response = client.get(
        "/healthz?client_secret=hunter2-in-the-query",
        HTTP_AUTHORIZATION="Bearer header-secret-value",
        HTTP_COOKIE="sessionid=cookie-secret-value",
        HTTP_USER_AGENT="agent-007",
        REMOTE_ADDR="198.51.100.20",
    )
    (line,) = [line for line in lines(console) if line["logger"] == "tango_portal.request"]
    assert set(line) == {
        "time",
        "level",
        "logger",
        "message",
        "method",
        "path",
        "status",
        "duration_ms",
        "client_ip",
        "request_id",
    }
    assert (line["method"], line["path"], line["status"], line["client_ip"]) == (
        "GET",
        "/healthz",
        200,
        "198.51.100.20",
    )
    assert line["request_id"] == response["X-Request-ID"]
    assert line["level"] == "INFO"
    assert line["message"].startswith("GET /healthz 200 ")
    written = console.getvalue()
    for secret in ("hunter2-in-the-query", "header-secret-value", "cookie-secret-value", "agent-007"):
        assert secret not in written


def test_the_request_line_has_the_clients_address_behind_the_trusted_proxy(console, client, settings):
    settings.TRUSTED_PROXY_COUNT = 1
    client.get("/healthz", REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="203.0.113.50")
    (line,) = [line for line in lines(console) if line["logger"] == "tango_portal.request"]
    assert line["client_ip"] == "203.0.113.50"


def test_a_sign_up_links_token_is_redacted_from_the_path(console, client):
    token = "tng_sbx_su_" + "T" * 43
    client.get(f"/accounts/signup/{token}/")
    (line,) = [line for line in lines(console) if line["logger"] == "tango_portal.request"]
    assert line["path"] == "/accounts/signup/[redacted]"
    assert token not in console.getvalue()


def test_a_redirect_to_https_has_its_line_and_id(console, settings):
    settings.SECURE_SSL_REDIRECT = True
    response = Client().get("/accounts/login/")
    assert response.status_code == HTTPStatus.MOVED_PERMANENTLY
    (line,) = [line for line in lines(console) if line["logger"] == "tango_portal.request"]
    assert (line["status"], line["request_id"]) == (301, response["X-Request-ID"])


# --- Security events and errors --------------------------------------------------------------


def test_a_security_event_is_a_json_line_with_its_fields_and_the_request_id(console, team, manager):
    client, _secret = services.oauth_client_create(actor=manager, team=team)
    response = token_request(
        Client(),
        {
            "grant_type": "password",
            "client_id": client.client_id,
            "client_secret": "wrong",
            "username": "u",
            "password": "p",
        },
        REMOTE_ADDR="203.0.113.77",
    )
    assert response.status_code == HTTPStatus.UNAUTHORIZED
    written = lines(console)
    (event,) = [line for line in written if line["logger"] == "tango_portal.security"]
    assert event["message"] == event["event"] == "token_request_failed"
    assert (event["error"], event["client_id"], event["ip"]) == (
        "invalid_client",
        client.client_id,
        "203.0.113.77",
    )
    assert event["level"] == "WARNING"
    # The request's own line has the same id, as the response header does.
    (request_line,) = [line for line in written if line["logger"] == "tango_portal.request"]
    assert event["request_id"] == request_line["request_id"] == response["X-Request-ID"]


def test_a_500_is_a_json_line_with_the_redacted_traceback_and_the_request_id(console, settings):
    settings.ROOT_URLCONF = "tests.tango_portal.core.test_error_log"
    secret = "tng_sbx_cs_" + "s" * 43
    client = Client(raise_request_exception=False)
    response = client.post("/explode/", {"client_secret": secret})
    assert response.status_code == HTTPStatus.INTERNAL_SERVER_ERROR
    written = lines(console)
    (error,) = [line for line in written if line["logger"] == "django.request"]
    assert error["level"] == "ERROR"
    assert error["message"] == "Internal Server Error: /explode/"
    assert "Traceback (most recent call last)" in error["exc_info"]
    assert "Boom: broken while handling [redacted]" in error["exc_info"]
    assert error["request_id"] == response["X-Request-ID"]
    assert "request" not in error
    assert secret not in console.getvalue()


def test_outside_a_request_the_id_is_null(console):
    logging.getLogger("tango_portal.security").warning("probe")
    (line,) = lines(console)
    assert line["request_id"] is None
    assert line["message"] == "probe"


def test_with_debug_on_the_logs_stay_human_readable():
    script = (
        "import os;os.environ['DJANGO_SETTINGS_MODULE']='tango_portal.settings';import django;django.setup();"
        "from django.test.utils import setup_test_environment;setup_test_environment();"
        "from django.test import Client;from tango_portal.core import security_log;"
        "Client().get('/healthz');security_log.event('probe', note='seen')"
    )
    env = {**_production_env(), "DJANGO_DEBUG": "1"}
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    (line,) = [line for line in result.stderr.splitlines() if "tango_portal.security" in line]
    assert line.endswith('WARNING tango_portal.security {"event": "probe", "note": "seen"}')
    # runserver prints its own line per request; the app's request line is off.
    assert "tango_portal.request" not in result.stderr


# --- The leak sweep over every line ------------------------------------------------------------


@pytest.fixture
def everything(caplog, console):
    """Every record of every logger that propagates, at any level (root at 0), each written by
    production's JSON formatter with its request id; and what the configured handler wrote.

    oauthlib keeps its configured WARNING: it logs issued tokens at DEBUG, and that clamp is
    what keeps them out; django.request does not propagate, and the console shows it.
    """
    caplog.set_level(0)
    for name in ("django", "tango_portal", "credentials", "axes"):
        caplog.set_level(0, logger=name)
    caplog.handler.setFormatter(JsonFormatter())
    caplog.handler.addFilter(RequestIdFilter())
    return lambda: caplog.text + console.getvalue()


def test_no_secret_reaches_any_log_line_in_the_token_and_ui_flows(everything, team, admin_user):
    shown: set[str] = set()
    request_ids: set[str] = set()

    def seen(response):
        request_ids.add(response["X-Request-ID"])
        return response

    # Sign in through the form: a wrong password first, then the right one.
    browser = Client()
    assert seen(browser.post("/accounts/login/", {"username": admin_user.email, "password": "wrong-guess-1"}))
    signed_in = seen(browser.post("/accounts/login/", {"username": admin_user.email, "password": PASSWORD}))
    assert signed_in.status_code == HTTPStatus.FOUND
    session_id = browser.cookies["sessionid"].value
    csrf = seen(browser.get("/accounts/login/")).cookies.get("csrftoken")

    # A service account, client credentials and an API key, each revealed once.
    base = "/team/api-credentials"
    for url, data, headers in (
        (f"{base}/service-accounts/create/", {"display_name": "Log check"}, {}),
        (f"{base}/clients/generate/", {"display_name": "Log check"}, {}),
        (f"{base}/api-keys/generate/", {"platform_name": "Log check"}, {"HX-Request": "true"}),
    ):
        page = seen(revealed(browser, seen(browser.post(url, data, headers=headers))))
        assert page.status_code == HTTPStatus.OK
        shown |= set(SECRET.findall(page.content.decode()))

    # A member added, their sign-up link, and the link accepted.
    added = seen(
        browser.post("/team/users/add/", {"email": "newcomer@example.com", "full_name": "New Comer"})
    )
    assert added.status_code == HTTPStatus.OK
    (signup,) = {s for s in SECRET.findall(added.content.decode()) if s.startswith("tng_sbx_su_")}
    shown.add(signup)
    newcomer = Client()
    assert seen(newcomer.get(f"/accounts/signup/{signup}/")).status_code == HTTPStatus.FOUND
    joined = seen(
        newcomer.post(
            "/accounts/signup/set-password/",
            {
                "full_name": "New Comer",
                "new_password1": NEW_MEMBER_PASSWORD,
                "new_password2": NEW_MEMBER_PASSWORD,
            },
        )
    )
    assert joined.status_code == HTTPStatus.FOUND

    # The token flow: a token, whoami, introspect, revoke, and a secret sent in the wrong place.
    account = ServiceAccount.objects.get(team=team, display_name="Log check")
    client = OAuthClient.objects.get(team=team, display_name="Log check")
    password = next(s for s in shown if s.startswith("tng_sbx_sap_"))
    client_secret = next(s for s in shown if s.startswith("tng_sbx_cs_"))
    machine = Client()
    issued = seen(
        token_request(
            machine,
            {
                "grant_type": "password",
                "client_id": client.client_id,
                "client_secret": client_secret,
                "username": account.username,
                "password": password,
                "scope": "raas.all",
                "audience": "https://api.tangocard.com/",
            },
        )
    )
    assert issued.status_code == HTTPStatus.OK, issued.content
    token = issued.json()["access_token"]
    shown.add(token)
    assert seen(machine.get("/api/v2/whoami", HTTP_AUTHORIZATION=f"Bearer {token}")).status_code == 200
    as_client = {"client_id": client.client_id, "client_secret": client_secret, "token": token}
    introspected = seen(machine.post("/oauth/introspect", urlencode(as_client), content_type=FORM))
    assert introspected.json()["active"] is True
    assert seen(machine.post("/oauth/revoke", urlencode(as_client), content_type=FORM)).status_code == 200
    assert seen(machine.get("/api/v2/whoami", HTTP_AUTHORIZATION=f"Bearer {token}")).status_code == 401
    wrong_place = {
        "grant_type": "password",
        "client_id": client_secret,
        "username": "x",
        "password": password,
    }
    assert seen(token_request(machine, wrong_place)).status_code == HTTPStatus.UNAUTHORIZED
    assert {s.split("_")[2] for s in shown} == {"sap", "cs", "ak", "su", "at"}

    logged = everything()
    for secret in [*shown, PASSWORD, NEW_MEMBER_PASSWORD, "wrong-guess-1", session_id]:
        assert secret not in logged
    if csrf is not None:
        assert csrf.value not in logged
    # The sweep saw the flows: a line for each request, under the id its answer carried.
    for request_id in request_ids:
        assert f'"request_id": "{request_id}"' in logged
    for event in ("sign_in_failed", "signed_in", "token_request_failed"):
        assert f'"event": "{event}"' in logged
