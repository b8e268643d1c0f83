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
    assert wrong.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
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


# --- warnings, signing out and where it returns -----------------------------------------------


def test_the_prompt_warns_before_the_last_two_tries(manager_client, target):
    url, happened = target
    _age_session(manager_client, 16)
    bodies = [
        manager_client.post(url, {"confirm": "on", "sudo_password": "guess"}).content.decode()
        for _ in range(4)
    ]
    assert all("not right" in body for body in bodies)
    assert "left" not in bodies[0] and "left" not in bodies[1]
    assert "2 tries left: after that you will be signed out." in bodies[2]
    assert "1 try left: after that you will be signed out." in bodies[3]
    assert not happened()


def test_signing_out_says_why_and_returns_to_the_page_they_were_on(manager_client, target, manager):
    url, happened = target
    _age_session(manager_client, 16)
    where = "/team/api-credentials/#service-accounts"
    for _ in range(4):
        manager_client.post(url, {"confirm": "on", "sudo_password": "guess"}, headers={"Referer": where})
    last = manager_client.post(
        url, {"confirm": "on", "sudo_password": "guess", "sudo_next": "/team/api-credentials/"}
    )
    assert last.status_code == HTTPStatus.FOUND
    assert last["Location"] == "/accounts/login/?next=%2Fteam%2Fapi-credentials%2F"
    sign_in_page = manager_client.get(last["Location"])
    html = sign_in_page.content.decode()
    assert "You were signed out after 5 wrong passwords in a row" in html
    assert 'name="next" value="/team/api-credentials/"' in html
    signed_in = manager_client.post(
        last["Location"], {"username": manager.email, "password": PASSWORD, "next": "/team/api-credentials/"}
    )
    assert signed_in["Location"] == "/team/api-credentials/"
    assert not happened()


def test_the_first_prompt_remembers_the_page_it_came_from(manager_client, target):
    url, _ = target
    _age_session(manager_client, 16)
    prompt = manager_client.post(
        url, {"confirm": "on"}, headers={"Referer": "http://testserver/team/api-credentials/"}
    )
    html = prompt.content.decode()
    assert 'name="sudo_next" value="/team/api-credentials/"' in html
    assert '<a href="/team/api-credentials/">Cancel</a>' in html


def test_signing_out_from_the_get_prompt_keeps_its_next(manager_client, target):
    url, _ = target
    _age_session(manager_client, 16)
    for _ in range(4):
        manager_client.post("/accounts/sudo/", {"next": url, "sudo_password": "guess"})
    last = manager_client.post("/accounts/sudo/", {"next": url, "sudo_password": "guess"})
    assert last["Location"].startswith("/accounts/login/?next=")
    assert manager_client.get(last["Location"]).context["next"] == url


def test_a_stale_htmx_post_continues_after_the_password(manager_client, target, htmx_headers):
    url, happened = target
    _age_session(manager_client, 16)
    headers = {**htmx_headers, "HX-Current-URL": "http://testserver/team/api-credentials/"}
    held = manager_client.post(url, {"confirm": "on"}, headers=headers)
    assert held.status_code == HTTPStatus.NO_CONTENT
    prompt_url = held["HX-Redirect"]
    assert "resume=" in prompt_url
    assert not happened()

    prompt = manager_client.get(prompt_url)
    html = prompt.content.decode()
    assert f'action="{url}"' in html
    assert 'name="confirm" value="on"' in html
    assert 'name="sudo_next" value="/team/api-credentials/"' in html

    # The prompt posts the held fields, as a plain form, to the action: it continues.
    done = manager_client.post(url, {"confirm": "on", "sudo_password": PASSWORD})
    assert done.status_code == HTTPStatus.FOUND
    assert happened()
    # Held once: the prompt's URL no longer carries it.
    assert f'action="{url}"' not in manager_client.get(prompt_url).content.decode()


def test_a_held_post_needs_its_own_resume_id(manager_client, target, htmx_headers):
    url, _ = target
    _age_session(manager_client, 16)
    held = manager_client.post(url, {"confirm": "on"}, headers=htmx_headers)
    assert f'action="{url}"' in manager_client.get(held["HX-Redirect"]).content.decode()
    for prompt_url in ("/accounts/sudo/?next=/team/api-credentials/", "/accounts/sudo/?resume=guessed"):
        html = manager_client.get(prompt_url).content.decode()
        assert 'action="/accounts/sudo/"' in html
        assert 'name="confirm"' not in html
