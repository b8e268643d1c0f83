"""Per-user history column choice, and indexes that make every history sort an index scan.

Like history_team_newest and history_team_type_newest, each sort index serves one
sortable column in both directions (a backward scan gives `-column, occurred_at, id`).
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
        migrations.AddIndex(
            model_name='credentialhistory',
            index=models.Index(fields=['team', 'action', '-occurred_at', '-id'], name='history_team_action_newest'),
        ),
        migrations.AddIndex(
            model_name='credentialhistory',
            index=models.Index(fields=['team', 'credential_name', '-occurred_at', '-id'], name='history_team_name_newest'),
        ),
    ]
