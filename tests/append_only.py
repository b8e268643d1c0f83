"""Checking that the database itself refuses to change an append-only table."""

from __future__ import annotations

import pytest
from django.db import DatabaseError, connection, transaction


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
