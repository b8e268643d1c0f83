"""Every read of API credentials, already scoped to one team.

A view passes the current membership's team; an object of another team is simply
not in the queryset, so asking for it is a plain 404.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta
from typing import NamedTuple

from django.conf import settings
from django.db import connection
from django.db.models import Count, Q, QuerySet
from django.db.models.functions import TruncDate
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.utils import timezone

from credentials import secrets as credential_secrets
from credentials.models import (
    AccessToken,
    ApiKey,
    CredentialAddress,
    CredentialHistory,
    CredentialType,
    CredentialUsageDay,
    HistoryColumnPreference,
    LeakReport,
    OAuthClient,
    PendingReveal,
    Rotation,
    ServiceAccount,
)
from tango_portal.models import Team, User


def _active[C: (ServiceAccount, OAuthClient, ApiKey)](model: type[C], *, team: Team) -> QuerySet[C]:
    """The team's live credentials of one type, newest first, each with its creator joined."""
    return (
        model.objects.active().filter(team=team).select_related("created_by").order_by("-created_at", "-id")
    )


def service_accounts_active(*, team: Team) -> QuerySet[ServiceAccount]:
    return _active(ServiceAccount, team=team)


def oauth_clients_active(*, team: Team) -> QuerySet[OAuthClient]:
    return _active(OAuthClient, team=team)


def api_keys_active(*, team: Team) -> QuerySet[ApiKey]:
    return _active(ApiKey, team=team)


def _get[C: (ServiceAccount, OAuthClient, ApiKey)](
    model: type[C], *, team: Team, pk: int, include_inactive: bool
) -> C:
    """One of the team's credentials by pk, with its creator; a deleted or deactivated one
    only when asked for. Another team's, like a missing one, is a 404."""
    queryset = model.objects.filter(team=team).select_related("created_by")
    if not include_inactive:
        queryset = queryset.active()
    return get_object_or_404(queryset, pk=pk)


def service_account_get(*, team: Team, pk: int, include_deleted: bool = False) -> ServiceAccount:
    return _get(ServiceAccount, team=team, pk=pk, include_inactive=include_deleted)


def oauth_client_get(*, team: Team, pk: int, include_deactivated: bool = False) -> OAuthClient:
    return _get(OAuthClient, team=team, pk=pk, include_inactive=include_deactivated)


def api_key_get(*, team: Team, pk: int, include_deactivated: bool = False) -> ApiKey:
    return _get(ApiKey, team=team, pk=pk, include_inactive=include_deactivated)


def _deactivated[C: (OAuthClient, ApiKey)](model: type[C], *, team: Team) -> QuerySet[C]:
    """The team's deactivated credentials of one type, most recently deactivated first."""
    return (
        model.objects.filter(team=team, deactivated_at__isnull=False)
        .select_related("created_by")
        .order_by("-deactivated_at", "-id")
    )


def oauth_clients_deactivated(*, team: Team) -> QuerySet[OAuthClient]:
    return _deactivated(OAuthClient, team=team)


def api_keys_deactivated(*, team: Team) -> QuerySet[ApiKey]:
    return _deactivated(ApiKey, team=team)


def oauth_client_live_token_count(*, client: OAuthClient) -> int:
    """How many unrevoked, unexpired access tokens were issued through this client."""
    return AccessToken.objects.filter(
        client=client, revoked_at__isnull=True, expires_at__gt=timezone.now()
    ).count()


def history_for_team(*, team: Team) -> QuerySet[CredentialHistory]:
    """The team's credential history, newest first (served by history_team_newest)."""
    return CredentialHistory.objects.filter(team=team).order_by("-occurred_at", "-id")


def history_for_credential(*, team: Team, identifier: str) -> QuerySet[CredentialHistory]:
    return history_for_team(team=team).filter(credential_identifier=identifier)


def service_account_deletion(*, account: ServiceAccount) -> CredentialHistory | None:
    """The history row of `account`'s deletion (when and by whom), or None if it is live.

    Deleting records `deleted` (`deactivated` before that verb existed), once; the row
    names the actor by snapshot, so it still says who after that user is gone.
    """
    if not account.is_deleted:
        return None
    return (
        history_for_credential(team=account.team, identifier=account.username)
        .filter(action__in=[CredentialHistory.Action.DELETED, CredentialHistory.Action.DEACTIVATED])
        .first()
    )


def history_chain_head(*, team: Team) -> tuple[int, str] | None:
    """The id and `row_hash` of the team's last history row (highest id), or None.

    That hash seals the team's whole chain: an export that carries it can be checked
    against the database later (`verify_history`).
    """
    head = CredentialHistory.objects.filter(team=team).order_by("-id").values_list("id", "row_hash").first()
    return (head[0], head[1]) if head else None


def history_exists(*, team: Team) -> bool:
    """Whether the team has any credential history at all (for the empty state)."""
    return CredentialHistory.objects.filter(team=team).exists()


# The history columns whose distinct values a search matches first (filters.HistoryFilter);
# each leads an index (team, column, -occurred_at, -id).
HISTORY_DISTINCT_COLUMNS = frozenset({"credential_name", "actor_name", "actor_email"})


def history_distinct_values(*, team: Team, column: str, limit: int) -> list[str]:
    """The distinct values of `column` in the team's history, in index order, at most `limit`.

    A recursive query hops through the (team, column, ...) index from one value to the
    next, so the cost follows how many names (or users) the team has used, not how
    many rows it has: about 10 ms for 300 names among a million rows.
    """
    if column not in HISTORY_DISTINCT_COLUMNS:
        raise ValueError(f"No index serves distinct values of {column!r}.")
    table = connection.ops.quote_name(CredentialHistory._meta.db_table)
    name = connection.ops.quote_name(column)
    sql = f"""
        WITH RECURSIVE found(value) AS (
            SELECT (SELECT {name} FROM {table}
                    WHERE team_id = %s ORDER BY {name} LIMIT 1)
            UNION ALL
            SELECT (SELECT later.{name} FROM {table} later
                    WHERE later.team_id = %s AND later.{name} > found.value
                    ORDER BY later.{name} LIMIT 1)
            FROM found WHERE found.value IS NOT NULL
        )
        SELECT value FROM found WHERE value IS NOT NULL LIMIT %s
    """  # noqa: S608 - the only interpolations are quoted names from the set above
    with connection.cursor() as cursor:
        cursor.execute(sql, [team.pk, team.pk, limit])
        return [row[0] for row in cursor.fetchall()]


def history_hidden_columns(*, user: User) -> list[str]:
    """The Credential history columns this user chose to hide (none by default)."""
    hidden = (
        HistoryColumnPreference.objects.filter(user=user).values_list("hidden_columns", flat=True).first()
    )
    return [name for name in hidden or [] if isinstance(name, str)]


# --- The token endpoint and the API (credentials/oauth) --------------------------
# These are looked up by what a machine presents, not by a signed-in user's team:
# the presented secret itself is the scope.


def oauth_client_for_token(*, client_id: str) -> OAuthClient | None:
    """The client credentials with this client ID, deactivated ones included, with their team."""
    return OAuthClient.objects.select_related("team").filter(client_id=client_id).first()


def service_account_for_token(*, team: Team, username: str) -> ServiceAccount | None:
    """A live service account of `team` by username; another team's is simply absent."""
    return ServiceAccount.objects.active().filter(team=team, username=username).first()


class LiveToken(NamedTuple):
    """A live access token and what it was issued to, as the API needs it."""

    client_pk: int
    client_id: str
    team_id: int
    team_name: str
    team_slug: str
    service_account: str | None
    service_account_pk: int | None
    audience: str
    scope: str
    issued_at: datetime
    expires_at: datetime
    # The DPoP key thumbprint the token is bound to, or "" for a bearer token.
    jkt: str


# The one query every API call makes, and the one raw SELECT in the project: under load
# the ORM spent as long building and compiling this four-table filter as the database
# spent answering it (bench/load.py; the README's load section has the profile). The
# rule is written only here: the token unrevoked and unexpired, its client active, its
# team's OAuth on, its service account (if any) not deleted. Parameters are bound by the
# driver.
_BEARER_LOOKUP_SQL = """
    SELECT token.client_id, client.client_id, team.id, team.name, team.slug, account.username,
           account.id, token.audience, token.scope, token.issued_at, token.expires_at, token.jkt
      FROM credentials_accesstoken token
      JOIN credentials_oauthclient client ON client.id = token.client_id
      JOIN tango_portal_team team ON team.id = client.team_id
      LEFT JOIN credentials_serviceaccount account ON account.id = token.service_account_id
     WHERE token.token_digest = %s
       AND token.revoked_at IS NULL
       AND token.expires_at > %s
       AND client.deactivated_at IS NULL
       AND team.oauth_enabled
       AND account.deleted_at IS NULL
"""


def _aware(value: datetime) -> datetime:
    # PostgreSQL answers timestamptz in UTC; SQLite keeps naive UTC text (USE_TZ).
    return value if timezone.is_aware(value) else value.replace(tzinfo=UTC)


def live_token_by_value(*, token: str, now: datetime | None = None) -> LiveToken | None:
    """The access token with this value if it is live: unrevoked, unexpired, its client
    active, its team's OAuth on and its service account (if any) not deleted.

    One query by the token's digest (unique, indexed): every API call makes it, and a
    revoked token fails on the very next call because nothing caches the answer.
    """
    moment = AccessToken._meta.get_field("expires_at").get_db_prep_value(now or timezone.now(), connection)
    with connection.cursor() as cursor:
        cursor.execute(_BEARER_LOOKUP_SQL, [credential_secrets.digest(token), moment])
        row = cursor.fetchone()
    if row is None:
        return None
    live = LiveToken(*row)
    return live._replace(issued_at=_aware(live.issued_at), expires_at=_aware(live.expires_at))


def api_key_by_value(*, key: str) -> ApiKey | None:
    """The legacy API key with this value (looked up by digest), with its team."""
    return ApiKey.objects.select_related("team").filter(digest=credential_secrets.digest(key)).first()


def pending_reveal_get(
    *, user: User, team: Team, credential_type: CredentialType, credential_pk: int, token: str
) -> PendingReveal | None:
    """The secret held under `token` for this credential of `team`, if it is still held.

    None once it was shown, refused or purged. Another user's hold is a plain 404, and
    stays held: only its creator may open it.
    """
    pending = PendingReveal.objects.filter(
        token=token, team=team, credential_type=credential_type, credential_pk=credential_pk
    ).first()
    if pending is not None and pending.user_id != user.pk:
        raise Http404("No such page.")
    return pending


# --- Usage evidence ------------------------------------------------------------------

EVIDENCE_DAYS = 90


class UsageEvidence(NamedTuple):
    """What a credential's page and its delete confirmation say of its use."""

    last_used_at: datetime | None
    # The newest first; the first is where the last use came from.
    addresses: list[CredentialAddress]
    # EVIDENCE_DAYS days, the oldest first, each with its count of `series`.
    days: list[tuple[date, int]]
    # What `days` counts: "Tokens issued" (clients, service accounts) or "Requests" (API keys).
    series: str

    @property
    def last_address(self) -> CredentialAddress | None:
        return self.addresses[0] if self.addresses else None

    @property
    def total(self) -> int:
        return sum(count for _, count in self.days)

    def used_within(self, now: datetime | None = None) -> str | None:
        """'24 hours', '7 days' or '30 days': the shortest of these that saw the last use;
        'more than 30 days' before that, or None if never used."""
        if self.last_used_at is None:
            return None
        since = (now or timezone.now()) - self.last_used_at
        for label, span in (("24 hours", timedelta(days=1)), ("7 days", timedelta(days=7))):
            if since <= span:
                return label
        return "30 days" if since <= timedelta(days=30) else "more than 30 days"


def usage_evidence(
    credential: OAuthClient | ServiceAccount | ApiKey, *, now: datetime | None = None
) -> UsageEvidence:
    """Last use, the addresses seen and a count per day for the last EVIDENCE_DAYS days.

    Three queries: the addresses, and either the tokens issued (every token is a row of
    AccessToken) or the requests counted (credentials.usage).
    """
    kind = {
        OAuthClient: CredentialType.OAUTH_CLIENT,
        ServiceAccount: CredentialType.SERVICE_ACCOUNT,
        ApiKey: CredentialType.API_KEY,
    }[type(credential)]
    today = (now or timezone.now()).astimezone(UTC).date()
    first = today - timedelta(days=EVIDENCE_DAYS - 1)
    addresses = list(
        CredentialAddress.objects.filter(credential_type=kind, credential_pk=credential.pk).order_by(
            "-last_seen_at", "-id"
        )[: settings.USAGE_ADDRESSES_KEPT]
    )
    counts: dict[date, int]
    if kind == CredentialType.API_KEY:
        series = "Requests"
        counts = dict(
            CredentialUsageDay.objects.filter(
                credential_type=kind, credential_pk=credential.pk, day__gte=first
            ).values_list("day", "requests")
        )
    else:
        series = "Tokens issued"
        field = "client" if kind == CredentialType.OAUTH_CLIENT else "service_account"
        start = datetime.combine(first, datetime.min.time(), tzinfo=UTC)
        counts = dict(
            AccessToken.objects.filter(**{field: credential}, issued_at__gte=start)
            .annotate(day=TruncDate("issued_at", tzinfo=UTC))
            .values("day")
            .annotate(n=Count("id"))
            .values_list("day", "n")
        )
    days = [
        (first + timedelta(days=i), counts.get(first + timedelta(days=i), 0)) for i in range(EVIDENCE_DAYS)
    ]
    return UsageEvidence(credential.last_used_at, addresses, days, series)


def open_rotation(credential: OAuthClient | ApiKey) -> Rotation | None:
    """The rotation under way that `credential` is the old or the new one of, if any."""
    kind = CredentialType.OAUTH_CLIENT if isinstance(credential, OAuthClient) else CredentialType.API_KEY
    return (
        Rotation.objects.filter(team_id=credential.team_id, credential_type=kind, finished_at__isnull=True)
        .filter(Q(old_pk=credential.pk) | Q(new_pk=credential.pk))
        .first()
    )


# --- Leaked-secret reports (credentials.scanning) -------------------------------------

_LEAK_CREDENTIAL_TYPES: dict[type, CredentialType] = {
    ServiceAccount: CredentialType.SERVICE_ACCOUNT,
    OAuthClient: CredentialType.OAUTH_CLIENT,
    ApiKey: CredentialType.API_KEY,
}


def open_leak_reports(credential: OAuthClient | ServiceAccount | ApiKey) -> QuerySet[LeakReport]:
    """The reports of `credential`'s secrets found in public code that no Manage user has
    acknowledged yet, newest first: what its page shows as a red banner."""
    return LeakReport.objects.filter(
        team_id=credential.team_id,
        credential_type=_LEAK_CREDENTIAL_TYPES[type(credential)],
        credential_pk=credential.pk,
        acknowledged_at__isnull=True,
    ).order_by("-reported_at", "-id")


def leak_report_get(*, team: Team, pk: int) -> LeakReport:
    """One of the team's leak reports; another team's, like a missing one, is a 404."""
    return get_object_or_404(LeakReport, team=team, pk=pk)


def leak_report_credential(report: LeakReport) -> OAuthClient | ServiceAccount | ApiKey:
    """The credential a leak report is about, deleted or deactivated as it may be now."""
    model: type[OAuthClient] | type[ServiceAccount] | type[ApiKey] = next(
        model for model, kind in _LEAK_CREDENTIAL_TYPES.items() if kind == report.credential_type
    )
    return model.objects.get(team_id=report.team_id, pk=report.credential_pk)


def credentials_named(
    *, team_id: int, names: Iterable[tuple[str, str]]
) -> dict[tuple[str, str], ServiceAccount | OAuthClient | ApiKey]:
    """The team's credentials that history rows name, by (credential type, identifier):
    one query per type named, whatever the number of rows."""
    wanted: dict[str, set[str]] = {}
    for credential_type, identifier in names:
        wanted.setdefault(credential_type, set()).add(identifier)
    found: dict[tuple[str, str], ServiceAccount | OAuthClient | ApiKey] = {}
    if identifiers := wanted.get(CredentialType.SERVICE_ACCOUNT):
        for account in ServiceAccount.objects.filter(team_id=team_id, username__in=identifiers):
            found[(CredentialType.SERVICE_ACCOUNT, account.username)] = account
    if identifiers := wanted.get(CredentialType.OAUTH_CLIENT):
        for client in OAuthClient.objects.filter(team_id=team_id, client_id__in=identifiers):
            found[(CredentialType.OAUTH_CLIENT, client.client_id)] = client
    if identifiers := wanted.get(CredentialType.API_KEY):
        for key in ApiKey.objects.filter(team_id=team_id, prefix__in=identifiers):
            found[(CredentialType.API_KEY, key.prefix)] = key
    return found
