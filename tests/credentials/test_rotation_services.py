"""Rotating client credentials and API keys, and revoking a service account's tokens."""

from __future__ import annotations

from http import HTTPStatus

import pytest
from django.core.exceptions import PermissionDenied
from django.test import Client

from credentials import services
from credentials.models import AccessToken, ApiKey, CredentialHistory, OAuthClient, Rotation
from tests.oauth.conftest import basic, form_post, make_credentials, request_token

pytestmark = pytest.mark.django_db

Action = CredentialHistory.Action


def _actions(team) -> list[str]:
    return list(CredentialHistory.objects.filter(team=team).order_by("id").values_list("action", flat=True))


@pytest.fixture(params=["client", "api_key"])
def rotatable(request, team, manager):
    if request.param == "client":
        credential, _ = services.oauth_client_create(actor=manager, team=team, display_name="Order server")
    else:
        credential, _ = services.api_key_create(actor=manager, team=team, platform_name="Order server")
    return credential


def test_starting_a_rotation_makes_a_successor_named_alike(team, manager, rotatable):
    rotation, new, secret = services.rotation_start(actor=manager, team=team, credential=rotatable)

    assert type(new) is type(rotatable)
    assert secret and new.pk != rotatable.pk
    assert str(new).startswith("Order server") or new.display_name == "Order server"
    assert (rotation.old_pk, rotation.new_pk, rotation.finished_at) == (rotatable.pk, new.pk, None)
    started = CredentialHistory.objects.get(action=Action.ROTATION_STARTED)
    _, _, new_identifier = services.describe(new)
    assert started.details == {"new_credential": new_identifier, "new_name": "Order server"}
    assert _actions(team) == [Action.CREATED, Action.CREATED, Action.ROTATION_STARTED]
    assert secret not in repr(list(CredentialHistory.objects.values()))


def test_a_credential_is_rotated_once_at_a_time(team, manager, rotatable):
    services.rotation_start(actor=manager, team=team, credential=rotatable)
    with pytest.raises(services.CredentialError):
        services.rotation_start(actor=manager, team=team, credential=rotatable)
    assert Rotation.objects.count() == 1


def test_the_active_limit_refuses_a_rotation_and_changes_nothing(team, manager, rotatable):
    if isinstance(rotatable, OAuthClient):
        services.oauth_client_create(actor=manager, team=team)
    else:
        services.api_key_create(actor=manager, team=team, platform_name="Other")
    before = _actions(team)
    with pytest.raises(services.LimitReached):
        services.rotation_start(actor=manager, team=team, credential=rotatable)
    assert not Rotation.objects.exists()
    assert _actions(team) == before


def test_a_deactivated_credential_cannot_be_rotated(team, manager, rotatable):
    if isinstance(rotatable, OAuthClient):
        services.oauth_client_deactivate(actor=manager, team=team, client=rotatable)
    else:
        services.api_key_deactivate(actor=manager, team=team, key=rotatable)
    with pytest.raises(services.AlreadyDeleted):
        services.rotation_start(actor=manager, team=team, credential=rotatable)


def test_finishing_deactivates_the_old_one_and_says_so(team, manager, rotatable):
    rotation, new, _ = services.rotation_start(actor=manager, team=team, credential=rotatable)

    services.rotation_finish(actor=manager, team=team, rotation=rotation)

    rotatable.refresh_from_db()
    new.refresh_from_db()
    assert not rotatable.is_active and new.is_active
    assert Rotation.objects.get().finished_at is not None
    assert _actions(team)[-2:] == [Action.DEACTIVATED, Action.ROTATION_FINISHED]
    with pytest.raises(services.AlreadyDeleted):
        services.rotation_finish(actor=manager, team=team, rotation=rotation)


def test_an_auditor_can_neither_start_nor_finish(team, manager, auditor, rotatable):
    with pytest.raises(PermissionDenied):
        services.rotation_start(actor=auditor, team=team, credential=rotatable)
    rotation, _, _ = services.rotation_start(actor=manager, team=team, credential=rotatable)
    with pytest.raises(PermissionDenied):
        services.rotation_finish(actor=auditor, team=team, rotation=rotation)


def test_another_team_cannot_touch_a_rotation(team, manager, other_team, outsider, rotatable):
    rotation, _, _ = services.rotation_start(actor=manager, team=team, credential=rotatable)
    with pytest.raises((PermissionDenied, Rotation.DoesNotExist)):
        services.rotation_finish(actor=outsider, team=other_team, rotation=rotation)
    assert Rotation.objects.get().finished_at is None


# --- Revoke tokens: the way back for a server that lost its token -----------------


def test_revoking_a_service_accounts_tokens_lets_the_next_request_through(team, manager):
    creds = make_credentials(manager, team)
    http = Client()
    assert request_token(http, creds.form()).status_code == HTTPStatus.OK
    # The server lost it: the once-a-day rule refuses another.
    assert request_token(http, creds.form()).status_code == HTTPStatus.TOO_MANY_REQUESTS

    revoked = services.service_account_revoke_tokens(actor=manager, team=team, account=creds.account)

    assert revoked == 1
    again = request_token(http, creds.form())
    assert again.status_code == HTTPStatus.OK
    old = AccessToken.objects.order_by("issued_at").first()
    whoami = http.get("/api/v2/whoami", HTTP_AUTHORIZATION=f"Bearer {again.json()['access_token']}")
    assert whoami.status_code == HTTPStatus.OK
    assert old.revoked_at is not None
    row = CredentialHistory.objects.get(action=Action.TOKENS_REVOKED)
    assert (row.credential_identifier, row.details) == (creds.account.username, {"tokens": "1"})


def test_a_clients_own_revoke_still_does_not_reset_the_rule(team, manager):
    creds = make_credentials(manager, team)
    http = Client()
    token = request_token(http, creds.form()).json()["access_token"]
    revoke = form_post(
        http,
        "/oauth/revoke",
        {"token": token, "client_id": creds.client_id, "client_secret": creds.client_secret},
    )
    assert revoke.status_code == HTTPStatus.OK
    assert request_token(http, creds.form()).status_code == HTTPStatus.TOO_MANY_REQUESTS
    # ... while a Manage user's Revoke tokens does.
    services.service_account_revoke_tokens(actor=manager, team=team, account=creds.account)
    assert request_token(http, creds.form()).status_code == HTTPStatus.OK


def test_revoking_needs_manage_and_a_live_account(team, manager, auditor):
    creds = make_credentials(manager, team)
    with pytest.raises(PermissionDenied):
        services.service_account_revoke_tokens(actor=auditor, team=team, account=creds.account)
    services.service_account_delete(actor=manager, team=team, account=creds.account)
    with pytest.raises(services.AlreadyDeleted):
        services.service_account_revoke_tokens(actor=manager, team=team, account=creds.account)
    assert not CredentialHistory.objects.filter(action=Action.TOKENS_REVOKED).exists()


def test_rotating_an_api_key_keeps_the_old_one_working_until_finished(team, manager, client):
    key, plaintext = services.api_key_create(actor=manager, team=team, platform_name="Shop")
    rotation, _new, new_plaintext = services.rotation_start(actor=manager, team=team, credential=key)
    for value in (plaintext, new_plaintext):
        assert (
            client.get("/api/v2/whoami", HTTP_AUTHORIZATION=basic(team.slug, value)).status_code
            == HTTPStatus.OK
        )
    services.rotation_finish(actor=manager, team=team, rotation=rotation)
    assert (
        client.get("/api/v2/whoami", HTTP_AUTHORIZATION=basic(team.slug, plaintext)).status_code
        == HTTPStatus.UNAUTHORIZED
    )
    assert ApiKey.objects.active().count() == 1
