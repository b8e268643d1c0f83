"""credentials/history.py: the one writer of history."""

from __future__ import annotations

import inspect

import pytest
from django.db import connection

from credentials import history
from credentials.models import CredentialHistory, CredentialType

pytestmark = pytest.mark.django_db


def _record(team, actor, **overrides):
    fields = {
        "team": team,
        "actor": actor,
        "action": CredentialHistory.Action.CREATED,
        "credential_type": CredentialType.OAUTH_CLIENT,
        "credential_name": "Main client",
        "credential_identifier": "tng_sbx_ci_0123",
    }
    fields.update(overrides)
    return history.record(**fields)


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
    assert second.row_hash == history.row_hash(CredentialHistory.objects.get(pk=second.pk))


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


def test_history_is_the_only_module_that_writes_history():
    import pathlib

    root = pathlib.Path(__file__).resolve().parents[2]
    writers = []
    scanned = set()
    for path in [*root.glob("credentials/**/*.py"), *root.glob("tango_portal/**/*.py")]:
        if "migrations" in path.parts or path.name == "history.py":
            continue
        scanned.add(str(path.relative_to(root)))
        text = path.read_text().replace("class CredentialHistory(", "")
        if "CredentialHistory(" in text or "CredentialHistory.objects.create" in text:
            writers.append(str(path.relative_to(root)))
    # The scan really read the modules that write (an empty glob would find no writers).
    assert {"credentials/services.py", "credentials/models.py", "tango_portal/members/services.py"} <= scanned
    assert writers == []


def test_history_indexes_exist():
    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, CredentialHistory._meta.db_table)
    assert "history_team_newest" in constraints
    assert "history_team_type_newest" in constraints
    assert constraints["history_team_type_newest"]["columns"][:2] == ["team_id", "credential_type"]
