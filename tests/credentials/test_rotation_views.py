"""The Rotate, rotation and Revoke tokens pages."""

from __future__ import annotations

from datetime import timedelta
from http import HTTPStatus

import pytest
from django.utils import timezone

from credentials import services
from credentials.models import CredentialHistory, OAuthClient, Rotation
from tests.conftest import no_store, revealed
from tests.oauth.conftest import make_credentials, request_token

pytestmark = pytest.mark.django_db

BASE = "/team/api-credentials"
Action = CredentialHistory.Action


@pytest.fixture
def old_client(team, manager):
    client, _ = services.oauth_client_create(actor=manager, team=team, display_name="Order server")
    return client


def _text(response) -> str:
    return response.content.decode()


def _start(manager_client, client) -> Rotation:
    posted = manager_client.post(f"{BASE}/clients/{client.pk}/rotate/")
    page = revealed(manager_client, posted)
    assert page.status_code == HTTPStatus.OK and no_store(page)
    return Rotation.objects.get(old_pk=client.pk)


def test_the_rotate_page_explains_then_starts_and_shows_the_new_secret_once(manager_client, old_client):
    intro = manager_client.get(f"{BASE}/clients/{old_client.pk}/rotate/")
    assert intro.status_code == HTTPStatus.OK
    assert "Start rotation" in _text(intro) and "shown <strong>once</strong>" in _text(intro)
    assert not Rotation.objects.exists()

    rotation = _start(manager_client, old_client)

    new = OAuthClient.objects.get(pk=rotation.new_pk)
    assert new.display_name == "Order server" and new.is_active
    again = manager_client.get(f"{BASE}/clients/{old_client.pk}/rotate/")
    assert again["Location"] == f"{BASE}/rotations/{rotation.pk}/"


def test_an_api_key_rotates_too(manager_client, team, manager):
    key, _ = services.api_key_create(actor=manager, team=team, platform_name="Shop")
    posted = manager_client.post(f"{BASE}/api-keys/{key.pk}/rotate/")
    assert "/api-keys/" in posted["Location"] and "/reveal/" in posted["Location"]
    rotation = Rotation.objects.get()
    page = manager_client.get(f"{BASE}/rotations/{rotation.pk}/")
    assert "Requests, last 90 days" in _text(page)


def test_at_the_limit_the_rotation_is_refused_and_nothing_changes(manager_client, team, manager, old_client):
    services.oauth_client_create(actor=manager, team=team)
    response = manager_client.post(f"{BASE}/clients/{old_client.pk}/rotate/")
    assert response.status_code == HTTPStatus.CONFLICT
    assert "two active client credentials" in _text(response) and "Nothing was changed" in _text(response)
    assert OAuthClient.objects.filter(team=team).count() == 2
    assert not Rotation.objects.exists()


def test_the_rotation_page_shows_both_and_what_to_do(manager_client, old_client):
    rotation = _start(manager_client, old_client)
    page = _text(manager_client.get(f"{BASE}/rotations/{rotation.pk}/"))
    assert "Old:" in page and "New:" in page
    assert page.count("Never used") == 2
    assert "The new client credentials were never used" in page
    assert "The old client credentials are quiet" in page

    # The old one was used two days ago: not quiet for the default seven days.
    OAuthClient.objects.filter(pk=old_client.pk).update(last_used_at=timezone.now() - timedelta(days=2))
    page = _text(manager_client.get(f"{BASE}/rotations/{rotation.pk}/"))
    assert "still in use" in page
    assert "The old client credentials are quiet" in _text(
        manager_client.get(f"{BASE}/rotations/{rotation.pk}/?quiet=1")
    )
    # An unknown quiet period is the default.
    assert "still in use" in _text(manager_client.get(f"{BASE}/rotations/{rotation.pk}/?quiet=999"))


def test_real_use_of_the_new_one_shows_on_the_rotation_page(manager_client, client, team, manager):
    creds = make_credentials(manager, team)
    rotation, new, new_secret = services.rotation_start(actor=manager, team=team, credential=creds.client)
    response = request_token(client, creds.form(client_id=new.client_id, client_secret=new_secret))
    assert response.status_code == HTTPStatus.OK
    page = _text(manager_client.get(f"{BASE}/rotations/{rotation.pk}/"))
    assert "were never used" not in page
    assert 'from <span class="mono">127.0.0.1</span>' in page


@pytest.mark.parametrize("htmx", [False, True])
def test_finishing_needs_the_box_then_deactivates_the_old_one(manager_client, old_client, htmx):
    rotation = _start(manager_client, old_client)
    headers = {"HX-Request": "true"} if htmx else {}
    url = f"{BASE}/rotations/{rotation.pk}/finish/"

    unticked = manager_client.post(url, headers=headers)
    assert unticked.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
    assert "Tick the box" in _text(unticked)
    old_client.refresh_from_db()
    assert old_client.is_active

    done = manager_client.post(url, {"confirm": "on"}, headers=headers)
    target = done["HX-Redirect"] if htmx else done["Location"]
    assert target == f"{BASE}/rotations/{rotation.pk}/"
    old_client.refresh_from_db()
    assert not old_client.is_active
    page = _text(manager_client.get(target))
    assert "Rotation finished" in page
    actions = list(CredentialHistory.objects.order_by("id").values_list("action", flat=True))
    assert actions[-2:] == [Action.DEACTIVATED, Action.ROTATION_FINISHED]
    again = manager_client.post(url, {"confirm": "on"})
    assert again.status_code == HTTPStatus.CONFLICT


def test_an_auditor_sees_the_rotation_but_cannot_finish_or_start(manager_client, auditor_client, old_client):
    rotation = _start(manager_client, old_client)
    page = auditor_client.get(f"{BASE}/rotations/{rotation.pk}/")
    assert page.status_code == HTTPStatus.OK
    assert "Deactivate the old" not in _text(page)
    assert (
        auditor_client.post(f"{BASE}/rotations/{rotation.pk}/finish/", {"confirm": "on"}).status_code == 403
    )
    assert auditor_client.get(f"{BASE}/clients/{old_client.pk}/rotate/").status_code == 403
    old_client.refresh_from_db()
    assert old_client.is_active


def test_another_team_cannot_see_or_finish_a_rotation(manager_client, outsider_client, old_client):
    rotation = _start(manager_client, old_client)
    assert outsider_client.get(f"{BASE}/rotations/{rotation.pk}/").status_code == HTTPStatus.NOT_FOUND
    finish = outsider_client.post(f"{BASE}/rotations/{rotation.pk}/finish/", {"confirm": "on"})
    assert finish.status_code == HTTPStatus.NOT_FOUND
    assert outsider_client.post(f"{BASE}/clients/{old_client.pk}/rotate/").status_code == HTTPStatus.NOT_FOUND
    assert Rotation.objects.get().finished_at is None


# --- Revoke tokens -------------------------------------------------------------------


@pytest.mark.parametrize("htmx", [False, True])
def test_revoke_tokens_asks_then_lets_the_next_token_through(manager_client, client, team, manager, htmx):
    creds = make_credentials(manager, team)
    assert request_token(client, creds.form()).status_code == HTTPStatus.OK
    url = f"{BASE}/service-accounts/{creds.account.pk}/revoke-tokens/"
    headers = {"HX-Request": "true"} if htmx else {}

    page = manager_client.get(url)
    assert "Live access tokens" in _text(page) and "<dd>1</dd>" in _text(page)
    unticked = manager_client.post(url, headers=headers)
    assert unticked.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
    assert request_token(client, creds.form()).status_code == HTTPStatus.TOO_MANY_REQUESTS

    done = manager_client.post(url, {"confirm": "on"}, headers=headers)

    target = done["HX-Redirect"] if htmx else done["Location"]
    assert target == f"{BASE}/service-accounts/{creds.account.pk}/"
    assert "Revoked 1 live token of Checkout" in _text(manager_client.get(target))
    assert request_token(client, creds.form()).status_code == HTTPStatus.OK
    assert CredentialHistory.objects.filter(action=Action.TOKENS_REVOKED).count() == 1


def test_revoke_tokens_of_a_deleted_account_changes_nothing(manager_client, team, manager):
    creds = make_credentials(manager, team)
    services.service_account_delete(actor=manager, team=team, account=creds.account)
    url = f"{BASE}/service-accounts/{creds.account.pk}/revoke-tokens/"
    assert "its tokens ended with it" in _text(manager_client.get(url))
    response = manager_client.post(url, {"confirm": "on"})
    assert response.status_code == HTTPStatus.CONFLICT
    assert not CredentialHistory.objects.filter(action=Action.TOKENS_REVOKED).exists()


def test_revoke_tokens_needs_manage(auditor_client, team, manager):
    creds = make_credentials(manager, team)
    url = f"{BASE}/service-accounts/{creds.account.pk}/revoke-tokens/"
    assert auditor_client.post(url, {"confirm": "on"}).status_code == HTTPStatus.FORBIDDEN
    assert not CredentialHistory.objects.filter(action=Action.TOKENS_REVOKED).exists()


def test_the_history_names_both_credentials_of_a_rotation(manager_client, old_client):
    rotation = _start(manager_client, old_client)
    manager_client.post(f"{BASE}/rotations/{rotation.pk}/finish/", {"confirm": "on"})
    new = OAuthClient.objects.get(pk=rotation.new_pk)

    page = _text(manager_client.get(f"{BASE}/history/"))

    assert f"Rotation started: new Order server ({new.client_id})" in page
    assert f"Rotation finished: new Order server ({new.client_id})" in page
    assert page.count(old_client.client_id) >= 3  # created, rotation started, deactivated, finished


def test_the_pages_offer_rotate_revoke_tokens_and_require_dpop(manager_client, auditor_client, team, manager):
    client, _ = services.oauth_client_create(actor=manager, team=team)
    key, _ = services.api_key_create(actor=manager, team=team, platform_name="Shop")
    account, _ = services.service_account_create(actor=manager, team=team)
    client_page = _text(manager_client.get(f"{BASE}/clients/{client.pk}/"))
    assert f"{BASE}/clients/{client.pk}/rotate/" in client_page and "Require DPoP" in client_page
    assert f"{BASE}/api-keys/{key.pk}/rotate/" in _text(manager_client.get(f"{BASE}/api-keys/{key.pk}/"))
    account_page = _text(manager_client.get(f"{BASE}/service-accounts/{account.pk}/"))
    assert f"{BASE}/service-accounts/{account.pk}/revoke-tokens/" in account_page
    # View only: none of the buttons.
    assert "/rotate/" not in _text(auditor_client.get(f"{BASE}/clients/{client.pk}/"))
    assert "revoke-tokens" not in _text(auditor_client.get(f"{BASE}/service-accounts/{account.pk}/"))
    # Under way, both pages link to the rotation.
    rotation, new, _ = services.rotation_start(actor=manager, team=team, credential=client)
    for pk in (client.pk, new.pk):
        assert f"{BASE}/rotations/{rotation.pk}/" in _text(auditor_client.get(f"{BASE}/clients/{pk}/"))


@pytest.mark.parametrize("htmx", [False, True])
def test_require_dpop_is_a_switch_that_is_recorded(manager_client, team, manager, htmx):
    client, _ = services.oauth_client_create(actor=manager, team=team)
    url = f"{BASE}/clients/{client.pk}/require-dpop/"
    headers = {"HX-Request": "true"} if htmx else {}

    done = manager_client.post(url, {"required": "on"}, headers=headers)

    assert (done["HX-Redirect"] if htmx else done["Location"]).endswith(f"/clients/{client.pk}/#client-dpop")
    client.refresh_from_db()
    assert client.require_dpop
    row = CredentialHistory.objects.filter(action=Action.UPDATED).get()
    assert row.details == {"require_dpop": "on"}
    assert "Updated: Require DPoP on" in _text(manager_client.get(f"{BASE}/history/"))
    assert "Requires DPoP" in _text(manager_client.get(f"{BASE}/clients/"))
    manager_client.post(url, {"required": "on"})  # no change, no history
    assert CredentialHistory.objects.filter(action=Action.UPDATED).count() == 1
    manager_client.post(url, {"required": "off"})
    client.refresh_from_db()
    assert not client.require_dpop


def test_require_dpop_needs_manage(auditor_client, team, manager):
    client, _ = services.oauth_client_create(actor=manager, team=team)
    response = auditor_client.post(f"{BASE}/clients/{client.pk}/require-dpop/", {"required": "on"})
    assert response.status_code == HTTPStatus.FORBIDDEN
    client.refresh_from_db()
    assert not client.require_dpop


def test_the_new_secret_page_goes_on_to_the_rotation(manager_client, old_client):
    posted = manager_client.post(f"{BASE}/clients/{old_client.pk}/rotate/")
    page = _text(revealed(manager_client, posted))
    rotation = Rotation.objects.get()
    assert f'href="{BASE}/rotations/{rotation.pk}/"' in page and "on to the rotation" in page
