"""A team's rotation policy: how old a credential may grow before it is due for rotation.

The team's admin sets the maximum credential age (Team.max_credential_age_days: 90,
180 or 365 days, or none). A credential's age counts from its creation; it is *due for
rotation* from the day it reaches the maximum. One rule, used by the lists' badges, the
overview's summary and the reminders.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.utils import timezone

from credentials.models import ApiKey, OAuthClient, ServiceAccount
from tango_portal.models import Team

Rotatable = OAuthClient | ServiceAccount | ApiKey


def max_age(team: Team) -> timedelta | None:
    """The team's maximum credential age, or None when it has none."""
    days = team.max_credential_age_days
    return timedelta(days=days) if days else None


def due_at(team: Team, credential: Rotatable) -> datetime | None:
    """When `credential` is (or was) due for rotation under its team's policy; None without one."""
    limit = max_age(team)
    return credential.created_at + limit if limit is not None else None


def is_due(team: Team, credential: Rotatable, *, now: datetime | None = None) -> bool:
    """Whether `credential` has reached its team's maximum credential age."""
    due = due_at(team, credential)
    return due is not None and due <= (now or timezone.now())


def created_before_is_due(team: Team, *, now: datetime | None = None) -> datetime | None:
    """Credentials created before this moment are due: for filtering a queryset by
    `created_at__lte` in one query. None when the team has no maximum age."""
    limit = max_age(team)
    return (now or timezone.now()) - limit if limit is not None else None
