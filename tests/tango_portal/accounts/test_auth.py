"""Signing in and out, lockout, session rotation, choosing the current team."""

from __future__ import annotations

from http import HTTPStatus

import pytest
from django.test import Client

from tango_portal.models import Membership
from tests.conftest import client_for
from tests.factories import PASSWORD, MembershipFactory, TeamFactory

pytestmark = pytest.mark.django_db


def _sign_in(client: Client, email: str, password: str, **extra):
    return client.post("/accounts/login/", {"username": email, "password": password}, **extra)


def test_sign_in_with_email_and_password(manager):
    client = Client()
    response = _sign_in(client, "Manager@Example.com ", PASSWORD)
    assert response.status_code == HTTPStatus.FOUND
    # The front door sends a member who may see API credentials on to them.
    landed = client.get(response["Location"], follow=True)
    assert landed.redirect_chain[-1][0] == "/team/api-credentials/"
    assert landed.status_code == HTTPStatus.OK


def test_a_member_without_api_access_signs_in_to_a_page_that_explains(manager, team):
    Membership.objects.filter(user=manager, team=team).update(
        api_keys_permission=Membership.ApiKeysPermission.NONE
    )
    client = Client()
    response = _sign_in(client, manager.email, PASSWORD)
    landed = client.get(response["Location"], follow=True)
    assert landed.status_code == HTTPStatus.OK
    assert "no access to its API credentials yet" in landed.content.decode()


def test_wrong_password_is_refused_with_a_clear_message(manager):
    client = Client()
    response = _sign_in(client, manager.email, "not the password")
    assert response.status_code == HTTPStatus.OK
    assert "do not match an account" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_session_key_rotates_at_sign_in(manager):
    client = Client()
    client.get("/accounts/login/")
    client.session["probe"] = 1
    session = client.session
    session.save()
    before = session.session_key
    _sign_in(client, manager.email, PASSWORD)
    assert client.session.session_key != before


def test_repeated_failures_lock_out_that_address_and_account(manager, settings):
    client = Client()
    for _ in range(settings.AXES_FAILURE_LIMIT):
        _sign_in(client, manager.email, "wrong", REMOTE_ADDR="198.51.100.7")
    locked = _sign_in(client, manager.email, PASSWORD, REMOTE_ADDR="198.51.100.7")
    assert locked.status_code == HTTPStatus.TOO_MANY_REQUESTS
    assert "Too many failed sign-ins" in locked.content.decode()
    assert "_auth_user_id" not in client.session
    # The real user at another address is not locked out by someone else's guesses.
    elsewhere = Client()
    ok = _sign_in(elsewhere, manager.email, PASSWORD, REMOTE_ADDR="203.0.113.50")
    assert ok.status_code == HTTPStatus.FOUND


def test_sign_out_needs_a_post(manager_client):
    assert manager_client.get("/accounts/logout/").status_code == HTTPStatus.METHOD_NOT_ALLOWED
    assert manager_client.get("/team/api-credentials/").status_code == HTTPStatus.OK
    response = manager_client.post("/accounts/logout/")
    assert response.status_code == HTTPStatus.FOUND
    assert manager_client.get("/team/api-credentials/").status_code == HTTPStatus.FOUND


def test_first_team_is_current_by_default_and_can_be_switched(manager, team):
    second = TeamFactory(name="Second Team", slug="second-team")
    MembershipFactory(user=manager, team=second)
    client = client_for(manager)
    page = client.get("/team/api-credentials/").content.decode()
    assert "<strong>Acme Rewards</strong>" in page
    assert "Switch team" in page
    response = client.post("/team/switch/", {"team": second.pk, "next": "/team/api-credentials/"})
    assert response.status_code == HTTPStatus.FOUND
    assert "<strong>Second Team</strong>" in client.get("/team/api-credentials/").content.decode()


def test_cannot_switch_to_a_team_one_is_not_in(manager_client, other_team):
    response = manager_client.post("/team/switch/", {"team": other_team.pk})
    assert response.status_code == HTTPStatus.NOT_FOUND
    assert "<strong>Acme Rewards</strong>" in manager_client.get("/team/api-credentials/").content.decode()


def test_switch_ignores_offsite_next(manager, team):
    client = client_for(manager)
    response = client.post("/team/switch/", {"team": team.pk, "next": "https://evil.example/"})
    assert response["Location"] == "/team/api-credentials/"


def test_layout_shows_team_environment_navigation_and_user(manager_client, settings):
    body = manager_client.get("/team/api-credentials/").content.decode()
    assert "Acme Rewards" in body
    assert "env-badge--sandbox" in body
    assert "Team settings" in body
    assert "API credentials" in body
    assert "Manny Manager" in body
    assert "Sign out" in body


def test_production_environment_is_unmistakable(manager_client, settings):
    settings.PORTAL_ENVIRONMENT = "production"
    body = manager_client.get("/team/api-credentials/").content.decode()
    assert "env-banner--production" in body
    assert "real money" in body
