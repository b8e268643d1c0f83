"""The front door: the API credentials page for those who may see it, a page of its own otherwise."""

from __future__ import annotations

import html as html_lib
import re
from http import HTTPStatus

import pytest

from tango_portal.members import services as members_services
from tango_portal.models import Membership
from tests.conftest import client_for
from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db


def text_of(response) -> str:
    body = re.sub(r"<[^>]+>", "", response.content.decode())
    return re.sub(r"\s+", " ", html_lib.unescape(body))


@pytest.mark.parametrize("who", ["auditor", "manager"])
def test_members_who_may_see_credentials_go_to_them(request, who):
    response = client_for(request.getfixturevalue(who)).get("/")
    assert response.status_code == HTTPStatus.FOUND
    assert response["Location"] == "/team/api-credentials/"


def test_signed_out_visitors_are_sent_to_sign_in(client):
    response = client.get("/", follow=True)
    assert response.redirect_chain[-1][0].startswith("/accounts/login/")


def test_a_dont_allow_member_gets_a_home_page_naming_the_admins(member_client, admin_user):
    response = member_client.get("/")
    assert response.status_code == HTTPStatus.OK
    text = text_of(response)
    assert "no access to its API credentials yet" in text
    assert "your Tango API keys permission is Don't allow" in text
    assert "Ada Admin <admin@example.com>" in text
    assert "You need permission" not in text


def test_a_dont_allow_admin_is_pointed_to_the_users_page(team):
    admin = UserFactory(email="solo@example.com", full_name="Solo Admin")
    Membership.objects.create(team=team, user=admin, role=Membership.Role.ADMIN)
    response = client_for(admin).get("/")
    assert response.status_code == HTTPStatus.OK
    assert "As an admin, you can give yourself either" in text_of(response)
    assert 'href="/team/users/"' in response.content.decode()


def test_someone_in_no_team_is_told_to_ask_an_admin():
    response = client_for(UserFactory(email="lone@example.com")).get("/")
    assert response.status_code == HTTPStatus.OK
    assert "You are not a member of any team yet" in text_of(response)


def test_a_new_sign_up_lands_on_a_welcome_without_a_refusal(client, team, admin_user):
    added = members_services.member_add(
        actor=admin_user, team=team, email="nora@example.com", full_name="Nora"
    )
    client.get(f"/accounts/signup/{added.signup_token}/")
    response = client.post(
        "/accounts/signup/set-password/",
        {"full_name": "Nora Newcomer", "new_password1": PASSWORD, "new_password2": PASSWORD},
        follow=True,
    )
    assert response.redirect_chain[-1][0] == "/"
    assert response.status_code == HTTPStatus.OK
    text = text_of(response)
    assert "Welcome to Acme Rewards. Your account is ready." in text
    assert "You need permission" not in text
    assert "Ada Admin <admin@example.com>" in text
