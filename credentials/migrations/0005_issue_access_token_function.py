"""On PostgreSQL, a database function that issued access tokens (dropped by 0006).

The migration keeps its own SQL text, as it was applied: the token endpoint now issues
tokens in Python (credentials.services.access_token_issue).
"""

from django.db import migrations

CREATE_FUNCTION = """
CREATE OR REPLACE FUNCTION credentials_issue_access_token(
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
        RETURN QUERY SELECT 'client_refused'::text, NULL::timestamptz, NULL::bigint;
        RETURN;
    END IF;

    IF p_service_account_id IS NOT NULL THEN
        PERFORM 1 FROM credentials_serviceaccount
         WHERE id = p_service_account_id AND team_id = p_team_id AND deleted_at IS NULL
           FOR NO KEY UPDATE;
        IF NOT FOUND THEN
            RETURN QUERY SELECT 'account_refused'::text, NULL::timestamptz, NULL::bigint;
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
        RETURN QUERY SELECT 'renewal_too_early'::text, latest - p_renewal_window, NULL::bigint;
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
        RETURNING 'issued'::text, NULL::timestamptz, id;
END;
$$;
"""

DROP_FUNCTION = "DROP FUNCTION IF EXISTS credentials_issue_access_token(bigint, bigint, bigint, varchar, varchar, varchar, timestamptz, timestamptz, interval);"


def install(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE_FUNCTION)


def uninstall(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP_FUNCTION)


class Migration(migrations.Migration):
    dependencies = [("credentials", "0004_history_column_preference")]

    operations = [migrations.RunPython(install, uninstall, elidable=True)]
