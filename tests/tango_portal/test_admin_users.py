"""Staff deactivate users in the Django admin; nobody deletes one there."""

from http import HTTPStatus

import pytest
from django.test import Client

from tango_portal.models import Membership, User

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_client(db) -> Client:
    staff = User.objects.create_superuser(email="staff@example.com", password="x" * 16, full_name="Staff")
    client = Client()
    client.force_login(staff)
    return client


def test_the_delete_page_is_forbidden_and_the_user_remains(staff_client, team, admin_user):
    url = f"/admin/tango_portal/user/{admin_user.pk}/delete/"

    assert staff_client.get(url).status_code == HTTPStatus.FORBIDDEN
    assert staff_client.post(url, {"post": "yes"}).status_code == HTTPStatus.FORBIDDEN

    assert User.objects.filter(pk=admin_user.pk).exists()
    assert Membership.objects.filter(user=admin_user, team=team, role="admin").exists()


def test_the_list_offers_no_bulk_delete(staff_client, admin_user):
    page = staff_client.get("/admin/tango_portal/user/")
    assert page.status_code == HTTPStatus.OK
    assert "delete_selected" not in page.content.decode()

    response = staff_client.post(
        "/admin/tango_portal/user/",
        {"action": "delete_selected", "_selected_action": [admin_user.pk], "post": "yes"},
    )

    assert response.status_code < HTTPStatus.INTERNAL_SERVER_ERROR
    assert User.objects.filter(pk=admin_user.pk).exists()


def test_staff_can_deactivate_a_user(staff_client, admin_user):
    page = staff_client.get(f"/admin/tango_portal/user/{admin_user.pk}/change/")
    assert page.status_code == HTTPStatus.OK
    content = page.content.decode()
    assert 'name="is_active"' in content
    assert f"/admin/tango_portal/user/{admin_user.pk}/delete/" not in content

    response = staff_client.post(
        f"/admin/tango_portal/user/{admin_user.pk}/change/",
        {
            "email": admin_user.email,
            "full_name": admin_user.full_name,
            "is_staff": "",
            "is_active": "",
            "last_login_0": "",
            "last_login_1": "",
            "date_joined_0": "2026-01-01",
            "date_joined_1": "09:00:00",
        },
    )

    assert response.status_code == HTTPStatus.FOUND, response.content.decode()[:2000]
    admin_user.refresh_from_db()
    assert admin_user.is_active is False
