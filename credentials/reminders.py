"""Rotation and usage reminders by email, and the reads they share with the pages.

Once a day `manage.py enqueue_credential_reminders` (cron) enqueues `send_credential_reminders`
on Django's tasks framework, and the django-tasks-db worker (`manage.py db_worker`) runs it.
For every team it emails the members with the Tango API keys: Manage permission about each
active credential that reaches the team's maximum credential age within 30 days, again
within 7 days (credentials.policy has the rule), and each one unused for 90 days.

A reminder is remembered (CredentialReminder) before it is sent, and the database takes it
once per credential, kind and due day: a second run, or a second worker, sends nothing
again. One that could not be sent is forgotten, so the next day's run tries it again.
Emails name the team and the credential and link to its page; they never hold a secret
(identifiers only: a client ID, a username, an API key's visible prefix).
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from django.conf import settings
from django.core import mail
from django.db import IntegrityError, transaction
from django.db.models import CharField, Count, F, Q, QuerySet, Value
from django.db.models.expressions import Combinable
from django.db.models.functions import Coalesce, NullIf
from django.tasks import task
from django.template.loader import render_to_string
from django.utils import timezone

from credentials import policy
from credentials.models import (
    ApiKey,
    CredentialReminder,
    CredentialType,
    OAuthClient,
    ReminderKind,
    ServiceAccount,
)
from credentials.pages import credential_url
from tango_portal.models import Membership, Team

logger = logging.getLogger(__name__)

# The periods the Unused credentials page offers, and the one it shows first.
UNUSED_PERIODS = (30, 90)
DEFAULT_UNUSED_DAYS = 90
# A credential unused this long gets a reminder.
REMINDER_UNUSED_DAYS = 90
# Reminders before a credential reaches its maximum age, the nearer first.
ROTATION_REMINDERS = ((ReminderKind.ROTATION_IN_7_DAYS, 7), (ReminderKind.ROTATION_IN_30_DAYS, 30))
EARLIEST_ROTATION_REMINDER = max(days for _, days in ROTATION_REMINDERS)

CREDENTIAL_TYPES = (CredentialType.OAUTH_CLIENT, CredentialType.SERVICE_ACCOUNT, CredentialType.API_KEY)


# --- Reads ---------------------------------------------------------------------------


def _live(credential_type: CredentialType, *, team: Team) -> QuerySet[Any]:
    """The team's active credentials of one type: accounts not deleted, the rest not deactivated."""
    if credential_type == CredentialType.SERVICE_ACCOUNT:
        return ServiceAccount.objects.active().filter(team=team)
    if credential_type == CredentialType.OAUTH_CLIENT:
        return OAuthClient.objects.active().filter(team=team)
    return ApiKey.objects.active().filter(team=team)


def _name_and_identifier(credential_type: CredentialType) -> tuple[Combinable, str]:
    """How each type reads in a list: its name (the display name, else the identifier) and
    its identifier (username, client ID, or an API key's visible prefix)."""
    if credential_type == CredentialType.SERVICE_ACCOUNT:
        return Coalesce(NullIf(F("display_name"), Value("")), F("username")), "username"
    if credential_type == CredentialType.OAUTH_CLIENT:
        return Coalesce(NullIf(F("display_name"), Value("")), F("client_id")), "client_id"
    return F("platform_name"), "prefix"


def _rows(credential_type: CredentialType, *, team: Team) -> QuerySet[Any, dict[str, Any]]:
    """The team's active credentials of one type as rows of the same columns whatever the type
    (pk, created_at, last_used_at, credential_type, name, identifier), ready for a union."""
    name, identifier = _name_and_identifier(credential_type)
    return (
        _live(credential_type, team=team)
        .order_by()
        .values(
            "pk",
            "created_at",
            "last_used_at",
            credential_type=Value(credential_type.value, output_field=CharField()),
            name=name,
            identifier=F(identifier),
        )
    )


def _unused_since(since: datetime) -> Q:
    """Not used since `since`; a credential never used counts once it was created before then."""
    return Q(last_used_at__lte=since) | Q(last_used_at__isnull=True, created_at__lte=since)


def unused_credentials(
    *,
    team: Team,
    days: int,
    credential_type: CredentialType | None = None,
    now: datetime | None = None,
) -> QuerySet[Any, dict[str, Any]]:
    """The team's active credentials (of every type, or of `credential_type`) not used for
    `days` days, as rows (see `_rows`): never used first, then the longest unused.

    One query (a UNION ALL of the three types) per page, and one for the count.
    """
    since = (now or timezone.now()) - timedelta(days=days)
    types = [kind for kind in CREDENTIAL_TYPES if credential_type in (None, kind)]
    first, *rest = [_rows(kind, team=team).filter(_unused_since(since)) for kind in types]
    rows = first.union(*rest, all=True) if rest else first
    return rows.order_by(F("last_used_at").asc(nulls_first=True), "created_at", "credential_type", "pk")


def due_for_rotation_counts(*, team: Team, now: datetime | None = None) -> dict[str, int]:
    """How many of the team's active credentials are due for rotation, by credential type
    (types with none left out). One query; none when the team has no maximum age."""
    before = policy.created_before_is_due(team, now=now)
    if before is None:
        return {}
    first, *rest = [
        _live(kind, team=team)
        .filter(created_at__lte=before)
        .order_by()
        .values(credential_type=Value(kind.value, output_field=CharField()))
        .annotate(count=Count("pk"))
        for kind in CREDENTIAL_TYPES
    ]
    counts = first.union(*rest, all=True).order_by()
    return {row["credential_type"]: row["count"] for row in counts if row["count"]}


def manage_recipients(*, team: Team) -> list[str]:
    """The email addresses of the team's active members with the Tango API keys: Manage permission."""
    return list(
        Membership.objects.filter(
            team=team,
            api_keys_permission=Membership.ApiKeysPermission.MANAGE,
            user__is_active=True,
        )
        .exclude(user__email="")
        .order_by("user__email")
        .values_list("user__email", flat=True)
    )


# --- What to remind of -----------------------------------------------------------------


@dataclass(frozen=True)
class Reminder:
    """One reminder to send: which credential, why, and the day it is (or becomes) due."""

    kind: ReminderKind
    credential_type: CredentialType
    credential: OAuthClient | ServiceAccount | ApiKey
    # When it reaches the maximum age, or its 90th day without use.
    due_at: datetime

    @property
    def due_on(self) -> date:
        return timezone.localdate(self.due_at)

    @property
    def key(self) -> tuple[str, int, str, date]:
        """What CredentialReminder is unique on."""
        return (self.credential_type.value, self.credential.pk, self.kind.value, self.due_on)


def reminders_for_team(*, team: Team, now: datetime) -> list[Reminder]:
    """Every reminder the team's credentials call for at `now`, sent or not.

    A credential due within 7 days calls for the 7-day reminder (and no longer the 30-day
    one); within 30 days, the 30-day one; one already due, none. One unused for 90 days
    calls for the unused reminder of that spell without use.
    """
    reminders: list[Reminder] = []
    already_due = policy.created_before_is_due(team, now=now)
    due_soon = policy.created_before_is_due(team, now=now + timedelta(days=EARLIEST_ROTATION_REMINDER))
    if already_due is not None and due_soon is not None:
        for credential_type in CREDENTIAL_TYPES:
            live = _live(credential_type, team=team)
            for credential in live.filter(created_at__gt=already_due, created_at__lte=due_soon):
                due_at = policy.due_at(team, credential)
                if due_at is None:  # pragma: no cover - the team has a maximum age here
                    continue
                kind = next(kind for kind, days in ROTATION_REMINDERS if due_at - now <= timedelta(days=days))
                reminders.append(Reminder(kind, credential_type, credential, due_at))
    unused = timedelta(days=REMINDER_UNUSED_DAYS)
    for credential_type in CREDENTIAL_TYPES:
        for credential in _live(credential_type, team=team).filter(_unused_since(now - unused)):
            since = credential.last_used_at or credential.created_at
            reminders.append(
                Reminder(ReminderKind.UNUSED_FOR_90_DAYS, credential_type, credential, since + unused)
            )
    return reminders


# --- The email -----------------------------------------------------------------------


def _name(credential: OAuthClient | ServiceAccount | ApiKey) -> str:
    """The name the lists show: the display name (else the identifier), or an API key's platform."""
    return credential.platform_name if isinstance(credential, ApiKey) else str(credential)


def _identifier(credential: OAuthClient | ServiceAccount | ApiKey) -> str:
    if isinstance(credential, ServiceAccount):
        return credential.username
    if isinstance(credential, OAuthClient):
        return credential.client_id
    return f"{credential.prefix}\N{HORIZONTAL ELLIPSIS}"


_NOUNS = {
    CredentialType.SERVICE_ACCOUNT: "service account",
    CredentialType.OAUTH_CLIENT: "OAuth client credential",
    CredentialType.API_KEY: "API key",
}


def reminder_email(*, team: Team, reminder: Reminder, recipient: str, now: datetime) -> mail.EmailMessage:
    """The reminder as a plain-text email to one recipient."""
    credential = reminder.credential
    context = {
        "team": team,
        "kind": reminder.kind.value,
        "type_label": CredentialType(reminder.credential_type).label,
        "noun": _NOUNS[reminder.credential_type],
        "name": _name(credential),
        "identifier": _identifier(credential),
        "due_on": reminder.due_on,
        # Whole days, rounded up: sent as the 30th day before begins, it says 30.
        "days_left": max(math.ceil((reminder.due_at - now) / timedelta(days=1)), 0),
        "max_age_days": team.max_credential_age_days,
        "last_used_at": credential.last_used_at,
        "created_at": credential.created_at,
        "unused_days": REMINDER_UNUSED_DAYS,
        "url": credential_url(reminder.credential_type, credential.pk),
        "environment_label": settings.PORTAL_ENVIRONMENT.capitalize(),
    }
    subject = render_to_string("emails/credential_reminder_subject.txt", context)
    return mail.EmailMessage(
        # A header is one line: a name cannot start a second one.
        subject=" ".join(subject.split()),
        body=render_to_string("emails/credential_reminder.txt", context),
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[recipient],
    )


# --- Sending ---------------------------------------------------------------------------


def _claim(team: Team, reminder: Reminder, now: datetime) -> CredentialReminder | None:
    """Record the reminder as sent, or None when it was already (by an earlier run or another worker)."""
    try:
        with transaction.atomic():
            return CredentialReminder.objects.create(
                team=team,
                credential_type=reminder.credential_type,
                credential_pk=reminder.credential.pk,
                kind=reminder.kind,
                due_on=reminder.due_on,
                sent_at=now,
            )
    except IntegrityError:
        return None


def send_team_reminders(*, team: Team, now: datetime) -> tuple[int, int]:
    """Send the team's reminders not sent before; (reminders sent, reminders that failed).

    A team without Manage users is skipped and nothing is recorded, so that whoever is
    given the permission later still hears of what is due.
    """
    recipients = manage_recipients(team=team)
    if not recipients:
        return 0, 0
    sent_before = set(
        CredentialReminder.objects.filter(team=team).values_list(
            "credential_type", "credential_pk", "kind", "due_on"
        )
    )
    sent = failed = 0
    for reminder in reminders_for_team(team=team, now=now):
        if reminder.key in sent_before:
            continue
        claimed = _claim(team, reminder, now)
        if claimed is None:
            continue
        messages = [reminder_email(team=team, reminder=reminder, recipient=to, now=now) for to in recipients]
        try:
            mail.mailers.default.send_messages(messages)
        except OSError:
            # Forget it, so that tomorrow's run tries again.
            CredentialReminder.objects.filter(pk=claimed.pk).delete()
            logger.exception(
                "Could not send the %s reminder of %s #%s (team %s)",
                reminder.kind.value,
                reminder.credential_type.value,
                reminder.credential.pk,
                team.slug,
            )
            failed += 1
        else:
            sent += 1
    return sent, failed


def _teams() -> list[Team]:
    """The teams with at least one Manage user: only they have anyone to remind."""
    return list(
        Team.objects.filter(memberships__api_keys_permission=Membership.ApiKeysPermission.MANAGE)
        .distinct()
        .order_by("pk")
    )


@task()
def send_credential_reminders() -> dict[str, int]:
    """The daily check: every team's reminders not sent before. Run by the worker."""
    now = timezone.now()
    sent = failed = 0
    for team in _teams():
        team_sent, team_failed = send_team_reminders(team=team, now=now)
        sent += team_sent
        failed += team_failed
    logger.info("Credential reminders: %s sent, %s failed", sent, failed)
    return {"sent": sent, "failed": failed}
