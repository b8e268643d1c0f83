"""Helpers the credential history tests share."""

from __future__ import annotations

from django.db import connection

from credentials.models import CredentialHistory, CredentialType
from tango_portal.models import Team, User
from tests.append_only import drop_triggers, install_triggers
from tests.conftest import record_history


def viewed_api_keys(team: Team, actor: User, count: int) -> list[CredentialHistory]:
    """`count` history rows of `actor` viewing API keys Key 0, Key 1, ... of `team`."""
    return [
        record_history(
            team,
            actor=actor,
            action=CredentialHistory.Action.VIEWED,
            credential_type=CredentialType.API_KEY,
            credential_name=f"Key {i}",
            credential_identifier=f"tng_sbx_ak_{i:06d}",
        )
        for i in range(count)
    ]


def as_dba(table: str, statements: list[tuple[str, list[object]]]) -> None:
    """What someone with SQL access does: drop the append-only triggers of `table`, then write."""
    drop_triggers(table)
    try:
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            for sql, params in statements:
                cursor.execute(sql, params)
    finally:
        install_triggers(table)
