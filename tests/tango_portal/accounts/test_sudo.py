"""Sensitive actions need a sign-in within the last 15 minutes, then continue (sudo mode)."""

from __future__ import annotations

import time
from http import HTTPStatus

import pytest

from credentials import services
from credentials.models import ApiKey, OAuthClient, ServiceAccount
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db


def _age_session(client, minutes: int) -> None:
    session = client.session
    session["sudo_at"] = int(time.time()) - minutes * 60
    session.save()


@pytest.fixture(params=["service_account", "oauth_client", "api_key"])
def target(request, team, manager):
    """(URL of the irreversible action, callable telling whether it happened)."""
    if request.param == "service_account":
        account, _ = services.service_account_create(actor=manager, team=team)
        return (
            f"/team/api-credentials/service-accounts/{account.pk}/delete/",
            lambda: ServiceAccount.objects.get(pk=account.pk).is_deleted,
        )
    if request.param == "oauth_client":
        client, _ = services.oauth_client_create(actor=manager, team=team)
        return (
            f"/team/api-credentials/clients/{client.pk}/deactivate/",
            lambda: not OAuthClient.objects.get(pk=client.pk).is_active,
        )
    key, _ = services.api_key_create(actor=manager, team=team, platform_name="Shop")
    return (
        f"/team/api-credentials/api-keys/{key.pk}/deactivate/",
        lambda: not ApiKey.objects.get(pk=key.pk).is_active,
    )


def test_recent_sign_in_acts_at_once(manager_client, target):
    url, happened = target
    response = manager_client.post(url, {"confirm": "on"})
    assert response.status_code in (HTTPStatus.OK, HTTPStatus.FOUND)
    assert happened()


def test_stale_post_asks_for_the_password_then_continues(manager_client, target):
    url, happened = target
    _age_session(manager_client, 16)
    prompt = manager_client.post(url, {"confirm": "on"})
    assert prompt.status_code == HTTPStatus.OK
    body = prompt.content.decode()
    assert "Confirm your password" in body
    assert 'name="confirm" value="on"' in body
    assert not happened()

    wrong = manager_client.post(url, {"confirm": "on", "sudo_password": "not it"})
    assert wrong.status_code == HTTPStatus.FORBIDDEN
    assert "not right" in wrong.content.decode()
    assert not happened()

    done = manager_client.post(url, {"confirm": "on", "sudo_password": PASSWORD})
    assert done.status_code in (HTTPStatus.OK, HTTPStatus.FOUND)
    assert happened()


def test_stale_get_of_a_confirmation_goes_through_the_prompt_and_back(manager_client, target):
    url, happened = target
    _age_session(manager_client, 30)
    response = manager_client.get(url)
    assert response.status_code == HTTPStatus.FOUND
    assert response["Location"].startswith("/accounts/sudo/?next=")
    back = manager_client.post("/accounts/sudo/", {"next": url, "sudo_password": PASSWORD})
    assert back.status_code == HTTPStatus.FOUND
    assert back["Location"] == url
    assert manager_client.get(url).status_code == HTTPStatus.OK
    assert not happened()


def test_stale_htmx_request_redirects_the_whole_page(manager_client, target, htmx_headers):
    url, happened = target
    _age_session(manager_client, 16)
    response = manager_client.post(url, {"confirm": "on"}, headers=htmx_headers)
    assert response.status_code == HTTPStatus.NO_CONTENT
    assert response["HX-Redirect"].startswith("/accounts/sudo/?next=")
    assert not happened()


def test_repeated_wrong_passwords_sign_the_user_out(manager_client, target):
    url, happened = target
    _age_session(manager_client, 16)
    for _ in range(4):
        manager_client.post(url, {"confirm": "on", "sudo_password": "guess"})
    last = manager_client.post(url, {"confirm": "on", "sudo_password": "guess"})
    assert last.status_code == HTTPStatus.FOUND
    assert last["Location"].startswith("/accounts/login/")
    signed_out = manager_client.get("/team/api-credentials/")
    assert signed_out.status_code == HTTPStatus.FOUND
    assert signed_out["Location"].startswith("/accounts/login/")
    assert not happened()


def test_sudo_prompt_refuses_offsite_next(manager_client):
    _age_session(manager_client, 16)
    response = manager_client.post(
        "/accounts/sudo/", {"next": "https://evil.example/", "sudo_password": PASSWORD}
    )
    assert response["Location"] == "/team/api-credentials/"


def test_changing_a_permission_needs_a_recent_sign_in(admin_user, member, team):
    from tango_portal.models import Membership
    from tests.conftest import client_for

    client = client_for(admin_user)
    target = Membership.objects.get(user=member, team=team)
    _age_session(client, 20)
    data = {"role": "member", "api_keys_permission": "view", "confirmed": "1"}
    prompt = client.post(f"/team/users/{target.pk}/", data)
    assert "Confirm your password" in prompt.content.decode()
    target.refresh_from_db()
    assert target.api_keys_permission == "none"
    for url in (f"/team/users/{target.pk}/", f"/team/users/{target.pk}/remove/"):
        response = client.get(url)
        assert response.status_code == HTTPStatus.FOUND
        assert response["Location"].startswith("/accounts/sudo/?next="), url
