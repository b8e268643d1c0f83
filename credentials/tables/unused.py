"""The Unused credentials table: one row per credential of any type (credentials.reminders rows).

Its cells and its CSV export read the same `row_text`, so the file holds what the page shows.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import django_tables2 as tables
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import format_html
from django.utils.safestring import SafeString

from credentials.models import CredentialType
from credentials.pages import credential_path

PER_PAGE = 25
NEVER_USED = "Never used"
HEADINGS = ("Type", "Name", "Identifier", "Created", "Last used", "Due for rotation")


def identifier_text(row: dict[str, Any]) -> str:
    """A username or client ID whole; of an API key only its visible prefix, as the lists show it."""
    if row["credential_type"] == CredentialType.API_KEY:
        return f"{row['identifier']}\N{HORIZONTAL ELLIPSIS}"
    return str(row["identifier"])


def is_due(row: dict[str, Any], due_before: datetime | None) -> bool:
    """Due for rotation: created before `due_before` (policy.created_before_is_due; None: no policy)."""
    return due_before is not None and row["created_at"] <= due_before


def _utc(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def row_text(row: dict[str, Any], due_before: datetime | None) -> list[str]:
    """The row as the export writes it, in HEADINGS order; times in UTC."""
    return [
        str(CredentialType(row["credential_type"]).label),
        str(row["name"]),
        identifier_text(row),
        _utc(row["created_at"]),
        _utc(row["last_used_at"]) if row["last_used_at"] else NEVER_USED,
        "Yes" if is_due(row, due_before) else "No",
    ]


def _time(value: datetime, fmt: str) -> SafeString:
    return format_html(
        '<time datetime="{}">{}</time>', value.isoformat(), date_format(timezone.localtime(value), fmt)
    )


class UnusedCredentialTable(tables.Table):
    """Type, name (a link to the credential), identifier, created, last used, due for rotation.

    Every cell reads the row itself, so a page costs its query and the count, whatever its length.
    """

    credential_type = tables.Column(verbose_name="Type")
    name = tables.Column(verbose_name="Name")
    identifier = tables.Column(verbose_name="Identifier")
    created_at = tables.Column(verbose_name="Created")
    last_used_at = tables.Column(verbose_name="Last used", empty_values=())
    due = tables.Column(verbose_name="Due for rotation", accessor="created_at", empty_values=())

    class Meta:
        orderable = False
        attrs = {"class": "table", "id": "unused-table"}

    def __init__(self, *args: Any, due_before: datetime | None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.due_before = due_before

    def render_credential_type(self, value: str) -> str:
        return str(CredentialType(value).label)

    def render_name(self, value: str, record: dict[str, Any]) -> SafeString:
        return format_html(
            '<a href="{}">{}</a>',
            credential_path(CredentialType(record["credential_type"]), record["pk"]),
            value,
        )

    def render_identifier(self, record: dict[str, Any]) -> SafeString:
        return format_html("<code>{}</code>", identifier_text(record))

    def render_created_at(self, value: datetime) -> SafeString:
        return _time(value, "M j, Y")

    def render_last_used_at(self, value: datetime | None) -> SafeString:
        if value is None:
            return format_html('<span class="muted">{}</span>', NEVER_USED)
        return _time(value, "M j, Y H:i")

    def render_due(self, record: dict[str, Any]) -> SafeString:
        if is_due(record, self.due_before):
            return format_html('<span class="badge badge--warn">{}</span>', "Yes")
        return format_html("{}", "No")
