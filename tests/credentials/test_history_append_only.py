"""Credential history is append-only at every level: model, queryset, admin, database."""

from __future__ import annotations

from http import HTTPStatus

import pytest

from credentials.models import AppendOnlyError, CredentialHistory, CredentialType
from tests.append_only import assert_database_refuses, emptying_statement
from tests.conftest import client_for, record_history
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

TABLE = CredentialHistory._meta.db_table


@pytest.fixture
def row(team, manager) -> CredentialHistory:
    return record_history(
        team,
        actor=manager,
        action=CredentialHistory.Action.CREATED,
        credential_type=CredentialType.SERVICE_ACCOUNT,
        credential_name="Order server",
        credential_identifier="acme-rewards-sa-abcdefgh",
        ip_address="203.0.113.9",
    )


def test_saving_an_existing_row_raises(row):
    row.credential_name = "Something else"
    with pytest.raises(AppendOnlyError):
        row.save()
    assert CredentialHistory.objects.get(pk=row.pk).credential_name == "Order server"


def test_deleting_a_row_raises(row):
    with pytest.raises(AppendOnlyError):
        row.delete()
    assert CredentialHistory.objects.filter(pk=row.pk).exists()


def test_queryset_update_and_delete_raise(row):
    with pytest.raises(AppendOnlyError):
        CredentialHistory.objects.filter(pk=row.pk).update(credential_name="x")
    with pytest.raises(AppendOnlyError):
        CredentialHistory.objects.filter(pk=row.pk).delete()
    with pytest.raises(AppendOnlyError):
        CredentialHistory.objects.all().delete()
    assert CredentialHistory.objects.get(pk=row.pk).credential_name == "Order server"


@pytest.mark.parametrize(
    "sql",
    [
        f"UPDATE {TABLE} SET credential_name = 'tampered'",
        f"DELETE FROM {TABLE}",
    ],
)
def test_database_refuses_raw_update_and_delete(row, sql):
    assert_database_refuses(sql)
    assert CredentialHistory.objects.get(pk=row.pk).credential_name == "Order server"


def test_database_refuses_emptying_the_table(row):
    assert_database_refuses(emptying_statement(TABLE))
    assert CredentialHistory.objects.filter(pk=row.pk).exists()


def test_inserts_are_allowed_by_the_triggers(team, manager, row):
    record_history(
        team,
        actor=manager,
        action=CredentialHistory.Action.VIEWED,
        credential_type=CredentialType.SERVICE_ACCOUNT,
        credential_name="Order server",
        credential_identifier="acme-rewards-sa-abcdefgh",
    )
    assert CredentialHistory.objects.filter(team=team).count() == 2


def test_admin_shows_history_read_only(row):
    staff = UserFactory(is_staff=True, is_superuser=True)
    client = client_for(staff)
    changelist = client.get("/admin/credentials/credentialhistory/")
    assert changelist.status_code == HTTPStatus.OK
    assert "Order server" in changelist.content.decode()
    assert "Add credential history entry" not in changelist.content.decode()
    change = client.get(f"/admin/credentials/credentialhistory/{row.pk}/change/")
    assert change.status_code == HTTPStatus.OK
    assert 'name="_save"' not in change.content.decode()
    assert client.post(f"/admin/credentials/credentialhistory/{row.pk}/change/", {}).status_code == (
        HTTPStatus.FORBIDDEN
    )
    assert client.post(
        f"/admin/credentials/credentialhistory/{row.pk}/delete/", {"post": "yes"}
    ).status_code == (HTTPStatus.FORBIDDEN)
    assert client.get("/admin/credentials/credentialhistory/add/").status_code == HTTPStatus.FORBIDDEN
    assert CredentialHistory.objects.filter(pk=row.pk).exists()


def test_deleting_the_actor_keeps_history_and_snapshots(row, manager):
    manager.delete()
    kept = CredentialHistory.objects.get(pk=row.pk)
    assert kept.actor_name == "Manny Manager"
    assert kept.actor_email == "manager@example.com"


def test_an_unsupported_database_is_refused_not_left_without_triggers():
    from django.core.exceptions import ImproperlyConfigured

    from tests.append_only import TRIGGER_MIGRATIONS, _migration

    for table in TRIGGER_MIGRATIONS:
        migration = _migration(table)
        for which in (migration.INSTALL, migration.DROP):
            with pytest.raises(ImproperlyConfigured, match="mysql is not supported"):
                migration.statements("mysql", which)
