"""Signed checkpoints: a history rewritten and rehashed by someone with SQL access but
without the signing key is reported BROKEN; the verifier needs only the public key."""

from __future__ import annotations

import base64
import json

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.core.management import CommandError, call_command

from credentials.models import CredentialHistory
from tango_portal.core import chain
from tango_portal.core.append_only import AppendOnlyError
from tango_portal.models import ChainCheckpoint, TeamActivity
from tests.append_only import assert_database_refuses
from tests.conftest import record_activity
from tests.credentials.conftest import as_dba, viewed_api_keys
from tests.credentials.test_history_views import URL
from tests.history_keys import history_keys, key_settings  # noqa: F401

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("history_keys")]

CHECKPOINTS = ChainCheckpoint._meta.db_table


def _activity(team, actor, count):
    """`count` activity rows of `actor` changing their own permission from none to view."""
    change = {"action": TeamActivity.Action.PERMISSION_CHANGED, "from_value": "none", "to_value": "view"}
    return [record_activity(team, actor=actor, subject=actor, **change) for _ in range(count)]


# Each record, how to add rows, and the edit a database administrator would like to hide.
KINDS = {
    "credential history": (CredentialHistory, viewed_api_keys, "actor_email", "someone@else.example"),
    "team activity": (TeamActivity, _activity, "to_value", "manage"),
}


@pytest.fixture(params=list(KINDS))
def kind(request):
    return KINDS[request.param]


def _rewrite_and_rehash(record, team, row_id, column, value):
    """Change one row, then recompute every row's hash with the plain SHA-256 chain code."""
    names = record.CHAINED_FIELDS
    previous = chain.GENESIS
    statements = []
    for row in record.objects.filter(team=team).order_by("id").values("id", *names):
        if row["id"] == row_id:
            row[column] = value
        row["prev_hash"] = previous
        previous = chain.hash_of(row, names)
        statements.append(
            (
                f"UPDATE {record._meta.db_table} SET {column} = %s, prev_hash = %s, row_hash = %s "
                "WHERE id = %s",
                [row[column], row["prev_hash"], previous, row["id"]],
            )
        )
    as_dba(record._meta.db_table, statements)


def _verify(*args):
    call_command("verify_history", *args)


def test_untouched_history_and_activity_verify_with_their_checkpoints(
    team, other_team, manager, outsider, capsys
):
    viewed_api_keys(team, manager, 3)
    _activity(team, manager, 2)
    viewed_api_keys(other_team, outsider, 1)
    call_command("sign_history_checkpoints")
    viewed_api_keys(team, manager, 1)  # newer than the checkpoint: still fine

    _verify()

    out = capsys.readouterr().out
    assert f"OK      {team.slug}: credential history, 4 rows" in out
    assert "1 signed checkpoint(s) hold, signed up to row id" in out
    assert f"OK      {team.slug}: team activity, 2 rows" in out
    assert ChainCheckpoint.objects.filter(team=team).count() == 2


def test_a_full_recompute_without_the_key_is_broken_at_the_first_checkpoint_it_crosses(
    kind, team, manager, capsys
):
    record, add, column, value = kind
    rows = add(team, manager, 3)
    call_command("sign_history_checkpoints")
    first = ChainCheckpoint.objects.get(team=team, record=record._meta.label_lower)
    rows += add(team, manager, 2)
    call_command("sign_history_checkpoints")

    _rewrite_and_rehash(record, team, rows[1].pk, column, value)

    # The plain hash chain is consistent again: that is the attack.
    assert chain.verify(record, team.pk).ok
    capsys.readouterr()
    with pytest.raises(CommandError, match="broken"):
        _verify("--team", team.slug)
    out = capsys.readouterr().out
    label = record._meta.verbose_name_plural
    assert (
        f"BROKEN  {team.slug}: {label} checkpoint id {first.pk} (head row id {rows[2].pk}): "
        "the chain no longer passes through the head it signed"
    ) in out


def test_an_edit_after_a_checkpoint_is_named_by_the_next_one(kind, team, manager, capsys):
    record, add, column, value = kind
    rows = add(team, manager, 2)
    call_command("sign_history_checkpoints")
    rows += add(team, manager, 2)
    call_command("sign_history_checkpoints")
    second = ChainCheckpoint.objects.filter(team=team, record=record._meta.label_lower).latest("id")

    _rewrite_and_rehash(record, team, rows[3].pk, column, value)

    with pytest.raises(CommandError):
        _verify("--team", team.slug)
    assert f"checkpoint id {second.pk} (head row id {rows[3].pk})" in capsys.readouterr().out


def test_a_checkpoint_forged_with_another_key_is_broken(team, manager, capsys):
    rows = viewed_api_keys(team, manager, 3)
    call_command("sign_history_checkpoints")
    stored = ChainCheckpoint.objects.get(team=team, record="credentials.credentialhistory")
    _rewrite_and_rehash(CredentialHistory, team, rows[0].pk, "credential_name", "Renamed")
    # The administrator removes the honest checkpoint and signs the new head with a key of their own.
    as_dba(CHECKPOINTS, [(f"DELETE FROM {CHECKPOINTS} WHERE id = %s", [stored.pk])])
    forger = Ed25519PrivateKey.generate()
    new_head = chain.head_row(CredentialHistory, team.pk)
    unsigned = chain.SignedHead(
        "credentials.credentialhistory",
        team.pk,
        *new_head,
        stored.signed_at,
        chain.key_id(forger.public_key()),
        "",
    )
    forged = ChainCheckpoint.objects.create(
        record=unsigned.record,
        team=team,
        head_id=unsigned.head_id,
        head_hash=unsigned.head_hash,
        signed_at=unsigned.signed_at,
        key_id=unsigned.key_id,
        signature=base64.b64encode(forger.sign(unsigned.message())).decode(),
    )

    with pytest.raises(CommandError):
        _verify()
    assert (
        f"checkpoint id {forged.pk} (head row id {rows[-1].pk}): it names signing key"
        in capsys.readouterr().out
    )


def test_a_changed_signature_is_broken(team, manager, capsys):
    viewed_api_keys(team, manager, 2)
    call_command("sign_history_checkpoints")
    stored = ChainCheckpoint.objects.get(team=team, record="credentials.credentialhistory")
    signature = base64.b64decode(stored.signature)
    tampered = base64.b64encode(bytes([signature[0] ^ 1]) + signature[1:]).decode()
    as_dba(CHECKPOINTS, [(f"UPDATE {CHECKPOINTS} SET signature = %s WHERE id = %s", [tampered, stored.pk])])

    with pytest.raises(CommandError):
        _verify()
    assert "its signature does not verify" in capsys.readouterr().out


def test_checkpoints_kept_outside_catch_a_recompute_that_also_removed_the_stored_ones(
    team, manager, capsys, tmp_path
):
    rows = viewed_api_keys(team, manager, 3)
    call_command("sign_history_checkpoints", "--json")
    kept = tmp_path / "checkpoints.jsonl"
    kept.write_text(capsys.readouterr().out)
    _rewrite_and_rehash(CredentialHistory, team, rows[0].pk, "credential_name", "Renamed")
    as_dba(CHECKPOINTS, [(f"DELETE FROM {CHECKPOINTS}", [])])

    _verify("--team", team.slug)  # the database alone no longer knows
    assert "no signed checkpoint yet" in capsys.readouterr().out
    with pytest.raises(CommandError):
        _verify("--team", team.slug, "--checkpoints", str(kept))
    assert f"checkpoint at {kept}:1 (head row id {rows[-1].pk}): the chain no longer passes" in (
        capsys.readouterr().out
    )


def test_removing_the_newest_signed_rows_is_broken(team, manager, capsys):
    rows = viewed_api_keys(team, manager, 3)
    call_command("sign_history_checkpoints")
    table = CredentialHistory._meta.db_table
    as_dba(table, [(f"DELETE FROM {table} WHERE id = %s", [rows[-1].pk])])

    with pytest.raises(CommandError):
        _verify()
    assert "the newest rows were removed" in capsys.readouterr().out


def test_the_public_key_alone_verifies(settings, team, manager, capsys):
    viewed_api_keys(team, manager, 2)
    call_command("sign_history_checkpoints")
    settings.HISTORY_SIGNING_KEY = ""

    _verify()
    assert "1 signed checkpoint(s) hold" in capsys.readouterr().out


def test_without_a_verify_key_the_signatures_cannot_be_checked_and_it_says_so(
    settings, team, manager, capsys
):
    viewed_api_keys(team, manager, 2)
    call_command("sign_history_checkpoints")
    settings.HISTORY_VERIFY_KEY = ""

    with pytest.raises(CommandError, match=r"signatures cannot be checked.*HISTORY_VERIFY_KEY"):
        _verify()
    assert f"OK      {team.slug}: credential history, 2 rows" in capsys.readouterr().out


def test_a_malformed_verify_key_is_an_error(settings, team):
    settings.HISTORY_VERIFY_KEY = "not a key"
    with pytest.raises(CommandError, match="HISTORY_VERIFY_KEY must be a PEM Ed25519 key"):
        _verify()


def test_keys_can_come_from_files(settings, history_keys, tmp_path, team, manager, capsys):  # noqa: F811
    viewed_api_keys(team, manager, 1)
    values = key_settings(history_keys)
    (tmp_path / "signing").write_text(values["HISTORY_SIGNING_KEY"])
    (tmp_path / "verify.pem").write_text(values["HISTORY_VERIFY_KEY"])
    settings.HISTORY_SIGNING_KEY = settings.HISTORY_VERIFY_KEY = ""
    settings.HISTORY_SIGNING_KEY_FILE = str(tmp_path / "signing")
    settings.HISTORY_VERIFY_KEY_FILE = str(tmp_path / "verify.pem")

    call_command("sign_history_checkpoints")
    _verify()
    assert "1 signed checkpoint(s) hold" in capsys.readouterr().out


def test_signing_needs_the_signing_key(settings, team, manager):
    viewed_api_keys(team, manager, 1)
    settings.HISTORY_SIGNING_KEY = ""
    with pytest.raises(CommandError, match="No history signing key"):
        call_command("sign_history_checkpoints")
    assert not ChainCheckpoint.objects.exists()


def test_signing_an_unchanged_head_again_adds_no_checkpoint(team, manager):
    viewed_api_keys(team, manager, 1)
    call_command("sign_history_checkpoints")
    call_command("sign_history_checkpoints")
    assert ChainCheckpoint.objects.filter(team=team).count() == 1


def test_checkpoints_are_append_only(team, manager):
    viewed_api_keys(team, manager, 1)
    call_command("sign_history_checkpoints")
    stored = ChainCheckpoint.objects.get()
    with pytest.raises(AppendOnlyError):
        stored.delete()
    with pytest.raises(AppendOnlyError):
        ChainCheckpoint.objects.update(head_hash="x")
    assert_database_refuses(f"UPDATE {CHECKPOINTS} SET head_hash = 'x'")
    assert_database_refuses(f"DELETE FROM {CHECKPOINTS}")


def _verifies(checkpoint, private):
    """The checkpoint's signature holds for the public key (checked without the portal's code)."""
    signed = chain.SignedHead.from_json(checkpoint, source="export")
    pem = private.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    public = serialization.load_pem_public_key(pem)
    public.verify(base64.b64decode(checkpoint["signature"]), signed.message())  # raises if not
    return True


def test_an_export_carries_a_checkpoint_that_verifies_with_the_public_key(
    manager_client,
    team,
    manager,
    history_keys,  # noqa: F811
    tmp_path,
    capsys,
):
    rows = viewed_api_keys(team, manager, 3)
    head = chain.head_row(CredentialHistory, team.pk)

    response = manager_client.get(URL, {"_export": "json"})
    data = json.loads(b"".join(response.streaming_content))
    checkpoint = data["checkpoint"]
    assert (checkpoint["head_id"], checkpoint["head_hash"]) == head
    assert checkpoint["team_id"] == team.pk and checkpoint["record"] == "credentials.credentialhistory"
    assert _verifies(checkpoint, history_keys)
    assert json.loads(response["X-History-Checkpoint"]) == checkpoint

    csv_text = b"".join(manager_client.get(URL, {"_export": "csv"}).streaming_content).decode()
    lines = csv_text.splitlines()
    assert lines[-2] == f"# chain_head={head[1]}"
    assert json.loads(lines[-1].removeprefix("# checkpoint=")) == checkpoint  # the same head, signed once
    assert ChainCheckpoint.objects.filter(team=team).count() == 1

    exported = tmp_path / "history.json"
    exported.write_text(json.dumps(data))
    _verify("--team", team.slug, "--checkpoints", str(exported))
    table = CredentialHistory._meta.db_table
    as_dba(CHECKPOINTS, [(f"DELETE FROM {CHECKPOINTS}", [])])
    as_dba(table, [(f"DELETE FROM {table} WHERE id = %s", [rows[-1].pk])])
    capsys.readouterr()
    with pytest.raises(CommandError):
        _verify("--team", team.slug, "--checkpoints", str(exported))
    assert f"checkpoint in {exported} (head row id {rows[-1].pk})" in capsys.readouterr().out


def test_an_export_without_a_signing_key_has_no_checkpoint(settings, manager_client, team, manager):
    viewed_api_keys(team, manager, 1)
    settings.HISTORY_SIGNING_KEY = ""
    response = manager_client.get(URL, {"_export": "json"})
    assert json.loads(b"".join(response.streaming_content))["checkpoint"] is None
    assert "X-History-Checkpoint" not in response
