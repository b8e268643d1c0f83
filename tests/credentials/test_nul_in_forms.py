"""A NUL byte in any form field or query parameter of the portal: refused in place, never a 500.

PostgreSQL refuses NUL in text parameters (DataError); `database_refuses_nul` makes SQLite
do the same, so a value that reaches a query unchecked fails here on either database.
"""

from http import HTTPStatus
from urllib.parse import quote

import pytest
from django.test import Client

from credentials import filters, services
from credentials.models import CredentialHistory, ServiceAccount
from tango_portal.models import Membership, User
from tests.conftest import client_for
from tests.nul_bytes import database_refuses_nul  # noqa: F401 - the fixture

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("database_refuses_nul")]

NUL = "%00"
HISTORY_URL = "/team/api-credentials/history/"
HISTORY_PARAMS = [
    "credential_type",
    "name",
    "action",
    "user",
    "date_from",
    "date_to",
    "sort",
    "page",
    "per_page",
    "_export",
]


def form_body(**fields: str) -> str:
    """A form body whose values are sent as written (so `%00` arrives as a NUL)."""
    return "&".join(f"{name}={value}" for name, value in fields.items())


def post(client: Client, url: str, **fields: str):
    return client.post(url, form_body(**fields), content_type="application/x-www-form-urlencoded")


@pytest.fixture
def with_history(team, manager):
    services.service_account_create(actor=manager, team=team, display_name="Checkout")
    assert CredentialHistory.objects.filter(team=team).exists()


@pytest.mark.parametrize("param", HISTORY_PARAMS)
@pytest.mark.parametrize("htmx", [False, True])
def test_history_filters_and_parameters_refuse_a_nul(with_history, manager_client, param, htmx):
    headers = {"HX-Request": "true"} if htmx else {}

    response = manager_client.get(f"{HISTORY_URL}?{param}=Check{NUL}out", headers=headers)

    assert response.status_code < HTTPStatus.INTERNAL_SERVER_ERROR
    if response.streaming:
        b"".join(response.streaming_content)


@pytest.mark.parametrize("param", ["name", "user"])
def test_a_search_with_a_nul_matches_nothing_and_says_why(with_history, manager_client, param, monkeypatch):
    # 0 sends the search down the plain `icontains` path, as a team with many names does.
    for limit in (filters.MAX_VALUES_MATCHED_FIRST, 0):
        monkeypatch.setattr(filters, "MAX_VALUES_MATCHED_FIRST", limit)

        response = manager_client.get(f"{HISTORY_URL}?{param}=Check{NUL}out")

        assert response.status_code == HTTPStatus.OK
        assert "Null characters are not allowed" in response.content.decode()


def test_history_columns_form_refuses_a_nul(with_history, manager_client):
    response = post(manager_client, f"{HISTORY_URL}columns/", columns=f"action{NUL}", query=f"name={NUL}")

    assert response.status_code < HTTPStatus.INTERNAL_SERVER_ERROR


@pytest.mark.parametrize("field", ["username", "password"])
def test_sign_in_refuses_a_nul(db, field, user_password):
    user = User.objects.create_user(email="ann@example.com", password=user_password, full_name="Ann")
    fields = {"username": quote(user.email), "password": quote(user_password)}
    fields[field] += NUL

    response = post(Client(), "/accounts/login/", **fields)

    assert response.status_code == HTTPStatus.OK
    assert "_auth_user_id" not in Client().session


@pytest.mark.parametrize("field", ["email", "full_name"])
def test_members_add_refuses_a_nul(team, admin_user, field):
    fields = {"email": "new%40example.com", "full_name": "New"}
    fields[field] += NUL
    members = Membership.objects.filter(team=team).count()

    response = post(client_for(admin_user), "/team/users/add/", **fields)

    assert response.status_code < HTTPStatus.INTERNAL_SERVER_ERROR
    assert Membership.objects.filter(team=team).count() == members


@pytest.mark.parametrize("field", ["role", "api_keys_permission"])
def test_member_change_refuses_a_nul(team, admin_user, member, field):
    target = Membership.objects.get(team=team, user=member)
    fields = {"role": "member", "api_keys_permission": "view"}
    fields[field] += NUL

    response = post(client_for(admin_user), f"/team/users/{target.pk}/", **fields)

    assert response.status_code < HTTPStatus.INTERNAL_SERVER_ERROR
    target.refresh_from_db()
    assert target.api_keys_permission == "none"


@pytest.mark.parametrize("url", ["/accounts/sudo/", "/team/switch/", "/accounts/signup/"])
@pytest.mark.parametrize("field", ["sudo_password", "next", "team", "token", "password1"])
def test_account_forms_refuse_a_nul(manager, url, field):
    response = post(client_for(manager), url, **{field: f"x{NUL}"})

    assert response.status_code < HTTPStatus.INTERNAL_SERVER_ERROR


def test_a_signup_link_with_a_nul_is_unknown(db):
    response = Client().get(f"/accounts/signup/abc{NUL}def/")

    assert response.status_code < HTTPStatus.INTERNAL_SERVER_ERROR


@pytest.mark.parametrize(
    ("url", "field"),
    [
        ("/team/api-credentials/service-accounts/create/", "display_name"),
        ("/team/api-credentials/clients/generate/", "display_name"),
        ("/team/api-credentials/api-keys/generate/", "platform_name"),
    ],
)
def test_credential_names_refuse_a_nul(team, manager_client, url, field):
    team.oauth_enabled = True
    team.save()
    before = ServiceAccount.objects.count()

    response = post(manager_client, url, **{field: f"Shop{NUL}"})

    assert response.status_code < HTTPStatus.INTERNAL_SERVER_ERROR
    assert ServiceAccount.objects.count() == before
