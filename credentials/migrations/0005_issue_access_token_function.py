"""On PostgreSQL, the token endpoint's transaction as one database function (see credentials.db_functions)."""

from django.db import migrations

from credentials import db_functions


def install(apps, schema_editor):
    db_functions.install(schema_editor.connection)


def uninstall(apps, schema_editor):
    db_functions.uninstall(schema_editor.connection)


class Migration(migrations.Migration):
    dependencies = [("credentials", "0004_history_column_preference")]

    operations = [migrations.RunPython(install, uninstall, elidable=False)]
