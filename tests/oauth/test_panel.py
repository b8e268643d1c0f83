"""The *Get a token* panel on the API credentials page."""

import re
from http import HTTPStatus

import pytest

from credentials import services
from tests.oauth.conftest import make_credentials

pytestmark = pytest.mark.django_db

PAGE = "/team/api-credentials/"


def panel(response) -> str:
    assert response.status_code == HTTPStatus.OK
    page = response.content.decode()
    match = re.search(r'<section class="section get-token" id="get-token".*?</section>', page, re.S)
    assert match, "the Get a token panel is missing"
    return match.group(0)


def test_panel_shows_ready_snippets_without_any_secret(manager_client, manager, team, htmx_headers):
    creds = make_credentials(manager, team)

    for headers in ({}, htmx_headers):
        text = panel(manager_client.get(PAGE, headers=headers))

        assert "Get a token" in text
        assert creds.client_id in text
        assert creds.username in text
        assert "$CLIENT_SECRET" in text
        assert "$SERVICE_ACCOUNT_PASSWORD" in text
        assert 'os.environ["CLIENT_SECRET"]' in text
        assert "LegacyApplicationClient" in text
        assert "grant_type=password" in text
        assert "audience=https://api.tangocard.com/" in text
        assert "http://testserver/oauth/token" in text
        assert creds.client_secret not in text
        assert creds.password not in text


def test_view_users_see_the_panel_too(auditor_client, manager, team):
    creds = make_credentials(manager, team)

    text = panel(auditor_client.get(PAGE))

    assert creds.username in text
    assert creds.client_id in text


def test_members_without_permission_do_not_get_the_page(member_client, manager, team):
    make_credentials(manager, team)

    response = member_client.get(PAGE)

    assert response.status_code == HTTPStatus.FORBIDDEN
    assert "get-token" not in response.content.decode()


def test_choosing_a_service_account(manager_client, manager, team, htmx_headers):
    creds = make_credentials(manager, team)
    second, _password = services.service_account_create(actor=manager, team=team, display_name="Billing")

    for headers in ({}, htmx_headers):
        text = panel(manager_client.get(PAGE, {"token_sa": creds.account.pk}, headers=headers))
        assert f"username={creds.username}" in text
        assert f"username={second.username}" not in text
        assert f'<option value="{creds.account.pk}" selected>' in text

        text = panel(manager_client.get(PAGE, {"token_sa": second.pk}, headers=headers))
        assert f"username={second.username}" in text
        assert f"username={creds.username}" not in text


def test_choice_is_scoped_to_the_team(manager_client, manager, team, other_creds):
    creds = make_credentials(manager, team)

    text = panel(manager_client.get(PAGE, {"token_sa": other_creds.account.pk}))

    assert other_creds.username not in text
    # An unknown or foreign choice falls back to the team's own (newest) account.
    assert f"username={creds.username}" in text


def test_garbage_choice_falls_back(manager_client, manager, team):
    creds = make_credentials(manager, team)

    text = panel(manager_client.get(PAGE, {"token_sa": "'; DROP TABLE"}))

    assert f"username={creds.username}" in text


def test_deleted_service_accounts_are_not_offered(manager_client, manager, team):
    creds = make_credentials(manager, team)
    services.service_account_delete(actor=manager, team=team, account=creds.account)

    text = panel(manager_client.get(PAGE))

    assert creds.username not in text
    assert "first create a service account" in text


def test_newest_active_client_is_used(manager_client, manager, team):
    creds = make_credentials(manager, team)
    newer, _secret = services.oauth_client_create(actor=manager, team=team)

    text = panel(manager_client.get(PAGE))

    assert f"client_id={newer.client_id}" in text
    assert f"client_id={creds.client_id}" not in text
    assert "newer of your two" in text


def test_nothing_created_yet_says_what_to_create_first(manager_client):
    text = panel(manager_client.get(PAGE))

    assert "first create client credentials and a service account" in text
    assert "curl" not in text


def test_only_client_missing(manager_client, manager, team):
    services.service_account_create(actor=manager, team=team)

    text = panel(manager_client.get(PAGE))

    assert "first create client credentials in the sections above" in text


def test_view_user_is_told_who_can_create(auditor_client):
    text = panel(auditor_client.get(PAGE))

    assert "Tango API keys: Manage" in text


def test_oauth_off_says_the_representative_enables_it(manager_client, team):
    team.oauth_enabled = False
    team.save()

    text = panel(manager_client.get(PAGE))

    assert "OAuth is not enabled" in text
    assert "Tango representative" in text
    assert "curl" not in text


def test_panel_form_works_without_javascript(manager_client, manager, team):
    make_credentials(manager, team)

    text = panel(manager_client.get(PAGE))

    assert '<form class="get-token__choose" method="get" action="/team/api-credentials/#get-token"' in text
    assert '<label for="token-sa">' in text
    assert 'type="submit"' in text
    assert 'hx-get="/team/api-credentials/"' in text
    assert "style=" not in text
    assert "<script" not in text
