import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from credentials import secrets, services
from credentials.models import CredentialHistory, CredentialType, OAuthClient, ServiceAccount
from tests.conftest import HistoryDown
from tests.factories import AccessTokenFactory

pytestmark = pytest.mark.django_db

Action = CredentialHistory.Action


def _create(actor, team, display_name=""):
    return services.service_account_create(actor=actor, team=team, display_name=display_name)


def _argon2_parameters(encoded: str) -> dict[str, int]:
    # argon2$argon2id$v=19$m=19456,t=2,p=1$salt$hash
    fields = encoded.split("$")
    return {key: int(value) for key, value in (part.split("=") for part in fields[3].split(","))}


def _history(team):
    return list(CredentialHistory.objects.filter(team=team).order_by("id"))


def _client_with_token(team, account):
    client = OAuthClient.objects.create(
        team=team, client_id=secrets.generate_public_id(secrets.Kind.CLIENT_ID), secret_digest="0" * 64
    )
    return client, AccessTokenFactory(client=client, service_account=account)


def test_create_stores_only_an_argon2id_hash_at_least_the_owasp_minimum(manager, team):
    account, password = _create(manager, team)

    account.refresh_from_db()
    assert account.password_hash.startswith("argon2$argon2id$")
    parameters = _argon2_parameters(account.password_hash)
    assert parameters["m"] >= 19456
    assert parameters["t"] >= 2
    assert password not in account.password_hash


def test_password_is_random_256_bits_with_the_environment_prefix(manager, team):
    _, first = _create(manager, team)
    _, second = _create(manager, team)

    assert first.startswith("tng_sbx_sap_")
    # 32 random bytes, URL-safe base64: 43 characters after the prefix.
    assert len(first) - len("tng_sbx_sap_") >= 43
    assert first != second


def test_check_password_accepts_the_password_and_refuses_others(manager, team):
    account, password = _create(manager, team)

    assert services.service_account_check_password(account, password)
    assert not services.service_account_check_password(account, password + "x")
    assert not services.service_account_check_password(account, "")


def test_check_password_fails_after_delete(manager, team):
    account, password = _create(manager, team)

    services.service_account_delete(actor=manager, team=team, account=account)

    account.refresh_from_db()
    assert account.password_hash == ""
    assert not services.service_account_check_password(account, password)


def test_username_is_derived_from_the_team_and_unique(manager, team):
    first, _ = _create(manager, team)
    second, _ = _create(manager, team)

    assert first.username.startswith("acme-rewards-sa-")
    assert second.username.startswith("acme-rewards-sa-")
    assert first.username != second.username


def test_username_of_a_deleted_account_is_never_reused(manager, team, monkeypatch):
    deleted, _ = _create(manager, team)
    services.service_account_delete(actor=manager, team=team, account=deleted)
    taken_suffix = deleted.username.removeprefix("acme-rewards-sa-")
    draws = iter([taken_suffix, taken_suffix, "fresh234"])
    monkeypatch.setattr(secrets, "random_suffix", lambda length=8: next(draws))

    account, password = _create(manager, team)

    assert account.username == "acme-rewards-sa-fresh234"
    deleted.refresh_from_db()
    assert deleted.username == f"acme-rewards-sa-{taken_suffix}"
    assert deleted.is_deleted
    assert services.service_account_check_password(account, password)
    assert [row.credential_identifier for row in _history(team) if row.action == Action.CREATED] == [
        deleted.username,
        account.username,
    ]


def test_create_records_one_created_row_without_the_password(manager, team):
    account, password = _create(manager, team, display_name="  Order server  ")

    rows = _history(team)
    assert len(rows) == 1
    row = rows[0]
    assert row.action == Action.CREATED
    assert row.credential_type == CredentialType.SERVICE_ACCOUNT
    assert row.get_credential_type_display() == "Service account"
    assert row.credential_name == "Order server"
    assert row.credential_identifier == account.username
    assert (row.actor_id, row.actor_name, row.actor_email) == (manager.pk, "Manny Manager", manager.email)
    assert account.display_name == "Order server"
    assert password not in repr(CredentialHistory.objects.filter(pk=row.pk).values().get())


def test_create_needs_manage(auditor, member, team):
    for actor in (auditor, member):
        with pytest.raises(PermissionDenied):
            _create(actor, team)

    assert not ServiceAccount.objects.exists()
    assert not CredentialHistory.objects.exists()


def test_create_needs_oauth_enabled(manager, team):
    team.oauth_enabled = False
    team.save()

    with pytest.raises(services.OAuthNotEnabled, match="Tango representative"):
        _create(manager, team)

    assert not ServiceAccount.objects.exists()
    assert not CredentialHistory.objects.exists()


def test_create_refuses_another_teams_member(outsider, team):
    with pytest.raises(PermissionDenied):
        _create(outsider, team)
    assert not ServiceAccount.objects.exists()


def test_view_records_one_viewed_row(manager, auditor, team):
    account, _ = _create(manager, team)

    services.service_account_view(actor=auditor, team=team, account=account)

    row = _history(team)[-1]
    assert (row.action, row.credential_identifier, row.actor_email) == (
        Action.VIEWED,
        account.username,
        auditor.email,
    )
    assert len(_history(team)) == 2


def test_view_refused_without_permission(manager, member, team):
    account, _ = _create(manager, team)

    with pytest.raises(PermissionDenied):
        services.service_account_view(actor=member, team=team, account=account)
    assert len(_history(team)) == 1


def test_rename_trims_and_records_old_and_new_names(manager, team):
    account, _ = _create(manager, team, display_name="Old")

    renamed = services.service_account_rename(
        actor=manager, team=team, account=account, display_name="  New  "
    )

    assert renamed.display_name == "New"
    account.refresh_from_db()
    assert account.display_name == "New"
    row = _history(team)[-1]
    assert row.action == Action.UPDATED
    assert row.details == {"old_name": "Old", "new_name": "New"}
    assert row.credential_name == "New"


def test_rename_to_the_same_name_records_nothing(manager, team):
    account, _ = _create(manager, team, display_name="Same")

    services.service_account_rename(actor=manager, team=team, account=account, display_name=" Same ")

    assert [row.action for row in _history(team)] == [Action.CREATED]


@pytest.mark.parametrize(
    ("name", "message"),
    [("bad\x07name", "control character"), ("a" * 101, "at most 100"), ("zero\u200bwidth", "invisible")],
)
def test_rename_refuses_bad_names(manager, team, name, message):
    account, _ = _create(manager, team, display_name="Keep")

    with pytest.raises(ValidationError, match=message):
        services.service_account_rename(actor=manager, team=team, account=account, display_name=name)

    account.refresh_from_db()
    assert account.display_name == "Keep"
    assert len(_history(team)) == 1


def test_rename_needs_manage(manager, auditor, team):
    account, _ = _create(manager, team, display_name="Keep")

    with pytest.raises(PermissionDenied):
        services.service_account_rename(actor=auditor, team=team, account=account, display_name="New")
    account.refresh_from_db()
    assert account.display_name == "Keep"


def test_delete_destroys_the_hash_revokes_tokens_and_records_deleted(manager, team):
    account, _ = _create(manager, team, display_name="Order server")
    _, token = _client_with_token(team, account)

    services.service_account_delete(actor=manager, team=team, account=account)

    account.refresh_from_db()
    token.refresh_from_db()
    assert account.is_deleted
    assert account.password_hash == ""
    assert token.revoked_at is not None
    row = _history(team)[-1]
    assert (row.action, row.credential_identifier, row.credential_name) == (
        Action.DELETED,
        account.username,
        "Order server",
    )
    assert account not in ServiceAccount.objects.active()


def test_delete_leaves_client_credentials_valid(manager, team):
    account, _ = _create(manager, team)
    client, _ = _client_with_token(team, account)

    services.service_account_delete(actor=manager, team=team, account=account)

    client.refresh_from_db()
    assert client.is_active


def test_deleting_an_already_deleted_account_records_nothing(manager, team):
    account, _ = _create(manager, team)
    services.service_account_delete(actor=manager, team=team, account=account)
    count = CredentialHistory.objects.count()

    with pytest.raises(services.AlreadyDeleted, match="already deleted"):
        services.service_account_delete(actor=manager, team=team, account=account)

    assert CredentialHistory.objects.count() == count


def test_renaming_a_deleted_account_is_refused(manager, team):
    account, _ = _create(manager, team, display_name="Gone")
    services.service_account_delete(actor=manager, team=team, account=account)

    with pytest.raises(services.AlreadyDeleted):
        services.service_account_rename(actor=manager, team=team, account=account, display_name="Back")
    account.refresh_from_db()
    assert account.display_name == "Gone"


def test_delete_needs_manage(manager, auditor, team):
    account, password = _create(manager, team)

    with pytest.raises(PermissionDenied):
        services.service_account_delete(actor=auditor, team=team, account=account)
    account.refresh_from_db()
    assert not account.is_deleted
    assert services.service_account_check_password(account, password)


def test_delete_cannot_reach_another_teams_account(manager, outsider, team, other_team):
    account, _ = _create(manager, team)

    with pytest.raises(ServiceAccount.DoesNotExist):
        services.service_account_delete(actor=outsider, team=other_team, account=account)
    account.refresh_from_db()
    assert not account.is_deleted


# --- One transaction: if the history write fails, nothing changes ---------------


def test_create_changes_nothing_when_history_fails(manager, team, history_down):
    history_down()

    with pytest.raises(HistoryDown):
        _create(manager, team)

    assert not ServiceAccount.objects.exists()
    assert not CredentialHistory.objects.exists()


def test_rename_changes_nothing_when_history_fails(manager, team, history_down):
    account, _ = _create(manager, team, display_name="Before")
    history_down()

    with pytest.raises(HistoryDown):
        services.service_account_rename(actor=manager, team=team, account=account, display_name="After")

    account.refresh_from_db()
    assert account.display_name == "Before"
    assert CredentialHistory.objects.count() == 1


def test_delete_changes_nothing_when_history_fails(manager, team, history_down):
    account, password = _create(manager, team)
    _, token = _client_with_token(team, account)
    history_down()

    with pytest.raises(HistoryDown):
        services.service_account_delete(actor=manager, team=team, account=account)

    account.refresh_from_db()
    token.refresh_from_db()
    assert not account.is_deleted
    assert services.service_account_check_password(account, password)
    assert token.revoked_at is None
    assert CredentialHistory.objects.count() == 1
