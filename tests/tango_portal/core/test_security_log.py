"""The security log: structured events for refusals and failures, never a secret."""

from __future__ import annotations

import json
import logging
from http import HTTPStatus
from urllib.parse import urlencode

import pytest
from django.test import Client

from credentials import services
from tango_portal.core import security_log

pytestmark = pytest.mark.django_db

FORM = "application/x-www-form-urlencoded"


def events(caplog) -> list[dict]:
    return [json.loads(r.getMessage()) for r in caplog.records if r.name == "tango_portal.security"]


def test_sign_in_failure_is_logged_without_the_password(manager, caplog):
    caplog.set_level(logging.INFO, logger="tango_portal.security")
    Client().post(
        "/accounts/login/",
        {"username": manager.email, "password": "hunter2-guess"},
        REMOTE_ADDR="198.51.100.9",
    )
    failed = [e for e in events(caplog) if e["event"] == "sign_in_failed"]
    assert failed == [
        {"event": "sign_in_failed", "email": manager.email, "ip": "198.51.100.9", "path": "/accounts/login/"}
    ]
    assert "hunter2-guess" not in caplog.text


def test_permission_refusal_is_logged(member_client, member, caplog):
    caplog.set_level(logging.INFO, logger="tango_portal.security")
    member_client.get("/team/api-credentials/")
    refused = [e for e in events(caplog) if e["event"] == "permission_refused"]
    assert refused[0]["user_id"] == member.pk
    assert refused[0]["needed"] == "view"
    assert refused[0]["has"] == "none"


def test_a_refused_users_page_is_logged_too(member_client, member, caplog):
    caplog.set_level(logging.INFO, logger="tango_portal.security")

    response = member_client.get("/team/users/")

    assert response.status_code == HTTPStatus.FORBIDDEN
    refused = [e for e in events(caplog) if e["event"] == "permission_refused"]
    assert [(e["user_id"], e["needed"], e["role"]) for e in refused] == [(member.pk, "admin", "member")]


def test_token_failures_and_throttling_are_logged_and_secrets_redacted(team, manager, caplog, settings):
    settings.TOKEN_FAILURE_LIMIT = 2
    caplog.set_level(logging.INFO, logger="tango_portal.security")
    client, secret = services.oauth_client_create(actor=manager, team=team)
    account, password = services.service_account_create(actor=manager, team=team)
    http = Client()
    for _ in range(3):
        http.post(
            "/oauth/token",
            urlencode(
                {
                    "grant_type": "password",
                    "client_id": client.client_id,
                    "client_secret": "wrong",
                    "username": account.username,
                    "password": password,
                }
            ),
            content_type=FORM,
            REMOTE_ADDR="203.0.113.77",
        )
    # A real secret pasted where the client ID goes.
    http.post(
        "/oauth/token",
        urlencode({"grant_type": "password", "client_id": secret, "username": "x", "password": "y"}),
        content_type=FORM,
    )
    logged = events(caplog)
    failed = [e for e in logged if e["event"] == "token_request_failed"]
    assert failed[0]["error"] == "invalid_client"
    assert failed[0]["client_id"] == client.client_id
    assert failed[0]["ip"] == "203.0.113.77"
    assert any(e["event"] == "token_throttled" for e in logged)
    # The pasted secret was logged, as a redacted client ID, not left out.
    assert (failed[-1]["error"], failed[-1]["client_id"]) == ("invalid_client", "[redacted]")
    assert secret not in caplog.text
    assert password not in caplog.text


def test_secret_sounding_fields_and_secret_shaped_values_are_redacted(caplog):
    caplog.set_level(logging.INFO, logger="tango_portal.security")
    security_log.event(
        "probe",
        password="p",
        client_secret="s",
        note="value tng_sbx_cs_" + "A" * 43 + " here",
        level=logging.INFO,
    )
    (record,) = events(caplog)
    assert record == {
        "event": "probe",
        "password": "[redacted]",
        "client_secret": "[redacted]",
        "note": "value [redacted] here",
    }
