"""Refuse UPDATE, DELETE (and TRUNCATE on PostgreSQL) of credential history in the database."""

from django.db import migrations

from tango_portal.core import db_triggers

TABLE = "credentials_credentialhistory"


def install(apps, schema_editor):
    db_triggers.run(schema_editor.connection, db_triggers.install_sql(schema_editor.connection.vendor, TABLE))


def uninstall(apps, schema_editor):
    db_triggers.run(schema_editor.connection, db_triggers.drop_sql(schema_editor.connection.vendor, TABLE))


class Migration(migrations.Migration):
    dependencies = [("credentials", "0002_initial")]

    operations = [migrations.RunPython(install, uninstall, elidable=False)]
