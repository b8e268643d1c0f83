"""The tables of a team's OAuth client credentials (the client ID only: the secret is never kept)."""

from __future__ import annotations

from datetime import datetime, timedelta

import django_tables2 as tables
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.timesince import timesince

from credentials.models import OAuthClient
from credentials.tables.common import ActiveCredentialTable, DeactivatedCredentialTable, actions_column

# Client credentials never expire; the recommendation is to rotate them once a year.
ROTATE_AFTER = timedelta(days=365)


def needs_rotation(client: OAuthClient, now: datetime | None = None) -> bool:
    """True for active client credentials older than a year."""
    now = now or timezone.now()
    return client.is_active and now - client.created_at > ROTATE_AFTER


class _ClientColumns(tables.Table):
    """The columns every client-credentials table starts with."""

    display_name = tables.TemplateColumn(
        template_name="credentials/clients/_name_cell.html",
        verbose_name="Display name",
        empty_values=(),
    )
    client_id = tables.TemplateColumn(
        template_name="credentials/clients/_client_id_cell.html",
        verbose_name="Client ID",
    )


class OAuthClientTable(_ClientColumns, ActiveCredentialTable):
    """Display name, client ID (copy), created (by, and whether due for rotation), last used
    (sortable), age, and actions.

    The actions column is left out for users without Manage.
    """

    age = tables.Column(verbose_name="Age", accessor="created_at", empty_values=())
    actions = actions_column("credentials/clients/_actions_cell.html")

    class Meta(ActiveCredentialTable.Meta):
        prefix = "clients-"
        attrs = {"class": "table", "id": "clients-table"}
        empty_text = (
            "No active client credentials. Your servers need a client ID and client secret, "
            "together with a service account, to get an API token."
        )

    def render_age(self, value: datetime, record: OAuthClient) -> SafeString:
        age = timesince(value, depth=1)
        if needs_rotation(record):
            return format_html(
                '{} <span class="badge badge--warn" title="{}">Rotate</span>',
                age,
                "Older than a year: generate new client credentials, switch your servers "
                "to them, then deactivate these.",
            )
        return format_html("{}", age)


class DeactivatedOAuthClientTable(_ClientColumns, DeactivatedCredentialTable):
    class Meta(DeactivatedCredentialTable.Meta):
        attrs = {"class": "table", "id": "deactivated-clients-table"}
        empty_text = "No deactivated client credentials."
