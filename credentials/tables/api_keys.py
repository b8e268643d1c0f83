"""The tables of a team's legacy API keys: masked, since only a digest of each key is kept."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import django_tables2 as tables
from django.utils.html import format_html
from django.utils.safestring import SafeString

from credentials.models import ApiKey
from credentials.tables.clients import created_cell, last_used_cell


class _ApiKeyColumns(tables.Table):
    """The columns every API-key table starts with."""

    platform_name = tables.Column(verbose_name="Platform name")
    masked = tables.Column(verbose_name="API key", accessor="masked", empty_values=())
    created_at = tables.Column(verbose_name="Created")

    def render_masked(self, value: str) -> SafeString:
        return format_html("<code>{}</code>", value)

    def render_created_at(self, value: datetime, record: ApiKey) -> SafeString:
        return created_cell(value, record.created_by)


class ApiKeyTable(_ApiKeyColumns):
    """Platform name, masked key, created (by), last used, and actions (Manage only)."""

    last_used_at = tables.Column(verbose_name="Last used", empty_values=())
    actions = tables.TemplateColumn(
        template_name="credentials/api_keys/_actions_cell.html",
        verbose_name="Actions",
        empty_values=(),
        orderable=False,
    )

    class Meta:
        model = ApiKey
        fields = ("platform_name", "masked", "created_at", "last_used_at", "actions")
        orderable = False
        attrs = {"class": "table", "id": "api-keys-table"}
        empty_text = "No active API keys. New integrations should use OAuth client credentials instead."

    def __init__(self, *args: Any, can_manage: bool = False, **kwargs: Any) -> None:
        if not can_manage:
            kwargs["exclude"] = (*kwargs.get("exclude", ()), "actions")
        super().__init__(*args, **kwargs)

    def render_last_used_at(self, value: datetime | None) -> SafeString:
        return last_used_cell(value)


class DeactivatedApiKeyTable(_ApiKeyColumns):
    """Deactivated API keys: kept for the record, never usable again."""

    deactivated_at = tables.DateTimeColumn(verbose_name="Deactivated", format="M j, Y H:i")

    class Meta:
        model = ApiKey
        fields = ("platform_name", "masked", "created_at", "deactivated_at")
        orderable = False
        attrs = {"class": "table", "id": "deactivated-api-keys-table"}
        empty_text = "No deactivated API keys."
