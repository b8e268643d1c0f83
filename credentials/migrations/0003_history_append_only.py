"""Refuse UPDATE, DELETE (and TRUNCATE on PostgreSQL) of credential history in the database.

The SQL is this migration's own, as applied; tests install the same statements again
(tests/append_only.py) after emptying the tables between transactional tests.
"""

from django.core.exceptions import ImproperlyConfigured
from django.db import migrations

TABLE = "credentials_credentialhistory"

INSTALL = {
    "sqlite": [
        "CREATE TRIGGER IF NOT EXISTS credentials_credentialhistory_no_update BEFORE UPDATE ON credentials_credentialhistory BEGIN SELECT RAISE(ABORT, 'append-only: rows of credentials_credentialhistory cannot be changed or removed'); END;",
        "CREATE TRIGGER IF NOT EXISTS credentials_credentialhistory_no_delete BEFORE DELETE ON credentials_credentialhistory BEGIN SELECT RAISE(ABORT, 'append-only: rows of credentials_credentialhistory cannot be changed or removed'); END;",
    ],
    "postgresql": [
        """CREATE OR REPLACE FUNCTION credentials_credentialhistory_refuse() RETURNS trigger AS $$
            BEGIN RAISE EXCEPTION 'append-only: rows of credentials_credentialhistory cannot be changed or removed' USING ERRCODE = 'insufficient_privilege'; END;
            $$ LANGUAGE plpgsql;""",
        "DROP TRIGGER IF EXISTS credentials_credentialhistory_no_change ON credentials_credentialhistory;",
        "CREATE TRIGGER credentials_credentialhistory_no_change BEFORE UPDATE OR DELETE ON credentials_credentialhistory FOR EACH ROW EXECUTE FUNCTION credentials_credentialhistory_refuse();",
        "DROP TRIGGER IF EXISTS credentials_credentialhistory_no_truncate ON credentials_credentialhistory;",
        "CREATE TRIGGER credentials_credentialhistory_no_truncate BEFORE TRUNCATE ON credentials_credentialhistory FOR EACH STATEMENT EXECUTE FUNCTION credentials_credentialhistory_refuse();",
    ],
}

DROP = {
    "sqlite": [
        "DROP TRIGGER IF EXISTS credentials_credentialhistory_no_update;",
        "DROP TRIGGER IF EXISTS credentials_credentialhistory_no_delete;",
    ],
    "postgresql": [
        "DROP TRIGGER IF EXISTS credentials_credentialhistory_no_change ON credentials_credentialhistory;",
        "DROP TRIGGER IF EXISTS credentials_credentialhistory_no_truncate ON credentials_credentialhistory;",
        "DROP FUNCTION IF EXISTS credentials_credentialhistory_refuse();",
    ],
}


def statements(vendor, which):
    if vendor not in which:
        # The promise is that SQL cannot edit this record: a database without the
        # triggers would break it silently, so it is refused rather than migrated.
        raise ImproperlyConfigured(
            f"The portal's append-only records need SQLite or PostgreSQL; {vendor} is not supported."
        )
    return which[vendor]


def install(apps, schema_editor):
    for statement in statements(schema_editor.connection.vendor, INSTALL):
        schema_editor.execute(statement, params=None)


def uninstall(apps, schema_editor):
    for statement in statements(schema_editor.connection.vendor, DROP):
        schema_editor.execute(statement, params=None)


class Migration(migrations.Migration):
    dependencies = [("credentials", "0002_initial")]

    operations = [migrations.RunPython(install, uninstall, elidable=False)]
