"""Checking that the database itself refuses to change an append-only table."""

from __future__ import annotations

from importlib import import_module
from types import ModuleType

import pytest
from django.db import DatabaseError, connection, transaction

# Each append-only table and the migration that made it so: tests use its own SQL, so
# they check the triggers a deployment has.
TRIGGER_MIGRATIONS = {
    "credentials_credentialhistory": "credentials.migrations.0003_history_append_only",
    "tango_portal_teamactivity": "tango_portal.migrations.0003_team_activity_append_only",
    "tango_portal_chaincheckpoint": "tango_portal.migrations.0004_chain_checkpoints",
}


def _migration(table: str) -> ModuleType:
    return import_module(TRIGGER_MIGRATIONS[table])


def _run(statements: list[str]) -> None:
    with connection.cursor() as cursor:
        for statement in statements:
            cursor.execute(statement)


def install_triggers(table: str) -> None:
    """Put the append-only triggers of `table` in place, as its migration does."""
    migration = _migration(table)
    _run(migration.statements(connection.vendor, migration.INSTALL))


def drop_triggers(table: str) -> None:
    """Remove them, as someone with SQL access could."""
    migration = _migration(table)
    _run(migration.statements(connection.vendor, migration.DROP))


def assert_database_refuses(sql: str) -> None:
    """`sql` fails with the append-only triggers' error (and is rolled back)."""
    with (
        pytest.raises(DatabaseError, match="append-only"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(sql)


def emptying_statement(table: str) -> str:
    """The statement that empties `table` wholesale on this database.

    PostgreSQL's TRUNCATE skips row triggers, so it has a statement trigger of its own;
    this test transaction's deferred foreign-key checks are settled first, since they
    would block TRUNCATE anyway. SQLite has no TRUNCATE, and its truncate optimisation
    of a bare DELETE is off when triggers exist.
    """
    if connection.vendor != "postgresql":
        return f"DELETE FROM {table} WHERE 1"
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    return f"TRUNCATE {table}"
