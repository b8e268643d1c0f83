"""The only writer of CredentialHistory.

Callers pass what happened to which credential and who did it; this module snapshots
the actor's name and email, chains the row to the team's previous one, and never takes
a secret (there is no parameter that could carry one).
"""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from credentials.models import CredentialHistory, CredentialType
from tango_portal.core import chain
from tango_portal.models import Team, User

# The fields a row's hash covers, in order. Changing this list breaks every chain.
CHAINED_FIELDS = (
    "team_id",
    "occurred_at",
    "action",
    "credential_type",
    "credential_name",
    "credential_identifier",
    "actor_id",
    "actor_name",
    "actor_email",
    "ip_address",
    "details",
    "prev_hash",
)


def row_hash(row: CredentialHistory) -> str:
    return chain.hash_of_row(row, CHAINED_FIELDS)


def chain_head(team: Team) -> str:
    """The hash of the team's newest history row ("" for an empty history)."""
    return chain.head(CredentialHistory, team.pk)


def record(
    *,
    team: Team,
    actor: User | None,
    action: CredentialHistory.Action,
    credential_type: CredentialType,
    credential_name: str,
    credential_identifier: str,
    ip_address: str | None = None,
    details: dict[str, str] | None = None,
) -> CredentialHistory:
    """Append one history row for the team, inside the caller's transaction.

    The team row is locked for the rest of the transaction so that concurrent writers
    of one team's history chain one after the other (PostgreSQL; SQLite serialises
    all writers already).
    """
    if action not in CredentialHistory.Action.values:
        raise ValueError(f"Unknown history action {action!r}.")
    if credential_type not in CredentialType.values:
        raise ValueError(f"Unknown credential type {credential_type!r}.")
    with transaction.atomic():
        Team.objects.select_for_update().only("id").get(pk=team.pk)
        previous = chain_head(team)
        # Microseconds are kept, but stored through the database's own precision.
        occurred_at = timezone.now()
        row = CredentialHistory(
            team=team,
            occurred_at=occurred_at,
            action=action,
            credential_type=credential_type,
            credential_name=credential_name[:200],
            credential_identifier=credential_identifier,
            actor=actor,
            actor_name=(actor.full_name if actor else "")[:150],
            actor_email=(actor.email if actor else "")[:254],
            ip_address=ip_address,
            details=details or {},
            prev_hash=previous,
        )
        row.row_hash = row_hash(row)
        row.save()
        return row
