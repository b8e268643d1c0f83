"""Markup in names is shown as text everywhere: pages, the admin and exports."""

from __future__ import annotations

import json
from http import HTTPStatus

import pytest

from credentials import services
from tests.conftest import client_for
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

MARKUP = '<img src=x onerror="alert(1)">'
ESCAPED = "&lt;img src=x onerror=&quot;alert(1)&quot;&gt;"


@pytest.fixture
def named(team, manager):
    account, _ = services.service_account_create(actor=manager, team=team, display_name=MARKUP)
    client, _ = services.oauth_client_create(actor=manager, team=team, display_name=MARKUP)
    key, _ = services.api_key_create(actor=manager, team=team, platform_name=MARKUP)
    return account, client, key


def _assert_text(body: str) -> None:
    assert MARKUP not in body
    assert ESCAPED in body


def test_portal_pages_escape_names(named, manager_client):
    account, client, _key = named
    for url in (
        "/team/api-credentials/",
        "/team/api-credentials/service-accounts/",
        f"/team/api-credentials/service-accounts/{account.pk}/",
        "/team/api-credentials/clients/",
        f"/team/api-credentials/clients/{client.pk}/",
        "/team/api-credentials/api-keys/",
        "/team/api-credentials/history/",
    ):
        response = manager_client.get(url)
        assert response.status_code == HTTPStatus.OK, url
        _assert_text(response.content.decode())


def test_admin_escapes_names(named):
    staff = client_for(UserFactory(is_staff=True, is_superuser=True))
    for url in (
        "/admin/credentials/serviceaccount/",
        "/admin/credentials/oauthclient/",
        "/admin/credentials/apikey/",
        "/admin/credentials/credentialhistory/",
    ):
        response = staff.get(url)
        assert response.status_code == HTTPStatus.OK, url
        _assert_text(response.content.decode())


def test_exports_carry_names_as_plain_data(named, manager_client):
    csv_body = b"".join(manager_client.get("/team/api-credentials/history/?_export=csv").streaming_content)
    assert MARKUP.replace('"', '""').encode() in csv_body
    json_body = b"".join(manager_client.get("/team/api-credentials/history/?_export=json").streaming_content)
    rows = json.loads(json_body)["rows"]
    assert MARKUP in {value for row in rows for value in row.values()}
