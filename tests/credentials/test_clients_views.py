from __future__ import annotations

from datetime import timedelta
from http import HTTPStatus

import pytest
from django.utils import timezone

from credentials import secrets as credential_secrets
from credentials import services
from credentials.models import AccessToken, CredentialHistory, CredentialType, OAuthClient
from tango_portal.models import Team
from tests.conftest import HistoryDown, client_for, is_fragment, no_store, plain_and_htmx, revealed
from tests.factories import AccessTokenFactory, TeamFactory, UserFactory

pytestmark = pytest.mark.django_db

Action = CredentialHistory.Action
INDEX = "/team/api-credentials/"
LIST = "/team/api-credentials/clients/"
GENERATE = "/team/api-credentials/clients/generate/"


def detail_url(client: OAuthClient) -> str:
    return f"{LIST}{client.pk}/"


def rename_url(client: OAuthClient) -> str:
    return f"{LIST}{client.pk}/rename/"


def deactivate_url(client: OAuthClient) -> str:
    return f"{LIST}{client.pk}/deactivate/"


def make_client(user, team, **kwargs) -> OAuthClient:
    client, _secret = services.oauth_client_create(actor=user, team=team, **kwargs)
    return client


# --- The section on the API credentials page -----------------------------------


def test_section_lists_active_clients_with_their_columns(manager_client, manager, team):
    client = make_client(manager, team, display_name="Order server")
    gone = make_client(manager, team, display_name="Retired box")
    services.oauth_client_deactivate(actor=manager, team=team, client=gone)

    body = manager_client.get(INDEX).content.decode()

    assert "Client credentials" in body
    assert "Order server" in body
    assert client.client_id in body
    assert 'aria-label="Copy client ID"' in body
    assert "by Manny Manager" in body
    assert "Never" in body  # last used
    for heading in ("Display name", "Client ID", "Created", "Last used", "Age"):
        assert heading in body
    assert "Retired box" not in body
    # A link to the page that names them before the secret exists.
    assert 'href="/team/api-credentials/clients/generate/"' in body
    assert deactivate_url(client) in body


def test_section_for_auditor_shows_no_controls(auditor_client, manager, team):
    client = make_client(manager, team, display_name="Order server")

    body = auditor_client.get(INDEX).content.decode()

    assert client.client_id in body
    assert "Generate client credentials" not in body
    assert GENERATE not in body
    assert deactivate_url(client) not in body


def test_section_explains_oauth_must_be_enabled_and_offers_no_create(manager_client, team):
    team.oauth_enabled = False
    team.save()

    body = manager_client.get(INDEX).content.decode()

    assert "must be enabled for your team by your Tango representative" in body
    assert "Generate client credentials" not in body
    assert GENERATE not in body


def test_section_says_the_limit_is_reached_instead_of_offering_generate(manager_client, manager, team):
    make_client(manager, team)
    make_client(manager, team)

    body = manager_client.get(INDEX).content.decode()

    assert GENERATE not in body
    assert "2 active client credentials, the most allowed" in body
    assert "deactivate the older ones" in body


def test_legacy_client_has_badge_and_migration_explanation(manager_client, manager, team):
    make_client(manager, team, display_name="Old server", created_at=timezone.now() - timedelta(days=700))

    body = manager_client.get(INDEX).content.decode()

    assert ">Legacy</span>" in body
    assert "new client credentials require a service account (password grant)" in body
    assert "May 14, 2025" in body
    assert "November 14, 2025, has passed" in body


def test_no_legacy_explanation_without_legacy_clients(manager_client, manager, team):
    make_client(manager, team)
    body = manager_client.get(INDEX).content.decode()
    assert ">Legacy</span>" not in body
    assert "legacy-notice" not in body


def test_rotate_badge_only_on_clients_older_than_a_year(manager_client, manager, team):
    make_client(manager, team, display_name="Fresh")
    body = manager_client.get(INDEX).content.decode()
    assert ">Rotate</span>" not in body

    make_client(manager, team, display_name="Old", created_at=timezone.now() - timedelta(days=400))
    body = manager_client.get(INDEX).content.decode()
    assert ">Rotate</span>" in body
    assert "never expire" in body


# --- The list page ----------------------------------------------------------------


def test_list_shows_active_and_deactivated(manager_client, manager, team):
    active = make_client(manager, team, display_name="Live one")
    gone = make_client(manager, team, display_name="Retired box")
    services.oauth_client_deactivate(actor=manager, team=team, client=gone)

    for response in plain_and_htmx(manager_client.get, LIST):
        body = response.content.decode()
        assert active.client_id in body
        assert gone.client_id in body
        assert "Deactivated client credentials" in body


def test_list_empty_state_explains(manager_client):
    body = manager_client.get(LIST).content.decode()
    assert "No active client credentials" in body
    assert "No deactivated client credentials" in body


# --- Generate ---------------------------------------------------------------------


def test_generate_page_explains_and_offers_the_form(manager_client):
    for response in plain_and_htmx(manager_client.get, GENERATE):
        body = response.content.decode()
        assert "shown once" in body
        assert 'name="display_name"' in body
    assert not OAuthClient.objects.exists()


@pytest.mark.parametrize("htmx", [False, True])
def test_generate_shows_id_and_secret_once(manager_client, manager, team, htmx_headers, htmx):
    posted = manager_client.post(GENERATE, headers=htmx_headers if htmx else {})
    assert posted.status_code == (HTTPStatus.OK if htmx else HTTPStatus.SEE_OTHER)
    response = revealed(manager_client, posted)

    assert response.status_code == HTTPStatus.OK
    assert no_store(response)
    assert not is_fragment(response)
    client = OAuthClient.objects.get(team=team)
    body = response.content.decode()
    secret = body.split('id="new-client-secret">')[1].split("<")[0]
    assert secret.startswith("tng_sbx_cs_")
    assert client.secret_digest == credential_secrets.digest(secret)
    assert client.client_id in body
    assert 'aria-label="Copy client secret"' in body
    assert 'aria-label="Copy client ID"' in body
    assert "only time it is shown" in body
    assert client.created_by == manager
    row = CredentialHistory.objects.get(team=team)
    assert (row.action, row.credential_type, row.credential_identifier) == (
        Action.CREATED,
        CredentialType.OAUTH_CLIENT,
        client.client_id,
    )


def test_generate_with_a_display_name(manager_client, team):
    response = manager_client.post(GENERATE, {"display_name": "Order server"})
    assert response.status_code == HTTPStatus.SEE_OTHER
    assert OAuthClient.objects.get(team=team).display_name == "Order server"


def test_generate_with_a_bad_display_name_changes_nothing(manager_client):
    for response in plain_and_htmx(
        manager_client.post, GENERATE, {"display_name": "x" * 101}, status=HTTPStatus.UNPROCESSABLE_ENTITY
    ):
        assert "at most 100 characters" in response.content.decode()
        assert not no_store(response)
    assert not OAuthClient.objects.exists()
    assert not CredentialHistory.objects.exists()


def test_the_secret_never_appears_again(manager_client, manager, team):
    posted = manager_client.post(GENERATE)
    response = revealed(manager_client, posted)
    body = response.content.decode()
    secret = body.split('id="new-client-secret">')[1].split("<")[0]
    client = OAuthClient.objects.get(team=team)

    manager_client.post(rename_url(client), {"display_name": "Named"}, follow=True)
    pages = [
        manager_client.get(posted["Location"]),
        manager_client.get(INDEX),
        manager_client.get(LIST),
        manager_client.get(detail_url(client)),
        manager_client.get(GENERATE),
        manager_client.get(deactivate_url(client)),
        manager_client.get("/team/api-credentials/history/"),
    ]
    for page in pages:
        assert secret not in page.content.decode()
    assert secret not in str(dict(manager_client.session.items()))
    assert secret not in str(manager_client.cookies)
    assert secret not in str(list(CredentialHistory.objects.values()))
    assert secret not in str(list(OAuthClient.objects.values()))


def test_generate_refused_until_oauth_enabled(manager_client, team):
    team.oauth_enabled = False
    team.save()

    get = manager_client.get(GENERATE)
    assert "must be enabled for your team by your Tango representative" in get.content.decode()
    assert 'name="display_name"' not in get.content.decode()
    for response in plain_and_htmx(manager_client.post, GENERATE, status=HTTPStatus.CONFLICT):
        body = response.content.decode()
        assert "must be enabled for your team by your Tango representative" in body
        assert 'role="alert"' in body
        assert "tng_sbx_cs_" not in body
    assert not OAuthClient.objects.exists()
    assert not CredentialHistory.objects.exists()


def test_third_client_refused_with_why_and_what_to_do(manager_client, manager, team):
    make_client(manager, team)
    make_client(manager, team)

    for response in plain_and_htmx(manager_client.post, GENERATE, status=HTTPStatus.CONFLICT):
        body = response.content.decode()
        assert "two active client credentials, the most allowed" in body
        assert "deactivate the older one" in body
        assert "tng_sbx_cs_" not in body
    assert OAuthClient.objects.filter(team=team).count() == 2
    assert CredentialHistory.objects.count() == 2


def test_generate_changes_nothing_when_history_fails(manager_client, team, history_down):
    history_down()
    with pytest.raises(HistoryDown):
        manager_client.post(GENERATE)
    assert not OAuthClient.objects.exists()


# --- Detail and rename ------------------------------------------------------------


def test_detail_records_viewed_but_htmx_refresh_does_not(
    auditor_client, auditor, manager, team, htmx_headers
):
    client = make_client(manager, team, display_name="Order server")

    response = auditor_client.get(detail_url(client))
    assert response.status_code == HTTPStatus.OK
    body = response.content.decode()
    assert client.client_id in body
    assert "Order server" in body
    assert "Recent history" in body
    viewed = CredentialHistory.objects.filter(action=Action.VIEWED)
    assert viewed.count() == 1
    row = viewed.get()
    assert row.credential_type == CredentialType.OAUTH_CLIENT
    assert row.credential_name == "Order server"
    assert row.credential_identifier == client.client_id
    assert row.actor_email == auditor.email

    refresh = auditor_client.get(detail_url(client), headers=htmx_headers)
    assert refresh.status_code == HTTPStatus.OK
    assert is_fragment(refresh)
    assert 'id="client-details"' in refresh.content.decode()
    assert client.client_id in refresh.content.decode()
    assert viewed.count() == 1


def test_detail_for_auditor_has_no_controls(auditor_client, manager, team):
    client = make_client(manager, team, display_name="Order server")
    body = auditor_client.get(detail_url(client)).content.decode()
    assert rename_url(client) not in body
    assert deactivate_url(client) not in body
    assert "Order server" in body


def test_detail_of_deactivated_client_is_kept_for_the_record(manager_client, manager, team):
    client = make_client(manager, team)
    services.oauth_client_deactivate(actor=manager, team=team, client=client)
    body = manager_client.get(detail_url(client)).content.decode()
    assert "Deactivated on" in body
    assert rename_url(client) not in body
    assert f'href="{deactivate_url(client)}"' not in body


def test_detail_shows_rotate_and_legacy(manager_client, manager, team):
    client = make_client(manager, team, created_at=timezone.now() - timedelta(days=800))
    body = manager_client.get(detail_url(client)).content.decode()
    assert ">Rotate</span>" in body
    assert ">Legacy</span>" in body
    assert "has passed" in body


def test_rename_plain_post_redirects_with_message(manager_client, manager, team):
    client = make_client(manager, team, display_name="Old")

    response = manager_client.post(rename_url(client), {"display_name": "New name"})

    assert response.status_code == HTTPStatus.FOUND
    assert response["Location"] == LIST
    assert OAuthClient.objects.get(pk=client.pk).display_name == "New name"
    row = CredentialHistory.objects.get(action=Action.UPDATED)
    assert row.credential_type == CredentialType.OAUTH_CLIENT
    assert row.credential_name == "New name"
    assert row.credential_identifier == client.client_id
    page = manager_client.get(response["Location"]).content.decode()
    assert "Saved the display name" in page
    assert "New name" in page


def test_rename_htmx_returns_the_name_form(manager_client, manager, team, htmx_headers):
    client = make_client(manager, team, display_name="Old")

    response = manager_client.post(rename_url(client), {"display_name": "New name"}, headers=htmx_headers)

    assert response.status_code == HTTPStatus.OK
    assert is_fragment(response)
    body = response.content.decode()
    assert 'id="client-name-form"' in body
    assert 'value="New name"' in body
    assert "Saved." in body
    assert OAuthClient.objects.get(pk=client.pk).display_name == "New name"
    assert CredentialHistory.objects.filter(action=Action.UPDATED).count() == 1
    # Only the full detail page records views.
    assert CredentialHistory.objects.filter(action=Action.VIEWED).count() == 0


def test_rename_with_a_bad_name_changes_nothing(manager_client, manager, team):
    client = make_client(manager, team, display_name="Old")
    for response in plain_and_htmx(
        manager_client.post,
        rename_url(client),
        {"display_name": "bad\u0007"},
        status=HTTPStatus.UNPROCESSABLE_ENTITY,
    ):
        body = response.content.decode()
        assert "contains a control character" in body
        assert 'role="alert"' in body
    assert OAuthClient.objects.get(pk=client.pk).display_name == "Old"
    assert CredentialHistory.objects.filter(action=Action.UPDATED).count() == 0


def test_rename_of_deactivated_client_is_refused(manager_client, manager, team):
    client = make_client(manager, team, display_name="Old")
    services.oauth_client_deactivate(actor=manager, team=team, client=client)
    for response in plain_and_htmx(
        manager_client.post, rename_url(client), {"display_name": "New"}, status=HTTPStatus.CONFLICT
    ):
        assert "deactivated" in response.content.decode()
    assert OAuthClient.objects.get(pk=client.pk).display_name == "Old"


def test_rename_needs_post(manager_client, manager, team):
    client = make_client(manager, team, display_name="Old")
    assert manager_client.get(rename_url(client)).status_code == HTTPStatus.METHOD_NOT_ALLOWED


# --- Deactivate -------------------------------------------------------------------


def test_deactivate_get_asks_for_confirmation_and_changes_nothing(manager_client, manager, team):
    client = make_client(manager, team)
    AccessTokenFactory(client=client)
    for response in plain_and_htmx(manager_client.get, deactivate_url(client)):
        body = response.content.decode()
        assert "This cannot be undone" in body
        assert "every access token issued through them is revoked" in body
        assert "(1 still live)" in body
        assert "only active client credentials" in body
        assert 'name="confirm"' in body
    assert OAuthClient.objects.get(pk=client.pk).is_active
    assert CredentialHistory.objects.filter(action=Action.DEACTIVATED).count() == 0


def test_deactivate_without_confirmation_changes_nothing(manager_client, manager, team):
    client = make_client(manager, team)
    for response in plain_and_htmx(
        manager_client.post, deactivate_url(client), {}, status=HTTPStatus.UNPROCESSABLE_ENTITY
    ):
        assert "Tick the box to confirm" in response.content.decode()
    assert OAuthClient.objects.get(pk=client.pk).is_active


def test_deactivate_plain_post(manager_client, manager, team):
    client = make_client(manager, team, display_name="Order server")
    token = AccessTokenFactory(client=client)

    response = manager_client.post(deactivate_url(client), {"confirm": "on"})

    assert response.status_code == HTTPStatus.FOUND
    assert response["Location"] == LIST
    client.refresh_from_db()
    assert not client.is_active
    assert AccessToken.objects.get(pk=token.pk).revoked_at is not None
    row = CredentialHistory.objects.get(action=Action.DEACTIVATED)
    assert row.credential_type == CredentialType.OAUTH_CLIENT
    assert row.credential_name == "Order server"
    assert row.credential_identifier == client.client_id
    page = manager_client.get(LIST).content.decode()
    assert "Deactivated client credentials" in page
    assert "Every token issued through them was revoked" in page


def test_deactivate_htmx_post_redirects_the_client(manager_client, manager, team, htmx_headers):
    client = make_client(manager, team)

    response = manager_client.post(deactivate_url(client), {"confirm": "on"}, headers=htmx_headers)

    assert response.status_code == HTTPStatus.OK
    assert response["HX-Redirect"] == LIST
    assert not OAuthClient.objects.get(pk=client.pk).is_active


def test_deactivate_already_deactivated_answers_clearly(manager_client, manager, team):
    client = make_client(manager, team)
    services.oauth_client_deactivate(actor=manager, team=team, client=client)
    count = CredentialHistory.objects.count()

    get = manager_client.get(deactivate_url(client))
    assert get.status_code == HTTPStatus.OK
    assert "already deactivated" in get.content.decode()
    assert 'name="confirm"' not in get.content.decode()
    for response in plain_and_htmx(
        manager_client.post, deactivate_url(client), {"confirm": "on"}, status=HTTPStatus.CONFLICT
    ):
        assert "already deactivated" in response.content.decode()
    assert CredentialHistory.objects.count() == count


def test_deactivate_changes_nothing_when_history_fails(manager_client, manager, team, history_down):
    client = make_client(manager, team)
    token = AccessTokenFactory(client=client)
    history_down()
    with pytest.raises(HistoryDown):
        manager_client.post(deactivate_url(client), {"confirm": "on"})
    assert OAuthClient.objects.get(pk=client.pk).is_active
    assert AccessToken.objects.get(pk=token.pk).revoked_at is None


# --- Permissions ------------------------------------------------------------------


def test_auditor_may_look_but_every_write_is_refused(auditor_client, manager, team, htmx_headers):
    client = make_client(manager, team, display_name="Old")
    for headers in ({}, htmx_headers):
        assert auditor_client.get(LIST, headers=headers).status_code == HTTPStatus.OK
        assert auditor_client.get(detail_url(client), headers=headers).status_code == HTTPStatus.OK
        assert auditor_client.get(GENERATE, headers=headers).status_code == HTTPStatus.FORBIDDEN
        assert auditor_client.get(deactivate_url(client), headers=headers).status_code == HTTPStatus.FORBIDDEN
        refused = [
            auditor_client.post(GENERATE, headers=headers),
            auditor_client.post(rename_url(client), {"display_name": "New"}, headers=headers),
            auditor_client.post(deactivate_url(client), {"confirm": "on"}, headers=headers),
        ]
        for response in refused:
            assert response.status_code == HTTPStatus.FORBIDDEN
            assert "Tango API keys: Manage" in response.content.decode()
    assert OAuthClient.objects.count() == 1
    client.refresh_from_db()
    assert client.is_active
    assert client.display_name == "Old"
    assert CredentialHistory.objects.exclude(action=Action.VIEWED).count() == 1


def test_member_without_permission_gets_403_everywhere(
    member_client, manager, team, admin_user, htmx_headers
):
    client = make_client(manager, team)
    for headers in ({}, htmx_headers):
        responses = [
            member_client.get(LIST, headers=headers),
            member_client.get(GENERATE, headers=headers),
            member_client.post(GENERATE, headers=headers),
            member_client.get(detail_url(client), headers=headers),
            member_client.post(rename_url(client), {"display_name": "x"}, headers=headers),
            member_client.get(deactivate_url(client), headers=headers),
            member_client.post(deactivate_url(client), {"confirm": "on"}, headers=headers),
        ]
        for response in responses:
            assert response.status_code == HTTPStatus.FORBIDDEN
            assert admin_user.email in response.content.decode()
    assert OAuthClient.objects.get(pk=client.pk).is_active
    assert CredentialHistory.objects.filter(action=Action.VIEWED).count() == 0


def test_another_teams_client_is_404_at_every_url(outsider_client, manager, team, htmx_headers):
    client = make_client(manager, team, display_name="Old")
    for headers in ({}, htmx_headers):
        responses = [
            outsider_client.get(detail_url(client), headers=headers),
            outsider_client.post(rename_url(client), {"display_name": "Mine"}, headers=headers),
            outsider_client.get(deactivate_url(client), headers=headers),
            outsider_client.post(deactivate_url(client), {"confirm": "on"}, headers=headers),
        ]
        for response in responses:
            assert response.status_code == HTTPStatus.NOT_FOUND
    # Their own list does not show it either.
    assert client.client_id not in outsider_client.get(LIST).content.decode()
    client.refresh_from_db()
    assert client.is_active
    assert client.display_name == "Old"
    assert CredentialHistory.objects.filter(team=team).count() == 1


def test_anonymous_is_sent_to_sign_in(client, manager, team):
    oauth_client = make_client(manager, team)
    for url in (LIST, GENERATE, detail_url(oauth_client), deactivate_url(oauth_client)):
        response = client.get(url)
        assert response.status_code == HTTPStatus.FOUND
        assert response["Location"].startswith("/accounts/login/")


# --- Enablement by platform staff -----------------------------------------------


def test_staff_enable_oauth_in_the_team_admin(manager_client):
    team = TeamFactory(name="Initech", slug="initech", oauth_enabled=False)
    staff = UserFactory(is_staff=True, is_superuser=True)
    admin = client_for(staff)
    url = f"/admin/tango_portal/team/{team.pk}/change/"
    assert admin.get(url).status_code == HTTPStatus.OK
    created = timezone.localtime(team.created_at)
    form = {
        "name": "Initech",
        "slug": "initech",
        "oauth_enabled": "on",
        "created_at_0": created.strftime("%Y-%m-%d"),
        "created_at_1": created.strftime("%H:%M:%S"),
        "memberships-TOTAL_FORMS": "0",
        "memberships-INITIAL_FORMS": "0",
        "memberships-MIN_NUM_FORMS": "0",
        "memberships-MAX_NUM_FORMS": "1000",
    }

    response = admin.post(url, form)

    assert response.status_code == HTTPStatus.FOUND, response.content.decode()[:2000]
    assert Team.objects.get(pk=team.pk).oauth_enabled
    del form["oauth_enabled"]
    admin.post(url, form)
    assert not Team.objects.get(pk=team.pk).oauth_enabled


def test_enabling_oauth_unlocks_generation(manager_client, team):
    team.oauth_enabled = False
    team.save()
    assert manager_client.post(GENERATE).status_code == HTTPStatus.CONFLICT
    team.oauth_enabled = True
    team.save()
    assert manager_client.post(GENERATE).status_code == HTTPStatus.SEE_OTHER
    assert OAuthClient.objects.filter(team=team).count() == 1
