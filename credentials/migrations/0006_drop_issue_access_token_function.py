"""Drop the PostgreSQL function of 0005: tokens are issued by one Python service in a
transaction (credentials.services.access_token_issue), the same on every database.

Going back does not recreate it: nothing calls it any more.
"""

from django.db import migrations

DROP_FUNCTION = "DROP FUNCTION IF EXISTS credentials_issue_access_token(bigint, bigint, bigint, varchar, varchar, varchar, timestamptz, timestamptz, interval);"


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP_FUNCTION)


class Migration(migrations.Migration):
    dependencies = [("credentials", "0005_issue_access_token_function")]

    operations = [migrations.RunPython(drop, migrations.RunPython.noop, elidable=True)]
