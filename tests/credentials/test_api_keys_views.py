from __future__ import annotations

from http import HTTPStatus

import pytest

from credentials import secrets as credential_secrets
from credentials import services
from credentials.models import ApiKey, CredentialHistory, CredentialType
from tests.conftest import HistoryDown, is_fragment, no_store, plain_and_htmx, revealed

pytestmark = pytest.mark.django_db

Action = CredentialHistory.Action
INDEX = "/team/api-credentials/"
LIST = "/team/api-credentials/api-keys/"
GENERATE = "/team/api-credentials/api-keys/generate/"


def deactivate_url(key: ApiKey) -> str:
    return f"{LIST}{key.pk}/deactivate/"


def make_key(user, team, platform_name: str = "Order server") -> ApiKey:
    key, _plaintext = services.api_key_create(actor=user, team=team, platform_name=platform_name)
    return key


def shown_key(response) -> str:
    return response.content.decode().split('id="new-api-key">')[1].split("<")[0]


# --- Section and list -------------------------------------------------------------


def test_section_lists_keys_masked_with_generate_form(manager_client, manager, team):
    key = make_key(manager, team, "Order server")

    body = manager_client.get(INDEX).content.decode()

    assert "API keys" in body
    assert "Legacy Basic auth" in body
    assert "Order server" in body
    assert key.masked in body
    assert "by Manny Manager" in body
    assert 'name="platform_name"' in body
    assert 'for="id_api_key_platform_name"' in body
    assert "Generate API key" in body
    assert deactivate_url(key) in body


def test_section_for_auditor_shows_no_controls(auditor_client, manager, team):
    key = make_key(manager, team)
    body = auditor_client.get(INDEX).content.decode()
    assert key.masked in body
    assert 'name="platform_name"' not in body
    assert deactivate_url(key) not in body


def test_section_at_the_limit_explains_instead_of_the_form(manager_client, manager, team):
    make_key(manager, team, "One")
    make_key(manager, team, "Two")
    body = manager_client.get(INDEX).content.decode()
    assert 'name="platform_name"' not in body
    assert "2 active API keys, the most allowed" in body


def test_list_shows_active_and_deactivated(manager_client, manager, team):
    live = make_key(manager, team, "Live")
    gone = make_key(manager, team, "Gone")
    services.api_key_deactivate(actor=manager, team=team, key=gone)
    for response in plain_and_htmx(manager_client.get, LIST):
        body = response.content.decode()
        assert live.masked in body
        assert gone.masked in body
        assert "Deactivated API keys" in body


def test_list_empty_state_explains(manager_client):
    body = manager_client.get(LIST).content.decode()
    assert "No active API keys" in body
    assert "No deactivated API keys" in body


# --- Generate ---------------------------------------------------------------------


def test_generate_page_offers_the_form(manager_client):
    for response in plain_and_htmx(manager_client.get, GENERATE):
        assert 'name="platform_name"' in response.content.decode()


@pytest.mark.parametrize("htmx", [False, True])
def test_generate_shows_the_key_once_then_only_masked(manager_client, manager, team, htmx_headers, htmx):
    posted = manager_client.post(
        GENERATE, {"platform_name": "Order server"}, headers=htmx_headers if htmx else {}
    )
    # The POST sends the browser to the one-time page: htmx is told to load it whole.
    assert posted.status_code == (HTTPStatus.OK if htmx else HTTPStatus.SEE_OTHER)
    assert bool(posted.get("HX-Redirect")) is htmx
    response = revealed(manager_client, posted)

    assert response.status_code == HTTPStatus.OK
    assert no_store(response)
    assert not is_fragment(response)
    plaintext = shown_key(response)
    assert plaintext not in posted.content.decode() + repr(posted.items())
    key = ApiKey.objects.get(team=team)
    assert key.digest == credential_secrets.digest(plaintext)
    assert key.platform_name == "Order server"
    body = response.content.decode()
    assert 'aria-label="Copy API key"' in body
    assert "only time it is shown" in body
    row = CredentialHistory.objects.get(team=team)
    assert (row.action, row.credential_type, row.credential_name, row.credential_identifier) == (
        Action.CREATED,
        CredentialType.API_KEY,
        "Order server",
        key.prefix,
    )

    for url in (
        INDEX,
        LIST,
        deactivate_url(key),
        "/team/api-credentials/history/",
        response.request["PATH_INFO"],
    ):
        page = manager_client.get(url).content.decode()
        assert plaintext not in page
    assert key.masked in manager_client.get(INDEX).content.decode()
    assert plaintext not in str(dict(manager_client.session.items()))
    assert plaintext not in str(manager_client.cookies)
    assert plaintext not in str(list(CredentialHistory.objects.values()))


@pytest.mark.parametrize("name", ["", "   ", "x" * 101])
def test_generate_needs_a_platform_name(manager_client, name):
    for response in plain_and_htmx(
        manager_client.post, GENERATE, {"platform_name": name}, status=HTTPStatus.UNPROCESSABLE_ENTITY
    ):
        body = response.content.decode()
        assert "Platform name" in body
        assert 'role="alert"' in body
        assert "tng_sbx_ak_" not in body
    assert not ApiKey.objects.exists()
    assert not CredentialHistory.objects.exists()


def test_third_key_refused_with_why_and_what_to_do(manager_client, manager, team):
    make_key(manager, team, "One")
    make_key(manager, team, "Two")
    for response in plain_and_htmx(
        manager_client.post, GENERATE, {"platform_name": "Three"}, status=HTTPStatus.CONFLICT
    ):
        body = response.content.decode()
        assert "two active API keys, the most allowed" in body
        assert "Deactivate one you no longer use" in body
        assert "tng_sbx_ak_" not in body
    assert ApiKey.objects.count() == 2


def test_generate_changes_nothing_when_history_fails(manager_client, history_down):
    history_down()
    with pytest.raises(HistoryDown):
        manager_client.post(GENERATE, {"platform_name": "One"})
    assert not ApiKey.objects.exists()


# --- Deactivate -------------------------------------------------------------------


def test_deactivate_get_asks_for_confirmation(manager_client, manager, team):
    key = make_key(manager, team)
    for response in plain_and_htmx(manager_client.get, deactivate_url(key)):
        body = response.content.decode()
        assert "Once you deactivate your key, you cannot undo it" in body
        assert key.masked in body
        assert 'name="confirm"' in body
    assert ApiKey.objects.get(pk=key.pk).is_active


def test_deactivate_without_confirmation_changes_nothing(manager_client, manager, team):
    key = make_key(manager, team)
    for response in plain_and_htmx(
        manager_client.post, deactivate_url(key), {}, status=HTTPStatus.UNPROCESSABLE_ENTITY
    ):
        assert "Tick the box to confirm" in response.content.decode()
    assert ApiKey.objects.get(pk=key.pk).is_active
    assert CredentialHistory.objects.filter(action=Action.DEACTIVATED).count() == 0


def test_deactivate_plain_post(manager_client, manager, team):
    key = make_key(manager, team, "Order server")

    response = manager_client.post(deactivate_url(key), {"confirm": "on"})

    assert response.status_code == HTTPStatus.FOUND
    assert response["Location"] == LIST
    assert not ApiKey.objects.get(pk=key.pk).is_active
    row = CredentialHistory.objects.get(action=Action.DEACTIVATED)
    assert row.credential_type == CredentialType.API_KEY
    assert row.credential_name == "Order server"
    assert row.credential_identifier == key.prefix
    assert "Deactivated the API key" in manager_client.get(LIST).content.decode()


def test_deactivate_htmx_post_redirects_the_client(manager_client, manager, team, htmx_headers):
    key = make_key(manager, team)
    response = manager_client.post(deactivate_url(key), {"confirm": "on"}, headers=htmx_headers)
    assert response.status_code == HTTPStatus.OK
    assert response["HX-Redirect"] == LIST
    assert not ApiKey.objects.get(pk=key.pk).is_active


def test_deactivate_already_deactivated_answers_clearly(manager_client, manager, team):
    key = make_key(manager, team)
    services.api_key_deactivate(actor=manager, team=team, key=key)
    count = CredentialHistory.objects.count()
    get = manager_client.get(deactivate_url(key))
    assert "already deactivated" in get.content.decode()
    assert 'name="confirm"' not in get.content.decode()
    for response in plain_and_htmx(
        manager_client.post, deactivate_url(key), {"confirm": "on"}, status=HTTPStatus.CONFLICT
    ):
        assert "already deactivated" in response.content.decode()
    assert CredentialHistory.objects.count() == count


def test_deactivate_changes_nothing_when_history_fails(manager_client, manager, team, history_down):
    key = make_key(manager, team)
    history_down()
    with pytest.raises(HistoryDown):
        manager_client.post(deactivate_url(key), {"confirm": "on"})
    assert ApiKey.objects.get(pk=key.pk).is_active


# --- Permissions ------------------------------------------------------------------


def test_auditor_may_look_but_every_write_is_refused(auditor_client, manager, team, htmx_headers):
    key = make_key(manager, team)
    for headers in ({}, htmx_headers):
        assert auditor_client.get(LIST, headers=headers).status_code == HTTPStatus.OK
        for response in (
            auditor_client.get(GENERATE, headers=headers),
            auditor_client.post(GENERATE, {"platform_name": "Mine"}, headers=headers),
            auditor_client.get(deactivate_url(key), headers=headers),
            auditor_client.post(deactivate_url(key), {"confirm": "on"}, headers=headers),
        ):
            assert response.status_code == HTTPStatus.FORBIDDEN
            assert "Tango API keys: Manage" in response.content.decode()
    assert ApiKey.objects.count() == 1
    assert ApiKey.objects.get(pk=key.pk).is_active


def test_member_without_permission_gets_403_everywhere(
    member_client, manager, team, admin_user, htmx_headers
):
    key = make_key(manager, team)
    for headers in ({}, htmx_headers):
        for response in (
            member_client.get(LIST, headers=headers),
            member_client.get(GENERATE, headers=headers),
            member_client.post(GENERATE, {"platform_name": "Mine"}, headers=headers),
            member_client.get(deactivate_url(key), headers=headers),
            member_client.post(deactivate_url(key), {"confirm": "on"}, headers=headers),
        ):
            assert response.status_code == HTTPStatus.FORBIDDEN
            assert admin_user.email in response.content.decode()
    assert ApiKey.objects.get(pk=key.pk).is_active


def test_another_teams_key_is_404_at_every_url(outsider_client, manager, team, htmx_headers):
    key = make_key(manager, team)
    for headers in ({}, htmx_headers):
        assert outsider_client.get(deactivate_url(key), headers=headers).status_code == HTTPStatus.NOT_FOUND
        response = outsider_client.post(deactivate_url(key), {"confirm": "on"}, headers=headers)
        assert response.status_code == HTTPStatus.NOT_FOUND
    assert key.masked not in outsider_client.get(LIST).content.decode()
    assert ApiKey.objects.get(pk=key.pk).is_active
