"""Refuse UPDATE, DELETE (and TRUNCATE on PostgreSQL) of the team activity record in the database."""

from django.db import migrations

from tango_portal.core import db_triggers

TABLE = "tango_portal_teamactivity"


def install(apps, schema_editor):
    db_triggers.run(schema_editor.connection, db_triggers.install_sql(schema_editor.connection.vendor, TABLE))


def uninstall(apps, schema_editor):
    db_triggers.run(schema_editor.connection, db_triggers.drop_sql(schema_editor.connection.vendor, TABLE))


class Migration(migrations.Migration):
    dependencies = [("tango_portal", "0002_membership_activity")]

    operations = [migrations.RunPython(install, uninstall, elidable=False)]
