from __future__ import annotations

from http import HTTPStatus

import pytest
from django.core.exceptions import PermissionDenied

from credentials import permissions
from tango_portal.models import Membership
from tests.conftest import client_for
from tests.factories import MembershipFactory

pytestmark = pytest.mark.django_db

Perm = Membership.ApiKeysPermission


@pytest.mark.parametrize(
    ("permission", "role", "view", "manage", "members"),
    [
        (Perm.NONE, Membership.Role.MEMBER, False, False, False),
        (Perm.VIEW, Membership.Role.MEMBER, True, False, False),
        (Perm.MANAGE, Membership.Role.MEMBER, True, True, False),
        # Admins start with "Don't allow" like everyone else, as on the real portal.
        (Perm.NONE, Membership.Role.ADMIN, False, False, True),
        (Perm.MANAGE, Membership.Role.ADMIN, True, True, True),
    ],
)
def test_permission_matrix(team, permission, role, view, manage, members):
    membership = MembershipFactory(team=team, api_keys_permission=permission, role=role)
    assert permissions.can_view_credentials(membership) is view
    assert permissions.can_export_history(membership) is view
    assert permissions.can_manage_credentials(membership) is manage
    assert permissions.can_manage_members(membership) is members


def test_no_membership_may_do_nothing():
    assert not permissions.can_view_credentials(None)
    assert not permissions.can_manage_credentials(None)
    with pytest.raises(PermissionDenied):
        permissions.require_view(None)
    with pytest.raises(PermissionDenied):
        permissions.require_manage(None)


def test_member_without_permission_gets_403_naming_admins(member_client, admin_user, htmx_headers):
    for headers in ({}, htmx_headers):
        response = member_client.get("/team/api-credentials/", headers=headers)
        assert response.status_code == HTTPStatus.FORBIDDEN
        body = response.content.decode()
        assert "Tango API keys: View" in body
        assert admin_user.email in body
        assert admin_user.full_name in body


def test_admin_without_manage_is_refused_too(team):
    admin = MembershipFactory(team=team, role=Membership.Role.ADMIN, api_keys_permission=Perm.NONE).user
    response = client_for(admin).get("/team/api-credentials/")
    assert response.status_code == HTTPStatus.FORBIDDEN
    # Refused for want of the API keys permission, which the page says, not for anything else.
    assert "Your permission is <strong>Don&#x27;t allow</strong>" in response.content.decode()


def test_user_without_any_team_is_told_so():
    from tests.factories import UserFactory

    response = client_for(UserFactory()).get("/team/api-credentials/")
    assert response.status_code == HTTPStatus.FORBIDDEN
    assert "not a member of any team" in response.content.decode()


def test_viewer_and_manager_see_the_page(auditor_client, manager_client, team):
    for client in (auditor_client, manager_client):
        response = client.get("/team/api-credentials/")
        assert response.status_code == HTTPStatus.OK
        assert team.name in response.content.decode()


def test_anonymous_is_sent_to_sign_in(client):
    response = client.get("/team/api-credentials/")
    assert response.status_code == HTTPStatus.FOUND
    assert response["Location"].startswith("/accounts/login/")
