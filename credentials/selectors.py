"""Every read of API credentials, already scoped to one team.

A view passes the current membership's team; an object of another team is simply
not in the queryset, so asking for it is a plain 404.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, NamedTuple

from django.db import DEFAULT_DB_ALIAS, connection, connections
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import FilteredRelation, Model, Q, QuerySet
from django.shortcuts import get_object_or_404
from django.utils import timezone

from credentials import secrets as credential_secrets
from credentials.models import (
    AccessToken,
    ApiKey,
    CredentialHistory,
    HistoryColumnPreference,
    OAuthClient,
    ServiceAccount,
)
from tango_portal.db.postgresql.base import NOT_SENT
from tango_portal.db.postgresql.base import DatabaseWrapper as PostgreSQLWrapper
from tango_portal.models import Membership, Team, User


def service_accounts_active(*, team: Team) -> QuerySet[ServiceAccount]:
    return (
        ServiceAccount.objects.active()
        .filter(team=team)
        .select_related("created_by")
        .order_by("-created_at", "-id")
    )


def service_account_get(*, team: Team, pk: int, include_deleted: bool = False) -> ServiceAccount:
    queryset = ServiceAccount.objects.filter(team=team).select_related("created_by")
    if not include_deleted:
        queryset = queryset.active()
    return get_object_or_404(queryset, pk=pk)


def oauth_clients_active(*, team: Team) -> QuerySet[OAuthClient]:
    return (
        OAuthClient.objects.active()
        .filter(team=team)
        .select_related("created_by")
        .order_by("-created_at", "-id")
    )


def oauth_client_get(*, team: Team, pk: int, include_deactivated: bool = False) -> OAuthClient:
    queryset = OAuthClient.objects.filter(team=team).select_related("created_by")
    if not include_deactivated:
        queryset = queryset.active()
    return get_object_or_404(queryset, pk=pk)


def oauth_clients_deactivated(*, team: Team) -> QuerySet[OAuthClient]:
    """The team's deactivated client credentials, most recently deactivated first."""
    return (
        OAuthClient.objects.filter(team=team, deactivated_at__isnull=False)
        .select_related("created_by")
        .order_by("-deactivated_at", "-id")
    )


def oauth_client_live_token_count(*, client: OAuthClient) -> int:
    """How many unrevoked, unexpired access tokens were issued through this client."""
    return AccessToken.objects.filter(
        client=client, revoked_at__isnull=True, expires_at__gt=timezone.now()
    ).count()


def api_keys_deactivated(*, team: Team) -> QuerySet[ApiKey]:
    """The team's deactivated API keys, most recently deactivated first."""
    return (
        ApiKey.objects.filter(team=team, deactivated_at__isnull=False)
        .select_related("created_by")
        .order_by("-deactivated_at", "-id")
    )


def api_keys_active(*, team: Team) -> QuerySet[ApiKey]:
    return (
        ApiKey.objects.active().filter(team=team).select_related("created_by").order_by("-created_at", "-id")
    )


def api_key_get(*, team: Team, pk: int, include_deactivated: bool = False) -> ApiKey:
    queryset = ApiKey.objects.filter(team=team).select_related("created_by")
    if not include_deactivated:
        queryset = queryset.active()
    return get_object_or_404(queryset, pk=pk)


def history_for_team(*, team: Team) -> QuerySet[CredentialHistory]:
    """The team's credential history, newest first (served by history_team_newest)."""
    return CredentialHistory.objects.filter(team=team).order_by("-occurred_at", "-id")


def history_for_credential(*, team: Team, identifier: str) -> QuerySet[CredentialHistory]:
    return history_for_team(team=team).filter(credential_identifier=identifier)


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


def history_credential_names(*, team: Team, limit: int) -> list[str]:
    """The distinct credential names in the team's history, in index order, at most `limit`.

    A recursive query hops through the (team, credential_name, ...) index from one name
    to the next, so the cost follows how many names the team has used, not how many
    rows it has: about 10 ms for 300 names among a million rows.
    """
    table = connection.ops.quote_name(CredentialHistory._meta.db_table)
    sql = f"""
        WITH RECURSIVE names(name) AS (
            SELECT (SELECT credential_name FROM {table}
                    WHERE team_id = %s ORDER BY credential_name LIMIT 1)
            UNION ALL
            SELECT (SELECT later.credential_name FROM {table} later
                    WHERE later.team_id = %s AND later.credential_name > names.name
                    ORDER BY later.credential_name LIMIT 1)
            FROM names WHERE names.name IS NOT NULL
        )
        SELECT name FROM names WHERE name IS NOT NULL LIMIT %s
    """  # noqa: S608 - the only interpolation is the quoted table name
    with connection.cursor() as cursor:
        cursor.execute(sql, [team.pk, team.pk, limit])
        return [row[0] for row in cursor.fetchall()]


def history_hidden_columns(*, user: User) -> list[str]:
    """The Credential history columns this user chose to hide (none by default)."""
    hidden = (
        HistoryColumnPreference.objects.filter(user=user).values_list("hidden_columns", flat=True).first()
    )
    return [name for name in hidden or [] if isinstance(name, str)]


def team_admins(*, team: Team) -> QuerySet[Membership]:
    return (
        Membership.objects.filter(team=team, role=Membership.Role.ADMIN)
        .select_related("user")
        .order_by("user__full_name", "user__email")
    )


# --- The token endpoint and the API (credentials/oauth) --------------------------
# These are looked up by what a machine presents, not by a signed-in user's team:
# the presented secret itself is the scope.


def _only_row[M: Model](queryset: QuerySet[M]) -> M | None:
    # A lookup by a unique value: no ORDER BY to compile (these run on every token request).
    return next(iter(queryset.order_by()[:1]), None)


def service_account_for_token(*, team: Team, username: str) -> ServiceAccount | None:
    """A live service account of `team` by username; another team's is simply absent."""
    return _only_row(ServiceAccount.objects.active().filter(team=team, username=username))


# The two lookups every API request and every token request make. Their SQL is
# compiled by the ORM once per database and run without it: compiling a join per
# request costs more than the rest of the request (bench/token.py measures it).
# On PostgreSQL each is also a prepared statement of the connection, since planning
# the join took four times as long as running it; on SQLite it runs on the sqlite3
# connection itself (`_first_row_on_sqlite`).


@dataclass(frozen=True)
class _CompiledLookup:
    name: str
    params: tuple[object, ...]
    # As the ORM compiled it (%s placeholders), for Django's cursor.
    sql: str
    # On SQLite: the same with sqlite3's own placeholders (?), for its connection.
    qmark_sql: str
    # On PostgreSQL: the statement to PREPARE ($1, $2, ...) and the EXECUTE that runs it.
    prepared_sql: str
    execute_sql: str


_FORMAT_PLACEHOLDER = re.compile(r"(?<!%)%s")


def _compile(name: str, queryset: QuerySet[Any]) -> _CompiledLookup:
    sql, params = queryset.query.sql_with_params()
    numbered = iter(range(1, len(params) + 1))
    return _CompiledLookup(
        name=name,
        params=tuple(params),
        sql=sql,
        # As Django's SQLite cursor converts it on every execute.
        qmark_sql=_FORMAT_PLACEHOLDER.sub("?", sql).replace("%%", "%"),
        prepared_sql=_FORMAT_PLACEHOLDER.sub(lambda _match: f"${next(numbered)}", sql),
        execute_sql=f"EXECUTE {name}({', '.join(['%s'] * len(params))})",
    )


def _postgresql() -> PostgreSQLWrapper | None:
    """The current connection if it is the project's PostgreSQL backend."""
    # `connection` stands for this one; looked up directly, it is one lookup, not two.
    wrapper = connections[DEFAULT_DB_ALIAS]
    return wrapper if isinstance(wrapper, PostgreSQLWrapper) else None


def lookups_can_go_ahead() -> bool:
    """Whether the database takes lookups sent ahead (the project's PostgreSQL backend)."""
    return _postgresql() is not None


def _lookup_params(lookup: _CompiledLookup, values: dict[str, object]) -> list[Any]:
    """The lookup's parameters with its placeholders replaced by `values`."""
    return [values.get(param, param) if isinstance(param, str) else param for param in lookup.params]


def _as_text(params: list[Any]) -> list[str | None]:
    """Each parameter in PostgreSQL's text input form, as a statement sent ahead passes them."""
    return [_text_input(param) for param in params]


def _text_input(param: object) -> str | None:
    if param is None:
        return None
    if isinstance(param, bool):
        return "true" if param else "false"
    return str(param)


def _run_lookup(lookup: _CompiledLookup, values: dict[str, object]) -> tuple[Any, ...] | None:
    """Run a compiled lookup with its placeholder parameters replaced by `values`; the first row.

    On PostgreSQL it is a prepared statement of the connection (planning the join took
    four times as long as running it); if the same lookup was sent ahead
    (`_send_lookup_ahead`), its rows are collected instead of running it again. On
    SQLite it runs on the sqlite3 connection, unless queries are being observed.
    """
    params = _lookup_params(lookup, values)
    database = connections[DEFAULT_DB_ALIAS]
    if isinstance(database, PostgreSQLWrapper):
        rows = database.collect_ahead(lookup.name, _as_text(params))
        if rows is not NOT_SENT:
            return rows[0] if rows else None
        database.prepare(lookup.name, lookup.prepared_sql)
        with database.cursor() as cursor:
            cursor.execute(lookup.execute_sql, params)
            return cursor.fetchone()
    if database.vendor == "sqlite" and not database.queries_logged and not database.execute_wrappers:
        return _first_row_on_sqlite(database, lookup.qmark_sql, params)
    with database.cursor() as cursor:
        cursor.execute(lookup.sql, params)
        return cursor.fetchone()


def _first_row_on_sqlite(
    database: BaseDatabaseWrapper, sql: str, params: list[Any]
) -> tuple[Any, ...] | None:
    """The first row of `sql` run on the sqlite3 connection itself.

    Django's cursor wrapper rewrites the placeholders of the statement on every call
    and, with its checks, cost twice what SQLite takes to run these joins. The checks
    that matter are kept: a health check, a transaction already broken, and database
    errors raised as Django's. Whenever queries are observed (debug logging, a
    captured query count, an execute wrapper), `_run_lookup` uses Django's cursor.
    """
    database.close_if_health_check_failed()
    database.ensure_connection()
    database.validate_no_broken_transaction()
    with database.wrap_database_errors:
        row: tuple[Any, ...] | None = database.connection.execute(sql, params).fetchone()
    return row


def _send_lookup_ahead(lookup: _CompiledLookup, values: dict[str, object]) -> Callable[[], None] | None:
    """On PostgreSQL, start the lookup now and let the request go on; `_run_lookup`
    collects its row. Answers the function that ends it (and drops it, if nothing
    collected it), or None if it was not sent: never on SQLite, where a query is a
    function call and not a round trip."""
    postgresql = _postgresql()
    if postgresql is None:
        return None
    params = _as_text(_lookup_params(lookup, values))
    if not postgresql.send_ahead(lookup.name, params):
        # Not prepared in this session yet (or no connection yet): prepare, then send.
        postgresql.prepare(lookup.name, lookup.prepared_sql)
        if not postgresql.send_ahead(lookup.name, params):
            return None
    return postgresql.discard_ahead


_CLIENT_ID_PLACEHOLDER = "client-id-placeholder"
_USERNAME_PLACEHOLDER = "username-placeholder"
_CLIENT_FIELDS = tuple(field.attname for field in OAuthClient._meta.concrete_fields)
_TEAM_FIELDS = tuple(field.attname for field in Team._meta.concrete_fields)
_ACCOUNT_FIELDS = tuple(field.attname for field in ServiceAccount._meta.concrete_fields)


@functools.cache
def _token_request_lookup(alias: str) -> _CompiledLookup:
    queryset = (
        OAuthClient.objects.using(alias)
        .annotate(
            live_account=FilteredRelation(
                "team__service_accounts",
                condition=Q(
                    team__service_accounts__username=_USERNAME_PLACEHOLDER,
                    team__service_accounts__deleted_at__isnull=True,
                ),
            )
        )
        .filter(client_id=_CLIENT_ID_PLACEHOLDER)
        .values_list(
            *_CLIENT_FIELDS,
            *(f"team__{name}" for name in _TEAM_FIELDS),
            *(f"live_account__{name}" for name in _ACCOUNT_FIELDS),
        )
        .order_by()[:1]
    )
    return _compile("tango_token_request", queryset)


def token_request_credentials(
    *, client_id: str, username: str | None
) -> tuple[OAuthClient | None, ServiceAccount | None]:
    """What a token request names, in one query: the client credentials with this
    client ID (deactivated included, with its team) and, if `username` is given, the
    live service account of the same team with that username.

    Another team's account, or a deleted one, is simply absent, as in
    service_account_for_token.
    """
    row = _run_lookup(
        _token_request_lookup(connection.alias),
        # Usernames are never empty: "" matches no account.
        {_CLIENT_ID_PLACEHOLDER: client_id, _USERNAME_PLACEHOLDER: username or ""},
    )
    if row is None:
        return None, None
    client_end = len(_CLIENT_FIELDS)
    team_end = client_end + len(_TEAM_FIELDS)
    client = OAuthClient.from_db(connection.alias, _CLIENT_FIELDS, _converted(OAuthClient, row[:client_end]))
    client.team = Team.from_db(connection.alias, _TEAM_FIELDS, _converted(Team, row[client_end:team_end]))
    account_row = row[team_end:]
    account = None
    if account_row[0] is not None:
        account = ServiceAccount.from_db(
            connection.alias, _ACCOUNT_FIELDS, _converted(ServiceAccount, account_row)
        )
        account.team = client.team
    return client, account


def _converted(model: type[Model], values: tuple[Any, ...]) -> list[Any]:
    # Without a queryset there are no ORM converters (SQLite hands back naive
    # datetimes): apply each field's own, as a queryset would.
    columns = _field_converters(model, connection.alias)
    return [
        functools.reduce(lambda value, convert: convert(value, column, connection), converters, value)
        for (column, converters), value in zip(columns, values, strict=True)
    ]


@functools.cache
def _field_converters(model: type[Model], alias: str) -> list[tuple[Any, list[Any]]]:
    ops = connections[alias].ops
    columns = [field.get_col(model._meta.db_table) for field in model._meta.concrete_fields]
    return [
        (column, [*ops.get_db_converters(column), *column.get_db_converters(connections[alias])])
        for column in columns
    ]


class LiveToken(NamedTuple):
    """A live access token and what it was issued to, as the API needs it (made on
    every API call: a named tuple costs a quarter of a frozen dataclass)."""

    client_pk: int
    client_id: str
    team_name: str
    team_slug: str
    service_account: str | None
    audience: str
    scope: str
    issued_at: datetime
    expires_at: datetime


_DIGEST_PLACEHOLDER = "digest-placeholder"
_LIVE_TOKEN_COLUMNS = (
    "client_id",
    "client__client_id",
    "client__team__name",
    "client__team__slug",
    "service_account__username",
    "audience",
    "scope",
    "issued_at",
    "expires_at",
)


@functools.cache
def _live_token_lookup(alias: str) -> _CompiledLookup:
    # Revocation, a deactivated client, OAuth turned off and a deleted service account
    # are decided here; expiry by the application's clock in live_token_by_value, so
    # that a lookup sent ahead has the same parameters when the view asks for it.
    queryset = (
        AccessToken.objects.using(alias)
        .filter(
            Q(service_account__isnull=True) | Q(service_account__deleted_at__isnull=True),
            token_digest=_DIGEST_PLACEHOLDER,
            revoked_at__isnull=True,
            client__deactivated_at__isnull=True,
            client__team__oauth_enabled=True,
        )
        .values_list(*_LIVE_TOKEN_COLUMNS)
        .order_by()[:1]
    )
    return _compile("tango_live_token", queryset)


def _aware(value: datetime) -> datetime:
    # Without the ORM's converters, SQLite hands back naive UTC datetimes.
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def _live_token_values(token: str) -> dict[str, object]:
    return {_DIGEST_PLACEHOLDER: credential_secrets.digest(token)}


def live_token_lookup_ahead(*, token: str) -> Callable[[], None] | None:
    """Start `live_token_by_value(token=token)`'s query now, if the database allows
    (PostgreSQL), so that its round trip overlaps the rest of the request. Answers
    None if it was not started; otherwise the function the caller must call when the
    request is over, which drops the lookup if the view never asked for it."""
    return _send_lookup_ahead(_live_token_lookup(DEFAULT_DB_ALIAS), _live_token_values(token))


def live_token_by_value(*, token: str, now: datetime | None = None) -> LiveToken | None:
    """The access token with this value if it is live: unrevoked, unexpired, its client
    active, its team's OAuth on and its service account (if any) not deleted.

    Every API call makes this one query (a compiled, prepared lookup, see above).
    """
    row = _run_lookup(_live_token_lookup(DEFAULT_DB_ALIAS), _live_token_values(token))
    if row is None:
        return None
    client_pk, client_id, team_name, team_slug, username, audience, scope, issued_at, expires_at = row
    expires = _aware(expires_at)
    if expires <= (now or timezone.now()):
        return None
    return LiveToken(
        client_pk=client_pk,
        client_id=client_id,
        team_name=team_name,
        team_slug=team_slug,
        service_account=username,
        audience=audience,
        scope=scope,
        issued_at=_aware(issued_at),
        expires_at=expires,
    )


def api_key_by_value(*, key: str) -> ApiKey | None:
    """The legacy API key with this value (looked up by digest), with its team."""
    return _only_row(ApiKey.objects.select_related("team").filter(digest=credential_secrets.digest(key)))
