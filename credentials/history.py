"""Credential history: its one writer, and the columns people read it in.

Callers pass what happened to which credential and who did it, under the team lock their
transaction took; `record` snapshots the actor's name and email and appends the row to the
team's chain (tango_portal/core/chain.py). It never takes a secret: there is no parameter
that could carry one.
"""

from __future__ import annotations

from credentials.models import CredentialHistory, CredentialType, HistoryAction
from tango_portal.core import chain
from tango_portal.core.chain import LockedTeam
from tango_portal.models import Team, User

# What a row's hash covers, in column order (bench/history.py loads rows in that order).
CHAINED_FIELDS = CredentialHistory.CHAINED_FIELDS

# (name, heading), in table order: the table, its "Columns" picker, the exports and each
# user's saved choice all use these. Names appear in URLs (?sort=) and in saved preferences.
COLUMNS: tuple[tuple[str, str], ...] = (
    ("action", "Action"),
    ("credential_name", "Credential name"),
    ("date", "Date"),
    ("actor_name", "User's name"),
    ("actor_email", "User's email"),
    ("credential_identifier", "Client ID/API key"),
    ("credential_type", "Credential type"),
)
COLUMN_NAMES = tuple(name for name, _ in COLUMNS)


def record(
    *,
    team: LockedTeam[Team],
    actor: User | None,
    action: HistoryAction,
    credential_type: CredentialType,
    credential_name: str,
    credential_identifier: str,
    ip_address: str | None = None,
    details: dict[str, str] | None = None,
) -> CredentialHistory:
    """Append one history row for the team, in the transaction that locked it (`lock_team`).

    An unknown action or credential type raises ValueError and writes nothing.
    """
    return chain.append(
        CredentialHistory,
        team=team,
        action=action,
        credential_type=credential_type,
        credential_name=credential_name[:200],
        credential_identifier=credential_identifier,
        **chain.snapshot("actor", actor),
        ip_address=ip_address,
        details=details or {},
    )
