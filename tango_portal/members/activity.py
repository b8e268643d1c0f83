"""The only writer of TeamActivity, the team's record of membership and permission changes.

Callers say what happened, who did it and to whom; this module snapshots both people's
names and emails and chains the row to the team's previous one, as credentials/history.py
does for credential history.
"""

from __future__ import annotations

from datetime import UTC, datetime

from django.db import transaction
from django.utils import timezone

from tango_portal.core import chain
from tango_portal.models import Membership, Team, TeamActivity, User

Action = TeamActivity.Action

# The fields a row's hash covers, in order. Changing this list breaks every chain.
CHAINED_FIELDS = (
    "team_id",
    "occurred_at",
    "action",
    "actor_id",
    "actor_name",
    "actor_email",
    "subject_id",
    "subject_name",
    "subject_email",
    "from_value",
    "to_value",
    "prev_hash",
)


def row_hash(row: TeamActivity) -> str:
    return chain.hash_of_row(row, CHAINED_FIELDS)


def record(
    *,
    team: Team,
    actor: User | None,
    action: TeamActivity.Action,
    subject: User | None,
    from_value: str = "",
    to_value: str = "",
) -> TeamActivity:
    """Append one activity row for the team, inside the caller's transaction.

    The team row is locked for the rest of the transaction, so concurrent writers of
    one team's record chain one after the other (PostgreSQL; SQLite serialises all
    writers already).
    """
    if action not in Action.values:
        raise ValueError(f"Unknown team activity action {action!r}.")
    with transaction.atomic():
        Team.objects.select_for_update().only("id").get(pk=team.pk)
        row = TeamActivity(
            team=team,
            occurred_at=timezone.now(),
            action=action,
            actor=actor,
            actor_name=(actor.full_name if actor else "")[:150],
            actor_email=(actor.email if actor else "")[:254],
            subject=subject,
            subject_name=(subject.full_name if subject else "")[:150],
            subject_email=(subject.email if subject else "")[:254],
            from_value=from_value[:60],
            to_value=to_value[:60],
            prev_hash=chain.head(TeamActivity, team.pk),
        )
        row.row_hash = row_hash(row)
        row.save()
        return row


def verify(team: Team) -> bool:
    """Whether the team's activity record is an unbroken chain."""
    report = chain.verify_chain(
        model=TeamActivity, team_id=team.pk, fields=CHAINED_FIELDS, record="team activity"
    )
    return report.ok


# --- How stored values read ----------------------------------------------------

_LABELS: dict[str, str] = {
    **{value: str(label) for value, label in Membership.Role.choices},
    **{value: str(label) for value, label in Membership.ApiKeysPermission.choices},
}


def membership_value(role: str, api_keys_permission: str) -> str:
    """How a whole membership is stored in from/to: `role/permission`, e.g. `member/none`."""
    return f"{role}/{api_keys_permission}"


def describe_value(row: TeamActivity, value: str) -> str:
    """A stored from/to value as a person reads it."""
    if not value:
        return ""
    if row.action in (Action.MEMBER_ADDED, Action.MEMBER_REMOVED) and "/" in value:
        role, _, permission = value.partition("/")
        return f"{_LABELS.get(role, role)}, Tango API keys: {_LABELS.get(permission, permission)}"
    if row.action == Action.INVITATION_CREATED:
        try:
            expires = datetime.fromisoformat(value)
        except ValueError:
            return value
        return f"Expires {expires.astimezone(UTC):%Y-%m-%d %H:%M} UTC"
    return _LABELS.get(value, value)
