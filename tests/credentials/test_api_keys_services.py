from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from credentials import secrets as credential_secrets
from credentials import services
from credentials.models import ApiKey, CredentialHistory, CredentialType
from tests.conftest import HistoryDown

pytestmark = pytest.mark.django_db

Action = CredentialHistory.Action


def test_create_returns_the_key_once_and_stores_only_its_digest(manager, team):
    key, plaintext = services.api_key_create(actor=manager, team=team, platform_name=" Order server ")

    key.refresh_from_db()
    assert plaintext.startswith("tng_sbx_ak_")
    assert len(plaintext.removeprefix("tng_sbx_ak_")) >= 43
    assert key.digest == credential_secrets.digest(plaintext)
    assert plaintext.startswith(key.prefix)
    # The visible prefix gives away only a few random characters.
    assert len(key.prefix) == len("tng_sbx_ak_") + services.API_KEY_VISIBLE_CHARS
    assert plaintext not in {str(getattr(key, f.attname)) for f in ApiKey._meta.fields}
    assert key.platform_name == "Order server"
    assert key.masked == key.prefix + "•" * 12
    assert plaintext not in key.masked


def test_create_records_history_with_type_api_key_and_prefix(manager, team):
    key, plaintext = services.api_key_create(actor=manager, team=team, platform_name="Order server")

    row = CredentialHistory.objects.get(team=team)
    assert row.action == Action.CREATED
    assert row.credential_type == CredentialType.API_KEY
    assert row.get_credential_type_display() == "API key"
    assert row.credential_name == "Order server"
    assert row.credential_identifier == key.prefix
    assert row.actor_email == manager.email
    assert plaintext not in str(list(CredentialHistory.objects.values()))


def test_api_keys_do_not_need_oauth_enabled(manager, team):
    team.oauth_enabled = False
    team.save()
    key, _ = services.api_key_create(actor=manager, team=team, platform_name="Legacy")
    assert key.is_active


@pytest.mark.parametrize("name", ["", "   ", "x" * 101, "bad\u200bname"])
def test_platform_name_is_required_and_clean(manager, team, name):
    with pytest.raises(ValidationError):
        services.api_key_create(actor=manager, team=team, platform_name=name)
    assert not ApiKey.objects.exists()


def test_third_active_key_is_refused_with_what_to_do(manager, team):
    services.api_key_create(actor=manager, team=team, platform_name="One")
    services.api_key_create(actor=manager, team=team, platform_name="Two")

    with pytest.raises(services.LimitReached) as refused:
        services.api_key_create(actor=manager, team=team, platform_name="Three")

    assert "two active API keys" in str(refused.value)
    assert "Deactivate one" in str(refused.value)
    assert ApiKey.objects.count() == 2
    assert CredentialHistory.objects.count() == 2


def test_deactivated_keys_free_a_slot(manager, team):
    first, _ = services.api_key_create(actor=manager, team=team, platform_name="One")
    services.api_key_create(actor=manager, team=team, platform_name="Two")
    services.api_key_deactivate(actor=manager, team=team, key=first)
    services.api_key_create(actor=manager, team=team, platform_name="Three")
    assert ApiKey.objects.active().filter(team=team).count() == 2


@pytest.mark.parametrize("user_fixture", ["auditor", "member", "outsider"])
def test_only_managers_of_the_team_may_create(request, team, user_fixture):
    user = request.getfixturevalue(user_fixture)
    with pytest.raises(PermissionDenied):
        services.api_key_create(actor=user, team=team, platform_name="Nope")
    assert not ApiKey.objects.exists()


def test_deactivate_records_deactivated(manager, team):
    key, _ = services.api_key_create(actor=manager, team=team, platform_name="Order server")

    services.api_key_deactivate(actor=manager, team=team, key=key, ip_address="198.51.100.4")

    key.refresh_from_db()
    assert not key.is_active
    row = CredentialHistory.objects.filter(team=team).order_by("-id").first()
    assert row.action == Action.DEACTIVATED
    assert row.credential_type == CredentialType.API_KEY
    assert row.credential_name == "Order server"
    assert row.credential_identifier == key.prefix
    assert row.ip_address == "198.51.100.4"


def test_deactivate_twice_is_refused_and_records_nothing(manager, team):
    key, _ = services.api_key_create(actor=manager, team=team, platform_name="One")
    services.api_key_deactivate(actor=manager, team=team, key=key)
    count = CredentialHistory.objects.count()
    with pytest.raises(services.AlreadyDeleted, match="already deactivated"):
        services.api_key_deactivate(actor=manager, team=team, key=key)
    assert CredentialHistory.objects.count() == count


def test_deactivate_refused_for_auditor_and_other_teams(auditor, outsider, other_team, manager, team):
    key, _ = services.api_key_create(actor=manager, team=team, platform_name="One")
    with pytest.raises(PermissionDenied):
        services.api_key_deactivate(actor=auditor, team=team, key=key)
    with pytest.raises(ApiKey.DoesNotExist):
        services.api_key_deactivate(actor=outsider, team=other_team, key=key)
    assert ApiKey.objects.get(pk=key.pk).is_active


def test_create_changes_nothing_when_history_fails(manager, team, history_down):
    history_down()
    with pytest.raises(HistoryDown):
        services.api_key_create(actor=manager, team=team, platform_name="One")
    assert not ApiKey.objects.exists()
    assert not CredentialHistory.objects.exists()


def test_deactivate_changes_nothing_when_history_fails(manager, team, history_down):
    key, _ = services.api_key_create(actor=manager, team=team, platform_name="One")
    history_down()
    with pytest.raises(HistoryDown):
        services.api_key_deactivate(actor=manager, team=team, key=key)
    assert ApiKey.objects.get(pk=key.pk).is_active
    assert CredentialHistory.objects.count() == 1
