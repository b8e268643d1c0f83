"""Refuse UPDATE, DELETE (and TRUNCATE on PostgreSQL) of the team activity record in the database.

The SQL is this migration's own, as applied; tests install the same statements again
(tests/append_only.py) after emptying the tables between transactional tests.
"""

from django.core.exceptions import ImproperlyConfigured
from django.db import migrations

TABLE = "tango_portal_teamactivity"

INSTALL = {
    "sqlite": [
        "CREATE TRIGGER IF NOT EXISTS tango_portal_teamactivity_no_update BEFORE UPDATE ON tango_portal_teamactivity BEGIN SELECT RAISE(ABORT, 'append-only: rows of tango_portal_teamactivity cannot be changed or removed'); END;",
        "CREATE TRIGGER IF NOT EXISTS tango_portal_teamactivity_no_delete BEFORE DELETE ON tango_portal_teamactivity BEGIN SELECT RAISE(ABORT, 'append-only: rows of tango_portal_teamactivity cannot be changed or removed'); END;",
    ],
    "postgresql": [
        """CREATE OR REPLACE FUNCTION tango_portal_teamactivity_refuse() RETURNS trigger AS $$
            BEGIN RAISE EXCEPTION 'append-only: rows of tango_portal_teamactivity cannot be changed or removed' USING ERRCODE = 'insufficient_privilege'; END;
            $$ LANGUAGE plpgsql;""",
        "DROP TRIGGER IF EXISTS tango_portal_teamactivity_no_change ON tango_portal_teamactivity;",
        "CREATE TRIGGER tango_portal_teamactivity_no_change BEFORE UPDATE OR DELETE ON tango_portal_teamactivity FOR EACH ROW EXECUTE FUNCTION tango_portal_teamactivity_refuse();",
        "DROP TRIGGER IF EXISTS tango_portal_teamactivity_no_truncate ON tango_portal_teamactivity;",
        "CREATE TRIGGER tango_portal_teamactivity_no_truncate BEFORE TRUNCATE ON tango_portal_teamactivity FOR EACH STATEMENT EXECUTE FUNCTION tango_portal_teamactivity_refuse();",
    ],
}

DROP = {
    "sqlite": [
        "DROP TRIGGER IF EXISTS tango_portal_teamactivity_no_update;",
        "DROP TRIGGER IF EXISTS tango_portal_teamactivity_no_delete;",
    ],
    "postgresql": [
        "DROP TRIGGER IF EXISTS tango_portal_teamactivity_no_change ON tango_portal_teamactivity;",
        "DROP TRIGGER IF EXISTS tango_portal_teamactivity_no_truncate ON tango_portal_teamactivity;",
        "DROP FUNCTION IF EXISTS tango_portal_teamactivity_refuse();",
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
    dependencies = [("tango_portal", "0002_membership_activity")]

    operations = [migrations.RunPython(install, uninstall, elidable=False)]
