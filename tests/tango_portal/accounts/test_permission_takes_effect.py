"""A permission change made on Team settings > Users applies to the member's very next request,
on every API-credentials view, without signing out; so does removal.
"""

from __future__ import annotations

from http import HTTPStatus

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from credentials import services as credential_services
from credentials.models import ApiKey, OAuthClient, ServiceAccount
from tango_portal.models import Membership
from tests.conftest import client_for

pytestmark = pytest.mark.django_db

Perm = Membership.ApiKeysPermission
DENIED = (HTTPStatus.FORBIDDEN, HTTPStatus.METHOD_NOT_ALLOWED)

# Pages that need Tango API keys: View (URL name, kind of object in the URL or None).
VIEW_PAGES = [
    ("credentials:index", None),
    ("credentials:service_accounts:list", None),
    ("credentials:service_accounts:detail", "service_accounts"),
    ("credentials:clients:list", None),
    ("credentials:clients:detail", "clients"),
    ("credentials:api_keys:list", None),
    ("credentials:history:list", None),
]
# Actions that need Tango API keys: Manage.
MANAGE_ACTIONS = [
    ("credentials:service_accounts:create", None),
    ("credentials:service_accounts:rename", "service_accounts"),
    ("credentials:service_accounts:delete", "service_accounts"),
    ("credentials:clients:generate", None),
    ("credentials:clients:rename", "clients"),
    ("credentials:clients:deactivate", "clients"),
    ("credentials:api_keys:generate", None),
    ("credentials:api_keys:deactivate", "api_keys"),
]


@pytest.fixture
def objects(team, admin_user) -> dict[str, int]:
    account, _ = credential_services.service_account_create(
        actor=admin_user, team=team, display_name="Order server"
    )
    client, _ = credential_services.oauth_client_create(actor=admin_user, team=team, display_name="Main")
    key, _ = credential_services.api_key_create(actor=admin_user, team=team, platform_name="Shop")
    return {"service_accounts": account.pk, "clients": client.pk, "api_keys": key.pk}


# A one-time reveal page's token: a well-formed one that names nothing.
TOKEN = "t" * 22


def url_for(name: str, kind: str | None, objects: dict[str, int], token: bool = False) -> str:
    if not kind:
        return reverse(name)
    return reverse(name, kwargs={"pk": objects[kind], **({"token": TOKEN} if token else {})})


def every_credentials_url(objects: dict[str, int]) -> list[str]:
    """Every URL under /team/api-credentials/, with a real object's pk where one is needed."""
    urls: list[str] = []

    def walk(patterns, namespace: str) -> None:
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                walk(
                    pattern.url_patterns,
                    f"{namespace}:{pattern.namespace}" if pattern.namespace else namespace,
                )
            elif isinstance(pattern, URLPattern) and pattern.name:
                kind = namespace.split(":")[-1] if "pk" in pattern.pattern.converters else None
                if kind is None and pattern.pattern.converters:
                    continue
                if kind and kind not in objects:
                    continue
                token = "token" in pattern.pattern.converters
                urls.append(url_for(f"{namespace}:{pattern.name}", kind, objects, token=token))

    resolver = get_resolver()
    walk(resolver.namespace_dict["credentials"][1].url_patterns, "credentials")
    return urls


def set_permission(admin_client, membership: Membership, permission: str) -> None:
    """Through the Users page, as an admin would: save, then confirm."""
    url = reverse("members:edit", args=[membership.pk])
    data = {"role": membership.role, "api_keys_permission": permission}
    assert admin_client.post(url, data).status_code == HTTPStatus.OK  # the confirmation
    assert admin_client.post(url, {**data, "confirm": "yes"}).status_code == HTTPStatus.FOUND
    membership.refresh_from_db()
    assert membership.api_keys_permission == permission


def snapshot() -> tuple:
    """Every credential with its name and state, to show that a refused request changed nothing."""
    return (
        list(ServiceAccount.objects.order_by("pk").values_list("pk", "display_name", "deleted_at")),
        list(OAuthClient.objects.order_by("pk").values_list("pk", "display_name", "deactivated_at")),
        list(ApiKey.objects.order_by("pk").values_list("pk", "platform_name", "deactivated_at")),
    )


def assert_no_access(client, objects, htmx_headers) -> None:
    before = snapshot()
    urls = every_credentials_url(objects)
    assert reverse("credentials:index") in urls and len(urls) >= len(VIEW_PAGES)
    for url in urls:
        for headers in ({}, htmx_headers):
            get = client.get(url, headers=headers).status_code
            post = client.post(url, {"display_name": "x", "platform_name": "x"}, headers=headers).status_code
            assert get in DENIED, url
            assert post in DENIED, url
            # 405 alone says nothing about permission: each URL must refuse one method outright.
            assert HTTPStatus.FORBIDDEN in (get, post), (url, get, post)
    assert snapshot() == before


def assert_view_only(client, objects, htmx_headers) -> None:
    before = snapshot()
    for name, kind in VIEW_PAGES:
        url = url_for(name, kind, objects)
        for headers in ({}, htmx_headers):
            assert client.get(url, headers=headers).status_code == HTTPStatus.OK, url
    for name, kind in MANAGE_ACTIONS:
        url = url_for(name, kind, objects)
        assert client.get(url).status_code in DENIED, url
        data = {"display_name": "x", "platform_name": "x", "confirm": "on"}
        assert client.post(url, data).status_code in DENIED, url
        assert client.post(url, data, headers=htmx_headers).status_code in DENIED, url
    assert snapshot() == before


def assert_can_manage(client, objects) -> None:
    for name, kind in VIEW_PAGES:
        assert client.get(url_for(name, kind, objects)).status_code == HTTPStatus.OK, name
    # Some actions are POST-only (405 to a GET); none may refuse a Manage member.
    for name, kind in MANAGE_ACTIONS:
        assert client.get(url_for(name, kind, objects)).status_code in (
            HTTPStatus.OK,
            HTTPStatus.METHOD_NOT_ALLOWED,
        )
    response = client.post(
        reverse("credentials:service_accounts:create"), {"display_name": "By the member"}, follow=True
    )
    assert response.status_code == HTTPStatus.OK
    assert "/reveal/" in response.redirect_chain[-1][0]
    assert ServiceAccount.objects.filter(display_name="By the member").exists()


def test_every_api_credentials_view_follows_the_members_permission_at_once(
    team, admin_user, member, member_client, objects, htmx_headers
):
    admin_client = client_for(admin_user)
    membership = Membership.objects.get(team=team, user=member)

    assert_no_access(member_client, objects, htmx_headers)
    set_permission(admin_client, membership, Perm.VIEW)
    assert_view_only(member_client, objects, htmx_headers)
    set_permission(admin_client, membership, Perm.MANAGE)
    assert_can_manage(member_client, objects)
    set_permission(admin_client, membership, Perm.VIEW)
    assert_view_only(member_client, objects, htmx_headers)
    set_permission(admin_client, membership, Perm.NONE)
    assert_no_access(member_client, objects, htmx_headers)


def test_a_grant_then_a_downgrade_on_the_overview_page(team, admin_user, member, member_client):
    admin_client = client_for(admin_user)
    membership = Membership.objects.get(team=team, user=member)
    assert member_client.get("/team/api-credentials/").status_code == HTTPStatus.FORBIDDEN
    set_permission(admin_client, membership, Perm.VIEW)
    response = member_client.get("/team/api-credentials/")
    assert response.status_code == HTTPStatus.OK
    assert "Credential history" in response.content.decode()
    set_permission(admin_client, membership, Perm.NONE)
    response = member_client.get("/team/api-credentials/")
    assert response.status_code == HTTPStatus.FORBIDDEN
    assert "Your permission is <strong>Don&#x27;t allow</strong>" in response.content.decode()


def test_removal_cuts_every_api_credentials_view_at_once(
    team, admin_user, manager, manager_client, objects, htmx_headers
):
    assert_can_manage(manager_client, objects)
    admin_client = client_for(admin_user)
    membership = Membership.objects.get(team=team, user=manager)
    assert admin_client.post(reverse("members:remove", args=[membership.pk])).status_code == HTTPStatus.FOUND
    assert_no_access(manager_client, objects, htmx_headers)


def test_a_new_admin_can_open_users_on_the_next_request(team, admin_user, member, member_client):
    admin_client = client_for(admin_user)
    membership = Membership.objects.get(team=team, user=member)
    assert member_client.get("/team/users/").status_code == HTTPStatus.FORBIDDEN
    url = reverse("members:edit", args=[membership.pk])
    admin_client.post(url, {"role": "admin", "api_keys_permission": "none", "confirm": "yes"})
    assert member_client.get("/team/users/").status_code == HTTPStatus.OK
    admin_client.post(url, {"role": "member", "api_keys_permission": "none", "confirm": "yes"})
    assert member_client.get("/team/users/").status_code == HTTPStatus.FORBIDDEN
