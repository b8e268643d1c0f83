"""verify_history catches edits and removals made behind the triggers' back."""

from __future__ import annotations

import pytest
from django.core.management import CommandError, call_command

from credentials.models import CredentialHistory
from tango_portal.core import chain
from tests.credentials.conftest import as_dba, viewed_api_keys
from tests.history_keys import history_keys  # noqa: F401

# These check the hash chains; the signed checkpoints have tests/credentials/test_history_signatures.py.
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("history_keys")]

TABLE = CredentialHistory._meta.db_table


def _without_triggers(sql, params):
    """What an attacker with SQL access does: drop the trigger, then write."""
    as_dba(TABLE, [(sql, params)])


def test_intact_chains_verify(team, other_team, manager, outsider, capsys):
    viewed_api_keys(team, manager, 5)
    viewed_api_keys(other_team, outsider, 3)
    call_command("verify_history")
    out = capsys.readouterr().out
    assert (
        f"OK      {team.slug}: credential history, 5 rows, head {chain.head(CredentialHistory, team.pk)}"
        in out
    )
    assert f"OK      {other_team.slug}: credential history, 3 rows" in out


def test_edited_row_is_caught_and_named(team, manager, capsys):
    rows = viewed_api_keys(team, manager, 5)
    _without_triggers(
        f"UPDATE {TABLE} SET actor_email = %s WHERE id = %s", ["someone@else.example", rows[2].pk]
    )
    with pytest.raises(CommandError, match=f"row id {rows[2].pk}"):
        call_command("verify_history", "--team", team.slug)
    assert "was changed" in capsys.readouterr().out


def test_deleted_row_is_caught_at_its_successor(team, manager, capsys):
    rows = viewed_api_keys(team, manager, 5)
    _without_triggers(f"DELETE FROM {TABLE} WHERE id = %s", [rows[1].pk])
    with pytest.raises(CommandError, match=f"row id {rows[2].pk}"):
        call_command("verify_history")
    assert "removed" in capsys.readouterr().out


def test_a_broken_team_does_not_hide_behind_a_filter(team, other_team, manager, outsider):
    rows = viewed_api_keys(team, manager, 2)
    viewed_api_keys(other_team, outsider, 2)
    _without_triggers(f"UPDATE {TABLE} SET credential_name = %s WHERE id = %s", ["x", rows[0].pk])
    call_command("verify_history", "--team", other_team.slug)
    with pytest.raises(CommandError):
        call_command("verify_history", "--team", team.slug)


def test_unknown_team_is_an_error():
    with pytest.raises(CommandError, match="No team"):
        call_command("verify_history", "--team", "nope")


def test_an_exported_head_catches_removal_of_the_newest_rows(team, manager, capsys):
    rows = viewed_api_keys(team, manager, 4)
    exported_head = chain.head(CredentialHistory, team.pk)
    call_command("verify_history", "--team", team.slug, "--expect-head", exported_head)
    assert "expected head" in capsys.readouterr().out
    # Remove the newest row: the chain that is left is still internally consistent...
    _without_triggers(f"DELETE FROM {TABLE} WHERE id = %s", [rows[-1].pk])
    call_command("verify_history", "--team", team.slug)
    # ...but the head the auditor kept from the export is gone.
    with pytest.raises(CommandError, match="broken"):
        call_command("verify_history", "--team", team.slug, "--expect-head", exported_head)
    assert "no longer contains the expected head" in capsys.readouterr().out


def test_expect_head_needs_a_team():
    with pytest.raises(CommandError, match="needs --team"):
        call_command("verify_history", "--expect-head", "abc")
