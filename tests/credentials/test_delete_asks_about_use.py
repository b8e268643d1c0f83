"""Before deleting a service account or deactivating client credentials or an API key, the
confirmation says when it was last used; used in the last 7 days, it asks for its name."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from http import HTTPStatus
from typing import Any

import pytest
from django.utils import timezone

from credentials import services
from credentials.models import (
    ApiKey,
    CredentialAddress,
    CredentialHistory,
    CredentialType,
    OAuthClient,
    ServiceAccount,
)
from tests.conftest import client_for, plain_and_htmx
from tests.factories import PASSWORD
from tests.oauth.conftest import basic, make_credentials, request_token

pytestmark = pytest.mark.django_db

BASE = "/team/api-credentials"
ADDRESS = "203.0.113.9"
AGENT = "order-server/2.4"


@dataclass(frozen=True)
class Kind:
    """One type of credential, as its irreversible confirmation knows it."""

    name: str
    model: type
    credential_type: CredentialType
    make: Callable[[Any, Any, str], Any]  # (actor, team, name) -> credential
    action: str  # the confirmation URL, with {pk}
    done: str  # where a plain POST goes once it is done
    subject: str  # how the page speaks of it

    def url(self, credential: Any) -> str:
        return self.action.format(pk=credential.pk)

    def is_live(self, credential: Any) -> bool:
        fresh = self.model.objects.get(pk=credential.pk)
        return not fresh.is_deleted if self.model is ServiceAccount else fresh.is_active


def _account(actor, team, name):
    return services.service_account_create(actor=actor, team=team, display_name=name)[0]


def _client(actor, team, name):
    return services.oauth_client_create(actor=actor, team=team, display_name=name)[0]


def _key(actor, team, name):
    return services.api_key_create(actor=actor, team=team, platform_name=name or "Order server")[0]


KINDS = [
    Kind(
        "service_account",
        ServiceAccount,
        CredentialType.SERVICE_ACCOUNT,
        _account,
        f"{BASE}/service-accounts/{{pk}}/delete/",
        f"{BASE}/#service-accounts",
        "This service account",
    ),
    Kind(
        "client",
        OAuthClient,
        CredentialType.OAUTH_CLIENT,
        _client,
        f"{BASE}/clients/{{pk}}/deactivate/",
        f"{BASE}/clients/",
        "These client credentials",
    ),
    Kind(
        "api_key",
        ApiKey,
        CredentialType.API_KEY,
        _key,
        f"{BASE}/api-keys/{{pk}}/deactivate/",
        f"{BASE}/api-keys/",
        "This API key",
    ),
]
by_name = pytest.mark.parametrize("kind", KINDS, ids=lambda kind: kind.name)


def used(kind: Kind, credential: Any, ago: timedelta, address: str = ADDRESS) -> None:
    """What credentials.usage writes for a use `ago` before now, from `address`."""
    at = timezone.now() - ago
    kind.model.objects.filter(pk=credential.pk).update(last_used_at=at)
    CredentialAddress.objects.create(
        team=credential.team,
        credential_type=kind.credential_type,
        credential_pk=credential.pk,
        ip_address=address,
        user_agent=AGENT,
        first_seen_at=at,
        last_seen_at=at,
    )


def text(response) -> str:
    return response.content.decode()


def deactivations(team) -> int:
    ended = [CredentialHistory.Action.DEACTIVATED, CredentialHistory.Action.DELETED]
    return CredentialHistory.objects.filter(team=team, action__in=ended).count()


def assert_done(kind: Kind, credential: Any, response, *, htmx: bool) -> None:
    if htmx:
        assert response["HX-Redirect"] == kind.done
    else:
        assert response.status_code == HTTPStatus.FOUND
        assert response["Location"] == kind.done
    assert not kind.is_live(credential)


# --- What the confirmation says ------------------------------------------------------


@by_name
def test_never_used_says_so_and_asks_no_name(kind, manager_client, manager, team):
    credential = kind.make(manager, team, "Order server")

    for response in plain_and_htmx(manager_client.get, kind.url(credential)):
        body = text(response)
        assert "never been used" in body
        assert kind.subject in body
        assert 'name="typed_name"' not in body
        assert 'name="confirm"' in body

    response = manager_client.post(kind.url(credential), {"confirm": "on"})
    assert_done(kind, credential, response, htmx=False)


@by_name
@pytest.mark.parametrize(
    ("ago", "words", "asks"),
    [
        (timedelta(hours=2), "used in the last 24 hours", True),
        (timedelta(days=3), "used in the last 7 days", True),
        (timedelta(days=20), "used in the last 30 days", False),
        (timedelta(days=45), "last used more than 30 days ago", False),
    ],
    ids=["24 hours", "7 days", "30 days", "older"],
)
def test_the_last_use_is_said_in_plain_words_before_the_button(
    kind, ago, words, asks, manager_client, manager, team
):
    credential = kind.make(manager, team, "Order server")
    used(kind, credential, ago)
    when = kind.model.objects.get(pk=credential.pk).last_used_at

    for response in plain_and_htmx(manager_client.get, kind.url(credential)):
        body = text(response)
        assert f"{kind.subject} {'were' if kind.name == 'client' else 'was'} {words}" in body
        assert f'<time datetime="{when.isoformat()}">' in body
        assert f'from <span class="mono">{ADDRESS}</span>' in body
        # Said before the irreversible button, not after.
        button = body.index('type="submit"', body.index(f'action="{kind.url(credential)}"'))
        assert body.index(words) < button
        assert ('name="typed_name"' in body) is asks
        if asks:
            assert "Type “Order server” to confirm" in body
    assert kind.is_live(credential)


# --- The typed name, when asked ------------------------------------------------------------


@by_name
@pytest.mark.parametrize("htmx", [False, True], ids=["plain", "htmx"])
@pytest.mark.parametrize(
    ("typed", "error"),
    [
        (None, "Type the name “Order server” to confirm."),
        ("", "Type the name “Order server” to confirm."),
        ("Order serve", "The name you typed does not match."),
        ("order server", "The name you typed does not match."),
    ],
    ids=["missing", "empty", "short", "case"],
)
def test_a_wrong_or_missing_name_changes_nothing(
    kind, htmx, typed, error, manager_client, manager, team, htmx_headers
):
    credential = kind.make(manager, team, "Order server")
    used(kind, credential, timedelta(days=1, hours=1))
    data = {"confirm": "on"} if typed is None else {"confirm": "on", "typed_name": typed}
    before = deactivations(team)

    response = manager_client.post(kind.url(credential), data, headers=htmx_headers if htmx else {})

    assert response.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
    body = text(response)
    assert ("<html" not in body) is htmx
    assert error in body
    assert 'role="alert"' in body
    assert 'name="typed_name"' in body
    assert kind.is_live(credential)
    assert deactivations(team) == before


@by_name
@pytest.mark.parametrize("htmx", [False, True], ids=["plain", "htmx"])
def test_the_right_name_does_it(kind, htmx, manager_client, manager, team, htmx_headers):
    credential = kind.make(manager, team, "Order server")
    used(kind, credential, timedelta(hours=1))

    response = manager_client.post(
        kind.url(credential),
        {"confirm": "on", "typed_name": "  Order server "},
        headers=htmx_headers if htmx else {},
    )

    assert_done(kind, credential, response, htmx=htmx)
    assert deactivations(team) == 1


@by_name
def test_the_name_does_not_replace_the_checkbox(kind, manager_client, manager, team):
    credential = kind.make(manager, team, "Order server")
    used(kind, credential, timedelta(hours=1))

    response = manager_client.post(kind.url(credential), {"typed_name": "Order server"})

    assert response.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
    assert "Tick the box to confirm" in text(response)
    assert kind.is_live(credential)


@pytest.mark.parametrize(
    ("kind", "name_of"),
    [
        (KINDS[0], lambda credential: credential.username),
        (KINDS[1], lambda credential: credential.client_id),
        (KINDS[2], lambda credential: credential.platform_name),
    ],
    ids=["service_account", "client", "api_key"],
)
def test_without_a_display_name_the_identifier_is_the_name(kind, name_of, manager_client, manager, team):
    credential = kind.make(manager, team, "")
    used(kind, credential, timedelta(minutes=5))
    name = name_of(credential)

    assert f"Type “{name}” to confirm" in text(manager_client.get(kind.url(credential)))
    response = manager_client.post(kind.url(credential), {"confirm": "on", "typed_name": name})
    assert_done(kind, credential, response, htmx=False)


def test_real_use_asks_for_the_name(client, manager_client, manager, team):
    """A token request and an API call, as servers make them, are what the pages go by."""
    creds = make_credentials(manager, team)
    key, plaintext = services.api_key_create(actor=manager, team=team, platform_name="Shop")
    token = request_token(client, creds.form(), REMOTE_ADDR=ADDRESS, HTTP_USER_AGENT=AGENT)
    assert token.status_code == HTTPStatus.OK
    call = client.get("/api/v2/whoami", HTTP_AUTHORIZATION=basic(team.slug, plaintext), REMOTE_ADDR=ADDRESS)
    assert call.status_code == HTTPStatus.OK

    for kind, credential, name in (
        (KINDS[0], creds.account, "Checkout"),
        (KINDS[1], creds.client, creds.client.client_id),
        (KINDS[2], key, "Shop"),
    ):
        body = text(manager_client.get(kind.url(credential)))
        assert "used in the last 24 hours" in body, kind.name
        assert f'from <span class="mono">{ADDRESS}</span>' in body
        assert f"Type “{name}” to confirm" in body
        refused = manager_client.post(kind.url(credential), {"confirm": "on"})
        assert refused.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
        assert kind.is_live(credential)
        done = manager_client.post(kind.url(credential), {"confirm": "on", "typed_name": name})
        assert_done(kind, credential, done, htmx=False)


@by_name
def test_a_use_since_the_page_was_shown_asks_for_the_name_on_post(kind, manager_client, manager, team):
    credential = kind.make(manager, team, "Order server")
    assert 'name="typed_name"' not in text(manager_client.get(kind.url(credential)))
    used(kind, credential, timedelta(seconds=30))

    response = manager_client.post(kind.url(credential), {"confirm": "on"})

    assert response.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
    assert "used in the last 24 hours" in text(response)
    assert kind.is_live(credential)


@by_name
def test_already_gone_is_a_conflict_not_a_name_question(kind, manager_client, manager, team):
    credential = kind.make(manager, team, "Order server")
    used(kind, credential, timedelta(hours=1))
    manager_client.post(kind.url(credential), {"confirm": "on", "typed_name": "Order server"})
    assert not kind.is_live(credential)

    again = manager_client.post(kind.url(credential), {"confirm": "on"})

    assert again.status_code == HTTPStatus.CONFLICT
    assert deactivations(team) == 1


# --- Through the sudo prompt -----------------------------------------------------------------


def stale(user) -> Any:
    http = client_for(user)
    session = http.session
    session["sudo_at"] = int(time.time()) - 16 * 60
    session.save()
    return http


@by_name
def test_the_typed_name_is_carried_through_the_password_prompt(kind, manager, team):
    credential = kind.make(manager, team, "Order server")
    used(kind, credential, timedelta(hours=1))
    http = stale(manager)
    fields = {"confirm": "on", "typed_name": "Order server"}

    prompt = http.post(kind.url(credential), fields)

    assert prompt.status_code == HTTPStatus.OK
    assert "registration/sudo.html" in [template.name for template in prompt.templates]
    assert '<input type="hidden" name="typed_name" value="Order server">' in text(prompt)
    assert kind.is_live(credential)

    done = http.post(kind.url(credential), {**fields, "sudo_password": PASSWORD})
    assert_done(kind, credential, done, htmx=False)


@by_name
def test_a_wrong_name_after_the_password_changes_nothing(kind, manager, team):
    credential = kind.make(manager, team, "Order server")
    used(kind, credential, timedelta(hours=1))
    http = stale(manager)

    response = http.post(
        kind.url(credential), {"confirm": "on", "typed_name": "Other", "sudo_password": PASSWORD}
    )

    assert response.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
    assert "The name you typed does not match." in text(response)
    assert kind.is_live(credential)


@by_name
def test_an_htmx_post_while_stale_keeps_the_name_for_the_prompt(kind, manager, team, htmx_headers):
    credential = kind.make(manager, team, "Order server")
    used(kind, credential, timedelta(hours=1))
    http = stale(manager)

    held = http.post(
        kind.url(credential), {"confirm": "on", "typed_name": "Order server"}, headers=htmx_headers
    )

    assert held["HX-Redirect"].startswith("/accounts/sudo/")
    prompt = http.get(held["HX-Redirect"])
    assert '<input type="hidden" name="typed_name" value="Order server">' in text(prompt)
    assert kind.is_live(credential)
    done = http.post(
        kind.url(credential), {"confirm": "on", "typed_name": "Order server", "sudo_password": PASSWORD}
    )
    assert_done(kind, credential, done, htmx=False)
