"""The only writer of TeamActivity, the team's record of membership and permission changes.

Callers say what happened, who did it and to whom, under the team lock their transaction
took; `record` snapshots both people's names and emails and appends the row to the team's
chain (tango_portal/core/chain.py), as credentials/history.py does for credential history.
"""

from __future__ import annotations

from datetime import UTC, datetime

from tango_portal.core import chain
from tango_portal.core.chain import LockedTeam
from tango_portal.models import Membership, Team, TeamActivity, User

Action = TeamActivity.Action


def record(
    *,
    team: LockedTeam[Team],
    actor: User | None,
    action: TeamActivity.Action,
    subject: User | None,
    from_value: str = "",
    to_value: str = "",
) -> TeamActivity:
    """Append one activity row for the team, in the transaction that locked it (`lock_team`).

    An unknown action raises ValueError and writes nothing.
    """
    return chain.append(
        TeamActivity,
        team=team,
        action=action,
        **chain.snapshot("actor", actor),
        **chain.snapshot("subject", subject),
        from_value=from_value[:60],
        to_value=to_value[:60],
    )


def verify(team: Team) -> bool:
    """Whether the team's activity record is an unbroken chain."""
    return chain.verify(TeamActivity, team.pk).ok


# --- How stored values read ----------------------------------------------------

_LABELS: dict[str, str] = {
    **{value: str(label) for value, label in Membership.Role.choices},
    **{value: str(label) for value, label in Membership.ApiKeysPermission.choices},
}


def membership_value(role: str, api_keys_permission: str) -> str:
    """How a whole membership is stored in from/to: `role/permission`, e.g. `member/none`."""
    return f"{role}/{api_keys_permission}"


# The maximum credential age as from/to stores it: the days, or this when there is none.
NO_MAXIMUM_AGE = "off"


def max_credential_age_value(days: int | None) -> str:
    """How a team's maximum credential age is stored in from/to: `90`, `180`, `365` or `off`."""
    return str(days) if days else NO_MAXIMUM_AGE


def describe_value(row: TeamActivity, value: str) -> str:
    """A stored from/to value as a person reads it."""
    if not value:
        return ""
    if row.action == Action.MAX_CREDENTIAL_AGE_CHANGED:
        return "Off" if value == NO_MAXIMUM_AGE else f"{value} days"
    if row.action == Action.LEAK_RESPONSE_CHANGED:
        return str(dict(Team.LeakResponse.choices).get(value, value))
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
