"""The 403 page says what the user tried, what they have, what it needs and whom to ask."""

from __future__ import annotations

import html as html_lib
import re
from http import HTTPStatus

import pytest

from credentials import services as credential_services
from tango_portal.models import Membership
from tests.factories import MembershipFactory

pytestmark = pytest.mark.django_db


def text_of(response) -> str:
    """The page's words, without tags, entities decoded and spaces collapsed."""
    body = re.sub(r"<[^>]+>", "", response.content.decode())
    return re.sub(r"\s+", " ", html_lib.unescape(body))


@pytest.fixture
def second_admin(team):
    return MembershipFactory(
        team=team,
        role=Membership.Role.ADMIN,
        api_keys_permission=Membership.ApiKeysPermission.NONE,
        user__email="bea@example.com",
        user__full_name="Bea Boss",
    ).user


def test_a_view_user_trying_to_manage_is_told_they_can_see_but_not_change(
    auditor_client, admin_user, second_admin
):
    response = auditor_client.get("/team/api-credentials/service-accounts/create/")
    assert response.status_code == HTTPStatus.FORBIDDEN
    text = text_of(response)
    assert "You need permission to manage API credentials" in text
    assert "You need permission to see API credentials" not in text
    assert "You tried to change API credentials" in text
    assert (
        "Your permission is View: you can see the credentials and their history, but not change them" in text
    )
    assert "That needs the Tango API keys: Manage permission" in text
    assert "set your Tango API keys permission to Manage on Team settings > Users" in text
    assert "Integrations" not in text
    for name, email in [("Ada Admin", "admin@example.com"), ("Bea Boss", "bea@example.com")]:
        assert f"{name} <{email}>" in text
    assert 'href="/team/api-credentials/"' in response.content.decode()


def test_a_view_user_posting_a_manage_action_gets_the_same_words(auditor_client, team, manager):
    account, _ = credential_services.service_account_create(actor=manager, team=team)
    response = auditor_client.post(f"/team/api-credentials/service-accounts/{account.pk}/rename/", {})
    assert response.status_code == HTTPStatus.FORBIDDEN
    text = text_of(response)
    assert "You need permission to manage API credentials" in text
    assert "Your permission is View" in text


def test_a_dont_allow_member_trying_to_see_is_told_they_need_view(member_client, admin_user):
    response = member_client.get("/team/api-credentials/history/")
    assert response.status_code == HTTPStatus.FORBIDDEN
    text = text_of(response)
    assert "You need permission to see API credentials" in text
    assert "You tried to see API credentials in Acme Rewards" in text
    assert "Your permission is Don't allow" in text
    assert "set your Tango API keys permission to View on Team settings > Users" in text
    assert "Ada Admin <admin@example.com>" in text
    assert "Integrations" not in text


def test_a_non_admin_on_the_users_page_is_told_their_role(auditor_client, admin_user):
    text = text_of(auditor_client.get("/team/users/"))
    assert "Only team admins can manage users" in text
    assert "You tried to manage the team's users in Acme Rewards" in text
    assert "Your role is Member" in text
    assert "Ada Admin <admin@example.com>" in text
