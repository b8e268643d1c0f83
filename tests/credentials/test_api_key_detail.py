"""An API key's own page: the key masked, who made it, its status and its use."""

from __future__ import annotations

from http import HTTPStatus

import pytest

from credentials import services
from credentials.models import ApiKey
from tests.conftest import plain_and_htmx, revealed
from tests.oauth.conftest import basic

pytestmark = pytest.mark.django_db

BASE = "/team/api-credentials"
LIST = f"{BASE}/api-keys/"


def detail_url(key: ApiKey) -> str:
    return f"{LIST}{key.pk}/"


def make_key(user, team, platform_name: str = "Order server") -> tuple[ApiKey, str]:
    return services.api_key_create(actor=user, team=team, platform_name=platform_name)


def text(response) -> str:
    return response.content.decode()


def test_the_page_shows_the_key_masked_with_who_made_it_and_its_use(manager_client, manager, team):
    key, plaintext = make_key(manager, team)

    full, partial = plain_and_htmx(manager_client.get, detail_url(key))

    body = text(full)
    assert "<h1>API key" in body
    assert "Order server" in body
    assert f"<code>{key.masked}</code>" in body
    assert plaintext not in body
    assert "by Manny Manager" in body
    assert f'<time datetime="{key.created_at.isoformat()}">' in body
    assert '<span class="badge badge--ok">Active</span>' in body
    assert "Never used" in body
    assert "Requests per day, last 90 days" in body
    assert "No requests in the last 90 days." in body
    assert "No addresses seen yet." in body
    assert f'href="{LIST}{key.pk}/deactivate/"' in body
    # Its history: the "created" row.
    assert "<td>Created</td>" in body
    # htmx refreshes the details only.
    assert 'id="api-key-details"' in text(partial)
    assert "Never used" in text(partial)
    assert "Recent history" not in text(partial)


def test_a_real_api_call_shows_as_its_last_use(client, manager_client, manager, team):
    key, plaintext = make_key(manager, team)
    response = client.get(
        "/api/v2/whoami", HTTP_AUTHORIZATION=basic(team.slug, plaintext), REMOTE_ADDR="203.0.113.9"
    )
    assert response.status_code == HTTPStatus.OK

    body = text(manager_client.get(detail_url(key)))

    assert "Never used" not in body
    assert 'less than a minute ago (<time datetime="' in body
    assert 'from <span class="mono">203.0.113.9</span>' in body
    assert "1 request in the last 90 days, most on" in body


def test_every_list_links_each_key_to_its_page(manager_client, manager, team):
    live, _ = make_key(manager, team, "Live shop")
    gone, _ = make_key(manager, team, "Old shop")
    services.api_key_deactivate(actor=manager, team=team, key=gone)

    index = text(manager_client.get(f"{BASE}/"))
    assert f'<a href="{detail_url(live)}">Live shop</a>' in index
    for response in plain_and_htmx(manager_client.get, LIST):
        body = text(response)
        assert f'<a href="{detail_url(live)}">Live shop</a>' in body
        assert f'<a href="{detail_url(gone)}">Old shop</a>' in body


def test_a_deactivated_key_is_shown_for_the_record(manager_client, manager, team):
    key, _ = make_key(manager, team)
    services.api_key_deactivate(actor=manager, team=team, key=key)

    body = text(manager_client.get(detail_url(key)))

    assert "Deactivated on" in body
    assert '<span class="badge badge--danger">Deactivated</span>' in body
    assert f'href="{LIST}{key.pk}/deactivate/"' not in body


def test_the_shown_once_page_links_to_the_keys_page(manager_client, team):
    posted = manager_client.post(f"{LIST}generate/", {"platform_name": "Order server"})
    first = revealed(manager_client, posted)
    again = manager_client.get(first.request["PATH_INFO"])
    key = ApiKey.objects.get(team=team)
    assert again.status_code == HTTPStatus.GONE
    assert f'href="{detail_url(key)}"' in text(again)


def test_view_access_is_enough_and_shows_no_controls(auditor_client, manager, team):
    key, _ = make_key(manager, team)
    response = auditor_client.get(detail_url(key))
    assert response.status_code == HTTPStatus.OK
    assert f"<code>{key.masked}</code>" in text(response)
    assert f'href="{LIST}{key.pk}/deactivate/"' not in text(response)


def test_without_permission_it_is_refused(member_client, manager, team, admin_user, htmx_headers):
    key, _ = make_key(manager, team)
    for headers in ({}, htmx_headers):
        response = member_client.get(detail_url(key), headers=headers)
        assert response.status_code == HTTPStatus.FORBIDDEN
        assert admin_user.email in text(response)
        assert key.masked not in text(response)


def test_another_teams_key_is_404(outsider_client, manager, team, htmx_headers):
    key, _ = make_key(manager, team)
    assert outsider_client.get(detail_url(key)).status_code == HTTPStatus.NOT_FOUND
    htmx = outsider_client.get(detail_url(key), headers=htmx_headers)
    assert htmx.status_code == HTTPStatus.NOT_FOUND
    assert key.masked not in text(htmx)
    assert outsider_client.post(detail_url(key)).status_code == HTTPStatus.METHOD_NOT_ALLOWED
    assert outsider_client.get(f"{LIST}999999/").status_code == HTTPStatus.NOT_FOUND
    assert ApiKey.objects.get(pk=key.pk).is_active


def test_markup_in_the_platform_name_is_text(manager_client, manager, team):
    key, _ = make_key(manager, team, '<img src=x onerror="alert(1)">')
    body = text(manager_client.get(detail_url(key)))
    assert '<img src=x onerror="alert(1)">' not in body
    assert "&lt;img src=x onerror=&quot;alert(1)&quot;&gt;" in body
