"""The token endpoint's issuing transaction, written for each database.

Issuing a token means: lock the live client, lock the live service account of the
same team, apply the once-a-day rule, record "last used" and store the token digest,
all or nothing. services.access_token_issue calls `issue_access_token` here and turns
its outcome into the service's exceptions. The steps are written in SQL rather than
ORM calls because this transaction runs on every token request, right after the
password hash has evicted the CPU caches, and compiling five ORM statements cost more
than running them (bench/token.py measures the endpoint).

PostgreSQL: one function, `credentials_issue_access_token`, so that the transaction
is one round trip; sent as single statements it took six (BEGIN, four statements,
COMMIT), and on a server whose database is across a network each costs more than the
work it carries. The semantics are those of the statements sent one by one. In READ
COMMITTED each statement inside a VOLATILE function takes a fresh snapshot, so the
once-a-day check runs after the row locks were granted and sees any token a
concurrent request committed while this one waited. `FOR NO KEY UPDATE` is the lock
an UPDATE takes, the same lock a deletion or deactivation takes before revoking
tokens, and PostgreSQL re-checks the WHERE clause (still live?) on the row version it
finally locks. A refusal returns before anything is written, so it changes nothing.

The issuing transaction commits without waiting for its WAL flush
(`synchronous_commit = off`, for that transaction only): a crash in the next fraction
of a second can lose the token just issued, never anything else. The client then
gets 401 for it and asks again, which the once-a-day rule allows since the token is
gone; that is safe by construction (failing closed) and saves the flush's wait on
every token request. Deletions, revocations and history keep synchronous commits.

SQLite: the same steps as statements in one transaction, which SQLite runs in-process
and serialises with every other writer (BEGIN IMMEDIATE); a refusal rolls back the
"last used" stamps already written.

Both run the same tests, the concurrency ones on PostgreSQL. Change the function in a
new migration when a column it names changes.
"""

from __future__ import annotations

from dataclasses import astuple, dataclass
from datetime import UTC, datetime, timedelta

from django.db import transaction
from django.db.backends.base.base import BaseDatabaseWrapper

ISSUE_ACCESS_TOKEN = "credentials_issue_access_token"  # noqa: S105 - a function name

# Outcomes the function returns, as services.access_token_issue maps them.
ISSUED = "issued"
CLIENT_REFUSED = "client_refused"
ACCOUNT_REFUSED = "account_refused"
RENEWAL_TOO_EARLY = "renewal_too_early"

# Only this module's constants are interpolated into the SQL below: values go as parameters.
CREATE_ISSUE_ACCESS_TOKEN = f"""
CREATE OR REPLACE FUNCTION {ISSUE_ACCESS_TOKEN}(
    p_client_id bigint,
    p_team_id bigint,
    p_service_account_id bigint,
    p_token_digest varchar,
    p_audience varchar,
    p_scope varchar,
    p_now timestamptz,
    p_expires_at timestamptz,
    p_renewal_window interval
) RETURNS TABLE (outcome text, retry_at timestamptz, token_id bigint)
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    latest timestamptz;
BEGIN
    PERFORM 1 FROM credentials_oauthclient
     WHERE id = p_client_id AND deactivated_at IS NULL
       FOR NO KEY UPDATE;
    IF NOT FOUND THEN
        RETURN QUERY SELECT '{CLIENT_REFUSED}'::text, NULL::timestamptz, NULL::bigint;
        RETURN;
    END IF;

    IF p_service_account_id IS NOT NULL THEN
        PERFORM 1 FROM credentials_serviceaccount
         WHERE id = p_service_account_id AND team_id = p_team_id AND deleted_at IS NULL
           FOR NO KEY UPDATE;
        IF NOT FOUND THEN
            RETURN QUERY SELECT '{ACCOUNT_REFUSED}'::text, NULL::timestamptz, NULL::bigint;
            RETURN;
        END IF;
    END IF;

    SELECT max(expires_at) INTO latest FROM credentials_accesstoken
     WHERE client_id = p_client_id
       AND service_account_id IS NOT DISTINCT FROM p_service_account_id
       AND audience = p_audience
       AND revoked_at IS NULL
       AND expires_at > p_now;
    IF latest IS NOT NULL AND p_now < latest - p_renewal_window THEN
        RETURN QUERY SELECT '{RENEWAL_TOO_EARLY}'::text, latest - p_renewal_window, NULL::bigint;
        RETURN;
    END IF;

    PERFORM set_config('synchronous_commit', 'off', true);
    UPDATE credentials_oauthclient SET last_used_at = p_now WHERE id = p_client_id;
    IF p_service_account_id IS NOT NULL THEN
        UPDATE credentials_serviceaccount SET last_token_at = p_now WHERE id = p_service_account_id;
    END IF;
    RETURN QUERY
        INSERT INTO credentials_accesstoken
            (token_digest, client_id, service_account_id, audience, scope, issued_at, expires_at)
        VALUES
            (p_token_digest, p_client_id, p_service_account_id, p_audience, p_scope, p_now, p_expires_at)
        RETURNING '{ISSUED}'::text, NULL::timestamptz, id;
END;
$$;
"""  # noqa: S608

DROP_ISSUE_ACCESS_TOKEN = (
    f"DROP FUNCTION IF EXISTS {ISSUE_ACCESS_TOKEN}"
    "(bigint, bigint, bigint, varchar, varchar, varchar, timestamptz, timestamptz, interval);"
)

CALL_ISSUE_ACCESS_TOKEN = (
    f"SELECT outcome, retry_at, token_id FROM {ISSUE_ACCESS_TOKEN}(%s, %s, %s, %s, %s, %s, %s, %s, %s)"  # noqa: S608
)


def install(connection: BaseDatabaseWrapper) -> None:
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(CREATE_ISSUE_ACCESS_TOKEN)


def uninstall(connection: BaseDatabaseWrapper) -> None:
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(DROP_ISSUE_ACCESS_TOKEN)


# SQLite: the same steps, statement by statement, inside one transaction.
_SQLITE_STAMP_CLIENT = (
    "UPDATE credentials_oauthclient SET last_used_at = %s WHERE id = %s AND deactivated_at IS NULL"
)
_SQLITE_STAMP_ACCOUNT = (
    "UPDATE credentials_serviceaccount SET last_token_at = %s "
    "WHERE id = %s AND team_id = %s AND deleted_at IS NULL"
)
_SQLITE_LATEST_EXPIRY = (
    "SELECT max(expires_at) FROM credentials_accesstoken WHERE client_id = %s AND service_account_id IS %s "
    "AND audience = %s AND revoked_at IS NULL AND expires_at > %s"
)
_SQLITE_INSERT = (
    "INSERT INTO credentials_accesstoken "
    "(token_digest, client_id, service_account_id, audience, scope, issued_at, expires_at) "
    "VALUES (%s, %s, %s, %s, %s, %s, %s)"
)


@dataclass(frozen=True)
class TokenToIssue:
    """What the issuing transaction needs. The fields are in the order of the PostgreSQL
    function's parameters: they are passed as they stand."""

    client_id: int
    team_id: int
    service_account_id: int | None
    token_digest: str
    audience: str
    scope: str
    now: datetime
    expires_at: datetime
    renewal_window: timedelta


@dataclass(frozen=True)
class Issued:
    """What the issuing transaction decided: ISSUED with the new row's id, or a refusal
    (with the time renewal opens, for RENEWAL_TOO_EARLY)."""

    outcome: str
    retry_at: datetime | None = None
    token_id: int | None = None


def issue_access_token(connection: BaseDatabaseWrapper, token: TokenToIssue) -> Issued:
    """Run the issuing transaction on `connection` (PostgreSQL or SQLite)."""
    if connection.vendor != "postgresql":
        return _issue_on_sqlite(connection, token)
    with connection.cursor() as cursor:
        cursor.execute(CALL_ISSUE_ACCESS_TOKEN, list(astuple(token)))
        outcome, retry_at, token_id = cursor.fetchone()
    return Issued(outcome, retry_at, token_id)


def _issue_on_sqlite(connection: BaseDatabaseWrapper, token: TokenToIssue) -> Issued:
    adapt = connection.ops.adapt_datetimefield_value
    now = adapt(token.now)
    with transaction.atomic(using=connection.alias), connection.cursor() as cursor:

        def refuse(outcome: str, retry_at: datetime | None = None) -> Issued:
            # Undo the "last used" stamps already written.
            transaction.set_rollback(True, using=connection.alias)
            return Issued(outcome, retry_at)

        cursor.execute(_SQLITE_STAMP_CLIENT, [now, token.client_id])
        if cursor.rowcount != 1:
            return refuse(CLIENT_REFUSED)
        if token.service_account_id is not None:
            cursor.execute(_SQLITE_STAMP_ACCOUNT, [now, token.service_account_id, token.team_id])
            if cursor.rowcount != 1:
                return refuse(ACCOUNT_REFUSED)
        cursor.execute(
            _SQLITE_LATEST_EXPIRY, [token.client_id, token.service_account_id, token.audience, now]
        )
        (latest,) = cursor.fetchone()
        if latest is not None:
            opens_at = datetime.fromisoformat(latest).replace(tzinfo=UTC) - token.renewal_window
            if token.now < opens_at:
                return refuse(RENEWAL_TOO_EARLY, opens_at)
        cursor.execute(
            _SQLITE_INSERT,
            [
                token.token_digest,
                token.client_id,
                token.service_account_id,
                token.audience,
                token.scope,
                now,
                adapt(token.expires_at),
            ],
        )
        return Issued(ISSUED, token_id=cursor.lastrowid)
