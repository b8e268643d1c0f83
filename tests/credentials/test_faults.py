"""A database failure in the middle of any credential action leaves nothing half-done."""

from __future__ import annotations

from collections.abc import Callable
from http import HTTPStatus

import pytest
from django.db import DatabaseError, OperationalError
from django.test import Client

from credentials import history, services
from credentials.models import AccessToken, ApiKey, CredentialHistory, OAuthClient, ServiceAccount
from tests.conftest import client_for
from tests.factories import AccessTokenFactory

pytestmark = pytest.mark.django_db


def snapshot() -> dict[str, object]:
    return {
        "history": list(CredentialHistory.objects.order_by("id").values_list("id", "row_hash")),
        "accounts": list(ServiceAccount.objects.order_by("id").values()),
        "clients": list(OAuthClient.objects.order_by("id").values()),
        "keys": list(ApiKey.objects.order_by("id").values()),
        "tokens": list(AccessToken.objects.order_by("id").values()),
    }


def _boom(*args, **kwargs):
    raise OperationalError("server closed the connection unexpectedly")


@pytest.fixture
def world(team, manager):
    account, _ = services.service_account_create(actor=manager, team=team, display_name="Before")
    client, _ = services.oauth_client_create(actor=manager, team=team, display_name="Before")
    key, _ = services.api_key_create(actor=manager, team=team, platform_name="Before")
    AccessTokenFactory(client=client, service_account=account)
    return {"account": account, "client": client, "key": key, "team": team, "actor": manager}


ACTIONS: dict[str, Callable[[dict], object]] = {
    "service_account_create": lambda w: services.service_account_create(actor=w["actor"], team=w["team"]),
    "service_account_view": lambda w: services.service_account_view(
        actor=w["actor"], team=w["team"], account=w["account"]
    ),
    "service_account_rename": lambda w: services.service_account_rename(
        actor=w["actor"], team=w["team"], account=w["account"], display_name="After"
    ),
    "service_account_delete": lambda w: services.service_account_delete(
        actor=w["actor"], team=w["team"], account=w["account"]
    ),
    "oauth_client_create": lambda w: services.oauth_client_create(actor=w["actor"], team=w["team"]),
    "oauth_client_rename": lambda w: services.oauth_client_rename(
        actor=w["actor"], team=w["team"], client=w["client"], display_name="After"
    ),
    "oauth_client_deactivate": lambda w: services.oauth_client_deactivate(
        actor=w["actor"], team=w["team"], client=w["client"]
    ),
    "api_key_create": lambda w: services.api_key_create(
        actor=w["actor"], team=w["team"], platform_name="After"
    ),
    "api_key_deactivate": lambda w: services.api_key_deactivate(
        actor=w["actor"], team=w["team"], key=w["key"]
    ),
}

# Where the database "fails": before the change, between change and history, inside history.
FAULT_POINTS = {
    "history write": ("credentials.history.CredentialHistory.save", None),
    "history chain read": ("credentials.history.CredentialHistory.objects", "filter"),
    "token revocation": ("credentials.services._revoke_tokens", None),
}


CASES = [
    (action, fault)
    for action in sorted(ACTIONS)
    for fault in sorted(FAULT_POINTS)
    # Only deletion and deactivation of OAuth credentials revoke tokens.
    if fault != "token revocation" or action in {"service_account_delete", "oauth_client_deactivate"}
]


@pytest.mark.parametrize(("action", "fault"), CASES)
def test_failure_mid_action_changes_nothing(world, monkeypatch, action, fault):
    before = snapshot()
    target, attribute = FAULT_POINTS[fault]
    if attribute is None:
        monkeypatch.setattr(target, _boom)
    else:
        monkeypatch.setattr(history.CredentialHistory.objects, attribute, _boom)
    with pytest.raises(DatabaseError):
        ACTIONS[action](world)
    monkeypatch.undo()
    assert snapshot() == before


def test_database_outage_shows_a_friendly_page_not_a_traceback(manager, monkeypatch):
    from credentials import selectors

    client: Client = client_for(manager)
    client.raise_request_exception = False
    monkeypatch.setattr(selectors, "service_accounts_active", _boom)
    monkeypatch.setattr(selectors, "oauth_clients_active", _boom)
    response = client.get("/team/api-credentials/")
    assert response.status_code == HTTPStatus.INTERNAL_SERVER_ERROR
    body = response.content.decode()
    assert "Something went wrong" in body
    assert "Traceback" not in body
    assert "OperationalError" not in body
