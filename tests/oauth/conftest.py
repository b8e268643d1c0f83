from __future__ import annotations

import base64
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import urlencode

import pytest

from credentials import services
from credentials.models import OAuthClient, ServiceAccount

TOKEN_URL = "/oauth/token"
AUDIENCE = "https://api.tangocard.com/"
FIVE_MINUTE_AUDIENCE = "https://api.bhn.com/fiveminute"
LEGACY_CREATED_AT = datetime(2025, 1, 15, tzinfo=UTC)


@dataclass
class Credentials:
    client: OAuthClient
    client_secret: str
    account: ServiceAccount
    password: str

    @property
    def client_id(self) -> str:
        return self.client.client_id

    @property
    def username(self) -> str:
        return self.account.username

    def form(self, **overrides: str | None) -> dict[str, str]:
        data = {
            "grant_type": "password",
            "client_id": self.client_id,
            "client_secret": self.client_secret,
            "username": self.username,
            "password": self.password,
            "scope": "raas.all",
            "audience": AUDIENCE,
        }
        data.update(overrides)  # type: ignore[arg-type]
        return {key: value for key, value in data.items() if value is not None}


def basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def make_credentials(actor, team, *, legacy: bool = False) -> Credentials:
    client, secret = services.oauth_client_create(
        actor=actor, team=team, created_at=LEGACY_CREATED_AT if legacy else None
    )
    account, password = services.service_account_create(actor=actor, team=team, display_name="Checkout")
    return Credentials(client=client, client_secret=secret, account=account, password=password)


@pytest.fixture
def creds(manager, team) -> Credentials:
    return make_credentials(manager, team)


@pytest.fixture
def legacy_creds(manager, team) -> Credentials:
    return make_credentials(manager, team, legacy=True)


@pytest.fixture
def other_creds(outsider, other_team) -> Credentials:
    return make_credentials(outsider, other_team)


def form_post(client, url: str, data, **extra):
    """POST a form body as a real client would (a dict, a list of pairs, or a raw string)."""
    body = data if isinstance(data, str) else urlencode(data)
    return client.post(url, data=body, content_type="application/x-www-form-urlencoded", **extra)


def request_token(client, data, **extra):
    return form_post(client, TOKEN_URL, data, **extra)
