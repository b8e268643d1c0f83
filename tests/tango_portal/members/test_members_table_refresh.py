"""After adding a member in the editor panel, the members table behind it shows them."""

from __future__ import annotations

from http import HTTPStatus

import pytest

from tests.conftest import client_for

pytestmark = pytest.mark.django_db


def test_adding_a_member_tells_the_page_and_the_table_reloads_with_them(team, admin_user):
    http = client_for(admin_user)
    added = http.post(
        "/team/users/add/",
        {"email": "new.hire@example.com", "full_name": "New Hire"},
        headers={"HX-Request": "true", "HX-Target": "member-editor"},
    )
    assert added.status_code == HTTPStatus.OK
    assert added["HX-Trigger"] == "members-changed"

    table = http.get("/team/users/", headers={"HX-Request": "true", "HX-Target": "members"})

    body = table.content.decode()
    assert 'id="members"' in body and "New Hire" in body
    assert "2 members" in body
    assert "<html" not in body and "team-activity" not in body
