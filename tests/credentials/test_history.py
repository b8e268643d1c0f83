"""credentials/history.py: the one writer of history."""

from __future__ import annotations

import inspect

import pytest
from django.apps import apps
from django.db import connection, transaction
from django.db.transaction import TransactionManagementError

from credentials import history
from credentials.models import CredentialHistory, CredentialType
from tango_portal.core import chain
from tango_portal.core.chain import lock_team
from tests.conftest import record_history

pytestmark = pytest.mark.django_db


def _record(team, actor, **overrides):
    fields = {
        "actor": actor,
        "action": CredentialHistory.Action.CREATED,
        "credential_type": CredentialType.OAUTH_CLIENT,
        "credential_name": "Main client",
        "credential_identifier": "tng_sbx_ci_0123",
    }
    fields.update(overrides)
    return record_history(team, **fields)


def test_record_snapshots_actor_name_and_email(team, manager):
    row = _record(team, manager, ip_address="198.51.100.4")
    manager.full_name = "Renamed Later"
    manager.save()
    row.refresh_from_db()
    assert (row.actor_name, row.actor_email) == ("Manny Manager", "manager@example.com")
    assert row.actor_id == manager.pk
    assert row.ip_address == "198.51.100.4"


def test_rows_chain_per_team(team, other_team, manager, outsider):
    first = _record(team, manager)
    _record(other_team, outsider)
    second = _record(team, manager, action=CredentialHistory.Action.VIEWED)
    assert first.prev_hash == ""
    assert second.prev_hash == first.row_hash
    assert second.row_hash == chain.row_hash(CredentialHistory.objects.get(pk=second.pk))


def test_unknown_action_or_type_is_refused(team, manager):
    with pytest.raises(ValueError, match="action"):
        _record(team, manager, action="renamed")
    with pytest.raises(ValueError, match="credential type"):
        _record(team, manager, credential_type="password")
    assert not CredentialHistory.objects.exists()


def test_record_has_no_parameter_that_could_carry_a_secret():
    parameters = set(inspect.signature(history.record).parameters)
    assert parameters == {
        "team",
        "actor",
        "action",
        "credential_type",
        "credential_name",
        "credential_identifier",
        "ip_address",
        "details",
    }


def test_chain_append_is_the_only_code_that_builds_chained_rows():
    """Rows of credential history and team activity are built and saved in chain.append
    alone, and each record's writer is the only caller for its record."""
    import pathlib
    import re

    root = pathlib.Path(__file__).resolve().parents[2]
    records = [model.__name__ for model in apps.get_models() if issubclass(model, chain.ChainedRecord)]
    assert set(records) == {"CredentialHistory", "TeamActivity"}
    building = re.compile(
        rf"\b({'|'.join(records)})(\(|\.objects\.(create|bulk_create|get_or_create|update_or_create)\b)"
    )
    appending = re.compile(r"\bchain\.append\(|from tango_portal\.core\.chain import [^\n]*\bappend\b")
    builders, appenders, scanned = [], set(), set()
    for path in [*root.glob("credentials/**/*.py"), *root.glob("tango_portal/**/*.py")]:
        if "migrations" in path.parts:
            continue
        name = str(path.relative_to(root))
        scanned.add(name)
        text = re.sub(rf"class ({'|'.join(records)})\(", "", path.read_text())
        if building.search(text) and name != "tango_portal/core/chain.py":
            builders.append(name)
        if appending.search(text):
            appenders.add(name)
    # The scan really read the modules that write (an empty glob would find no builders).
    assert {"credentials/services.py", "credentials/models.py", "tango_portal/members/services.py"} <= scanned
    assert builders == []
    assert appenders == {"credentials/history.py", "tango_portal/members/activity.py"}


def test_record_refuses_a_team_it_was_not_given_locked(team, manager):
    with transaction.atomic(), pytest.raises(TypeError, match="needs the team locked"):
        history.record(
            team=team,
            actor=manager,
            action=CredentialHistory.Action.VIEWED,
            credential_type=CredentialType.API_KEY,
            credential_name="Shop",
            credential_identifier="tng_sbx_ak_0001",
        )
    assert not CredentialHistory.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_a_lock_outlives_neither_its_transaction_nor_a_rolled_back_block(team, manager):
    fields = {
        "actor": manager,
        "action": CredentialHistory.Action.VIEWED,
        "credential_type": CredentialType.API_KEY,
        "credential_name": "Shop",
        "credential_identifier": "tng_sbx_ak_0001",
    }
    with pytest.raises(TransactionManagementError, match="needs a transaction"):
        lock_team(team)
    with transaction.atomic():
        ended = lock_team(team)
    with pytest.raises(TransactionManagementError, match="block that locked it has ended"):
        history.record(team=ended, **fields)
    with transaction.atomic():
        with transaction.atomic():
            # A rollback to this savepoint would release the row lock.
            inner = lock_team(team)
        with pytest.raises(TransactionManagementError, match="block that locked it has ended"):
            history.record(team=inner, **fields)
        assert history.record(team=lock_team(team), **fields).prev_hash == ""
    assert CredentialHistory.objects.count() == 1


def test_history_indexes_exist():
    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, CredentialHistory._meta.db_table)
    assert "history_team_newest" in constraints
    assert "history_team_type_newest" in constraints
    assert constraints["history_team_type_newest"]["columns"][:2] == ["team_id", "credential_type"]
