"""Signed checkpoints of the history chains' heads, append-only in the database as well.

The triggers follow 0003_team_activity_append_only: the SQL is this migration's own, as
applied, and tests install the same statements again (tests/append_only.py).
"""

import django.db.models.deletion
from django.core.exceptions import ImproperlyConfigured
from django.db import migrations, models

TABLE = "tango_portal_chaincheckpoint"

INSTALL = {
    "sqlite": [
        "CREATE TRIGGER IF NOT EXISTS tango_portal_chaincheckpoint_no_update BEFORE UPDATE ON tango_portal_chaincheckpoint BEGIN SELECT RAISE(ABORT, 'append-only: rows of tango_portal_chaincheckpoint cannot be changed or removed'); END;",
        "CREATE TRIGGER IF NOT EXISTS tango_portal_chaincheckpoint_no_delete BEFORE DELETE ON tango_portal_chaincheckpoint BEGIN SELECT RAISE(ABORT, 'append-only: rows of tango_portal_chaincheckpoint cannot be changed or removed'); END;",
    ],
    "postgresql": [
        """CREATE OR REPLACE FUNCTION tango_portal_chaincheckpoint_refuse() RETURNS trigger AS $$
            BEGIN RAISE EXCEPTION 'append-only: rows of tango_portal_chaincheckpoint cannot be changed or removed' USING ERRCODE = 'insufficient_privilege'; END;
            $$ LANGUAGE plpgsql;""",
        "DROP TRIGGER IF EXISTS tango_portal_chaincheckpoint_no_change ON tango_portal_chaincheckpoint;",
        "CREATE TRIGGER tango_portal_chaincheckpoint_no_change BEFORE UPDATE OR DELETE ON tango_portal_chaincheckpoint FOR EACH ROW EXECUTE FUNCTION tango_portal_chaincheckpoint_refuse();",
        "DROP TRIGGER IF EXISTS tango_portal_chaincheckpoint_no_truncate ON tango_portal_chaincheckpoint;",
        "CREATE TRIGGER tango_portal_chaincheckpoint_no_truncate BEFORE TRUNCATE ON tango_portal_chaincheckpoint FOR EACH STATEMENT EXECUTE FUNCTION tango_portal_chaincheckpoint_refuse();",
    ],
}

DROP = {
    "sqlite": [
        "DROP TRIGGER IF EXISTS tango_portal_chaincheckpoint_no_update;",
        "DROP TRIGGER IF EXISTS tango_portal_chaincheckpoint_no_delete;",
    ],
    "postgresql": [
        "DROP TRIGGER IF EXISTS tango_portal_chaincheckpoint_no_change ON tango_portal_chaincheckpoint;",
        "DROP TRIGGER IF EXISTS tango_portal_chaincheckpoint_no_truncate ON tango_portal_chaincheckpoint;",
        "DROP FUNCTION IF EXISTS tango_portal_chaincheckpoint_refuse();",
    ],
}


def statements(vendor, which):
    if vendor not in which:
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

    dependencies = [
        ('tango_portal', '0003_team_activity_append_only'),
    ]

    operations = [
        migrations.CreateModel(
            name='ChainCheckpoint',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('record', models.CharField(max_length=100)),
                ('head_id', models.BigIntegerField()),
                ('head_hash', models.CharField(max_length=64)),
                ('signed_at', models.DateTimeField()),
                ('key_id', models.CharField(max_length=16)),
                ('signature', models.CharField(max_length=100)),
                ('team', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='tango_portal.team')),
            ],
            options={
                'verbose_name': 'signed chain checkpoint',
                'verbose_name_plural': 'signed chain checkpoints',
                'ordering': ['-id'],
                'indexes': [models.Index(fields=['record', 'team', 'head_id'], name='chaincheckpoint_head')],
            },
        ),
        migrations.RunPython(install, uninstall, elidable=False),
    ]
