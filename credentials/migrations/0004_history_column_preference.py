"""Per-user history column choice, and indexes that make every history sort an index scan.

The two sort indexes are plain SQL (the same statement on SQLite and PostgreSQL) rather
than `Meta.indexes`, because CredentialHistory's Meta belongs to the foundation. Like
history_team_newest and history_team_type_newest, each serves one sortable column in
both directions (a backward scan gives `-column, occurred_at, id`).
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('credentials', '0003_history_append_only'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name='HistoryColumnPreference',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('hidden_columns', models.JSONField(blank=True, default=list)),
                ('updated_at', models.DateTimeField(auto_now=True)),
                ('user', models.OneToOneField(on_delete=django.db.models.deletion.CASCADE, related_name='history_column_preference', to=settings.AUTH_USER_MODEL)),
            ],
            options={
                'verbose_name': 'credential history column preference',
            },
        ),
        migrations.RunSQL(
            "CREATE INDEX history_team_action_newest ON credentials_credentialhistory "
            "(team_id, action, occurred_at DESC, id DESC);",
            "DROP INDEX history_team_action_newest;",
        ),
        migrations.RunSQL(
            "CREATE INDEX history_team_name_newest ON credentials_credentialhistory "
            "(team_id, credential_name, occurred_at DESC, id DESC);",
            "DROP INDEX history_team_name_newest;",
        ),
    ]
