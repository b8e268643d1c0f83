"""PostgreSQL functions the token endpoint calls, so that issuing a token is one round trip.

`credentials_issue_access_token` is services.access_token_issue written where the rows
are: lock the live client, lock the live service account of the same team, apply the
once-a-day rule, then record "last used" and store the token digest. Sent as single
statements, that transaction took six round trips (BEGIN, four statements, COMMIT),
and on a server whose database is across a network each one costs more than the
work it carries (bench/token.py measures the endpoint).

The semantics are those of the statements sent one by one. In READ COMMITTED each
statement inside a VOLATILE function takes a fresh snapshot, so the once-a-day check
runs after the row locks were granted and sees any token a concurrent request
committed while this one waited. `FOR NO KEY UPDATE` is the lock an UPDATE takes, the
same lock a deletion or deactivation takes before revoking tokens, and PostgreSQL
re-checks the WHERE clause (still live?) on the row version it finally locks. A
refusal returns before anything is written, so it changes nothing.

The issuing transaction commits without waiting for its WAL flush
(`synchronous_commit = off`, for that transaction only): a crash in the next fraction
of a second can lose the token just issued, never anything else. The client then
gets 401 for it and asks again, which the once-a-day rule allows since the token is
gone; that is safe by construction (failing closed) and saves the flush's wait on
every token request. Deletions, revocations and history keep synchronous commits.

SQLite runs the same steps from Python (services.access_token_issue); both paths run
the same tests, the concurrency ones on PostgreSQL. Keep the two in step, and change
this function in a new migration when a column it names changes.
"""

from __future__ import annotations

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
