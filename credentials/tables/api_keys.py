"""The tables of a team's legacy API keys: masked, since only a digest of each key is kept."""

from __future__ import annotations

import django_tables2 as tables
from django.urls import reverse
from django.utils.html import format_html
from django.utils.safestring import SafeString

from credentials.models import ApiKey
from credentials.tables.common import ActiveCredentialTable, DeactivatedCredentialTable, actions_column


class _ApiKeyColumns(tables.Table):
    """The columns every API-key table starts with: the platform name links to the key's page."""

    platform_name = tables.Column(verbose_name="Platform name")
    masked = tables.Column(verbose_name="API key", accessor="masked", empty_values=())

    def render_platform_name(self, value: str, record: ApiKey) -> SafeString:
        return format_html(
            '<a href="{}">{}</a>', reverse("credentials:api_keys:detail", kwargs={"pk": record.pk}), value
        )

    def render_masked(self, value: str) -> SafeString:
        return format_html("<code>{}</code>", value)


class ApiKeyTable(_ApiKeyColumns, ActiveCredentialTable):
    """Platform name, masked key, created (by, and whether due for rotation), last used
    (sortable), and actions (Manage only)."""

    actions = actions_column("credentials/api_keys/_actions_cell.html")

    class Meta(ActiveCredentialTable.Meta):
        prefix = "api-keys-"
        attrs = {"class": "table", "id": "api-keys-table"}
        empty_text = "No active API keys. New integrations should use OAuth client credentials instead."


class DeactivatedApiKeyTable(_ApiKeyColumns, DeactivatedCredentialTable):
    class Meta(DeactivatedCredentialTable.Meta):
        attrs = {"class": "table", "id": "deactivated-api-keys-table"}
        empty_text = "No deactivated API keys."
