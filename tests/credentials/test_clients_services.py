from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from credentials import secrets as credential_secrets
from credentials import services
from credentials.models import AccessToken, CredentialHistory, CredentialType, OAuthClient
from tests.conftest import HistoryDown
from tests.factories import AccessTokenFactory

pytestmark = pytest.mark.django_db

Action = CredentialHistory.Action


def test_create_returns_the_secret_once_and_stores_only_its_digest(manager, team):
    client, secret = services.oauth_client_create(actor=manager, team=team, display_name="  Orders  ")

    client.refresh_from_db()
    assert secret.startswith("tng_sbx_cs_")
    # 32 random bytes as URL-safe base64 after the prefix: 256 bits.
    assert len(secret.removeprefix("tng_sbx_cs_")) >= 43
    assert client.client_id.startswith("tng_sbx_ci_")
    assert client.secret_digest == credential_secrets.digest(secret)
    assert secret not in {getattr(client, f.attname) for f in OAuthClient._meta.fields}
    assert client.display_name == "Orders"
    assert client.created_by == manager
    assert client.is_active
    assert not client.legacy


def test_two_creations_give_different_ids_and_secrets(manager, team):
    first, first_secret = services.oauth_client_create(actor=manager, team=team)
    second, second_secret = services.oauth_client_create(actor=manager, team=team)
    assert first.client_id != second.client_id
    assert first_secret != second_secret


def test_create_records_history_without_the_secret(manager, team):
    client, secret = services.oauth_client_create(actor=manager, team=team, display_name="Orders")

    row = CredentialHistory.objects.get(team=team)
    assert row.action == Action.CREATED
    assert row.credential_type == CredentialType.OAUTH_CLIENT
    assert row.get_credential_type_display() == "OAuth client credentials"
    assert row.credential_name == "Orders"
    assert row.credential_identifier == client.client_id
    assert row.actor_email == manager.email
    assert row.actor_name == manager.full_name
    assert secret not in str(list(CredentialHistory.objects.values()))


def test_unnamed_client_is_named_by_its_client_id_in_history(manager, team):
    client, _ = services.oauth_client_create(actor=manager, team=team)
    assert CredentialHistory.objects.get(team=team).credential_name == client.client_id


def test_create_refused_until_oauth_is_enabled(manager, team):
    team.oauth_enabled = False
    team.save()

    with pytest.raises(services.OAuthNotEnabled, match="Tango representative"):
        services.oauth_client_create(actor=manager, team=team)

    assert not OAuthClient.objects.exists()
    assert not CredentialHistory.objects.exists()


def test_create_reads_the_enablement_from_the_database_not_a_stale_object(manager, team):
    stale = type(team).objects.get(pk=team.pk)
    team.oauth_enabled = False
    team.save()
    with pytest.raises(services.OAuthNotEnabled):
        services.oauth_client_create(actor=manager, team=stale)
    assert not OAuthClient.objects.exists()


def test_third_active_client_is_refused_with_what_to_do(manager, team):
    services.oauth_client_create(actor=manager, team=team)
    services.oauth_client_create(actor=manager, team=team)

    with pytest.raises(services.LimitReached) as refused:
        services.oauth_client_create(actor=manager, team=team)

    message = str(refused.value)
    assert "two active client credentials" in message
    assert "deactivate the older one" in message
    assert OAuthClient.objects.filter(team=team).count() == 2
    assert CredentialHistory.objects.filter(team=team).count() == 2


def test_deactivated_clients_free_a_slot(manager, team):
    first, _ = services.oauth_client_create(actor=manager, team=team)
    services.oauth_client_create(actor=manager, team=team)
    services.oauth_client_deactivate(actor=manager, team=team, client=first)

    services.oauth_client_create(actor=manager, team=team)

    assert OAuthClient.objects.active().filter(team=team).count() == 2


def test_the_limit_is_per_team(manager, team, outsider, other_team):
    services.oauth_client_create(actor=outsider, team=other_team)
    services.oauth_client_create(actor=outsider, team=other_team)
    services.oauth_client_create(actor=manager, team=team)
    services.oauth_client_create(actor=manager, team=team)
    assert OAuthClient.objects.active().count() == 4


def test_backdated_client_is_legacy(manager, team):
    before, _ = services.oauth_client_create(
        actor=manager, team=team, created_at=datetime(2025, 5, 13, 23, 59, tzinfo=UTC)
    )
    on_cutoff, _ = services.oauth_client_create(
        actor=manager, team=team, created_at=datetime(2025, 5, 14, 0, 0, tzinfo=UTC)
    )
    assert before.legacy
    assert not on_cutoff.legacy


def test_create_refuses_a_bad_display_name_and_changes_nothing(manager, team):
    with pytest.raises(ValidationError):
        services.oauth_client_create(actor=manager, team=team, display_name="bad\u202ename")
    assert not OAuthClient.objects.exists()


@pytest.mark.parametrize("user_fixture", ["auditor", "member", "outsider"])
def test_only_managers_of_the_team_may_create(request, team, user_fixture):
    user = request.getfixturevalue(user_fixture)
    with pytest.raises(PermissionDenied):
        services.oauth_client_create(actor=user, team=team)
    assert not OAuthClient.objects.exists()


def test_view_records_viewed(auditor, manager, team):
    client, _ = services.oauth_client_create(actor=manager, team=team, display_name="Orders")

    services.oauth_client_view(actor=auditor, team=team, client=client, ip_address="203.0.113.9")

    row = CredentialHistory.objects.filter(team=team).order_by("-id").first()
    assert row.action == Action.VIEWED
    assert row.credential_type == CredentialType.OAUTH_CLIENT
    assert row.credential_name == "Orders"
    assert row.credential_identifier == client.client_id
    assert row.actor_email == auditor.email
    assert row.ip_address == "203.0.113.9"


def test_view_needs_view_permission(member, manager, team):
    client, _ = services.oauth_client_create(actor=manager, team=team)
    with pytest.raises(PermissionDenied):
        services.oauth_client_view(actor=member, team=team, client=client)
    assert CredentialHistory.objects.filter(action=Action.VIEWED).count() == 0


def test_rename_records_updated_with_old_and_new_names(manager, team):
    client, _ = services.oauth_client_create(actor=manager, team=team, display_name="Old")

    renamed = services.oauth_client_rename(actor=manager, team=team, client=client, display_name="New")

    assert renamed.display_name == "New"
    assert OAuthClient.objects.get(pk=client.pk).display_name == "New"
    row = CredentialHistory.objects.filter(team=team).order_by("-id").first()
    assert row.action == Action.UPDATED
    assert row.credential_type == CredentialType.OAUTH_CLIENT
    assert row.credential_name == "New"
    assert row.credential_identifier == client.client_id
    assert row.details == {"old_name": "Old", "new_name": "New"}


def test_rename_to_the_same_name_records_nothing(manager, team):
    client, _ = services.oauth_client_create(actor=manager, team=team, display_name="Same")
    services.oauth_client_rename(actor=manager, team=team, client=client, display_name=" Same ")
    assert CredentialHistory.objects.filter(action=Action.UPDATED).count() == 0


def test_rename_refused_for_auditor_and_deactivated_clients(auditor, manager, team):
    client, _ = services.oauth_client_create(actor=manager, team=team, display_name="Old")
    with pytest.raises(PermissionDenied):
        services.oauth_client_rename(actor=auditor, team=team, client=client, display_name="New")
    services.oauth_client_deactivate(actor=manager, team=team, client=client)
    with pytest.raises(services.AlreadyDeleted):
        services.oauth_client_rename(actor=manager, team=team, client=client, display_name="New")
    assert OAuthClient.objects.get(pk=client.pk).display_name == "Old"
    assert CredentialHistory.objects.filter(action=Action.UPDATED).count() == 0


def test_deactivate_revokes_every_token_of_that_client_only(manager, team):
    client, _ = services.oauth_client_create(actor=manager, team=team)
    other, _ = services.oauth_client_create(actor=manager, team=team)
    tokens = [AccessTokenFactory(client=client), AccessTokenFactory(client=client)]
    kept = AccessTokenFactory(client=other)

    services.oauth_client_deactivate(actor=manager, team=team, client=client, ip_address="203.0.113.9")

    client.refresh_from_db()
    assert client.deactivated_at is not None
    assert all(AccessToken.objects.get(pk=t.pk).revoked_at is not None for t in tokens)
    assert AccessToken.objects.get(pk=kept.pk).revoked_at is None
    row = CredentialHistory.objects.filter(team=team).order_by("-id").first()
    assert row.action == Action.DEACTIVATED
    assert row.credential_type == CredentialType.OAUTH_CLIENT
    assert row.credential_identifier == client.client_id
    assert row.ip_address == "203.0.113.9"


def test_deactivate_twice_is_refused_and_records_nothing(manager, team):
    client, _ = services.oauth_client_create(actor=manager, team=team)
    services.oauth_client_deactivate(actor=manager, team=team, client=client)
    first_deactivated_at = OAuthClient.objects.get(pk=client.pk).deactivated_at
    count = CredentialHistory.objects.count()

    with pytest.raises(services.AlreadyDeleted, match="already deactivated"):
        services.oauth_client_deactivate(actor=manager, team=team, client=client)

    assert CredentialHistory.objects.count() == count
    assert OAuthClient.objects.get(pk=client.pk).deactivated_at == first_deactivated_at


def test_deactivate_refused_for_auditor(auditor, manager, team):
    client, _ = services.oauth_client_create(actor=manager, team=team)
    token = AccessTokenFactory(client=client)
    with pytest.raises(PermissionDenied):
        services.oauth_client_deactivate(actor=auditor, team=team, client=client)
    assert OAuthClient.objects.get(pk=client.pk).is_active
    assert AccessToken.objects.get(pk=token.pk).revoked_at is None


def test_deactivate_cannot_reach_another_teams_client(outsider, other_team, manager, team):
    client, _ = services.oauth_client_create(actor=manager, team=team)
    with pytest.raises(OAuthClient.DoesNotExist):
        services.oauth_client_deactivate(actor=outsider, team=other_team, client=client)
    assert OAuthClient.objects.get(pk=client.pk).is_active


def test_create_changes_nothing_when_history_fails(manager, team, history_down):
    history_down()
    with pytest.raises(HistoryDown):
        services.oauth_client_create(actor=manager, team=team)
    assert not OAuthClient.objects.exists()
    assert not CredentialHistory.objects.exists()


def test_deactivate_changes_nothing_when_history_fails(manager, team, history_down):
    client, _ = services.oauth_client_create(actor=manager, team=team)
    token = AccessTokenFactory(client=client)
    history_down()

    with pytest.raises(HistoryDown):
        services.oauth_client_deactivate(actor=manager, team=team, client=client)

    assert OAuthClient.objects.get(pk=client.pk).is_active
    assert AccessToken.objects.get(pk=token.pk).revoked_at is None
    assert CredentialHistory.objects.count() == 1


def test_rename_changes_nothing_when_history_fails(manager, team, history_down):
    client, _ = services.oauth_client_create(actor=manager, team=team, display_name="Old")
    history_down()
    with pytest.raises(HistoryDown):
        services.oauth_client_rename(actor=manager, team=team, client=client, display_name="New")
    assert OAuthClient.objects.get(pk=client.pk).display_name == "Old"
