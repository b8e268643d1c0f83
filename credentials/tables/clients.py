"""The tables of a team's OAuth client credentials (the client ID only: the secret is never kept)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import django_tables2 as tables
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.timesince import timesince

from credentials.models import OAuthClient

# Client credentials never expire; the recommendation is to rotate them once a year.
ROTATE_AFTER = timedelta(days=365)


def needs_rotation(client: OAuthClient, now: datetime | None = None) -> bool:
    """True for active client credentials older than a year."""
    now = now or timezone.now()
    return client.is_active and now - client.created_at > ROTATE_AFTER


def created_cell(value: datetime, creator: Any) -> SafeString:
    """Date and, when known, who created it (shared by every credential table)."""
    name = creator.get_full_name() if creator else "a former member"
    return format_html(
        '<time datetime="{}">{}</time><br><span class="muted">by {}</span>',
        value.isoformat(),
        date_format(timezone.localtime(value), "M j, Y"),
        name,
    )


def last_used_cell(value: datetime | None) -> SafeString:
    if value is None:
        return format_html('<span class="muted">{}</span>', "Never")
    return format_html(
        '<time datetime="{}">{}</time>',
        value.isoformat(),
        date_format(timezone.localtime(value), "M j, Y H:i"),
    )


class _ClientColumns(tables.Table):
    """The columns every client-credentials table starts with.

    Every column reads the row itself or `created_by`, which the selector joins, so a
    page costs the same number of queries whatever its length.
    """

    display_name = tables.TemplateColumn(
        template_name="credentials/clients/_name_cell.html",
        verbose_name="Display name",
        empty_values=(),
    )
    client_id = tables.TemplateColumn(
        template_name="credentials/clients/_client_id_cell.html",
        verbose_name="Client ID",
    )
    created_at = tables.Column(verbose_name="Created")

    def render_created_at(self, value: datetime, record: OAuthClient) -> SafeString:
        return created_cell(value, record.created_by)


class OAuthClientTable(_ClientColumns):
    """Display name, client ID (copy), created (by), last used, age, and actions.

    The actions column is left out for users without Manage.
    """

    last_used_at = tables.Column(verbose_name="Last used", empty_values=())
    age = tables.Column(verbose_name="Age", accessor="created_at", empty_values=())
    actions = tables.TemplateColumn(
        template_name="credentials/clients/_actions_cell.html",
        verbose_name="Actions",
        empty_values=(),
        orderable=False,
    )

    class Meta:
        model = OAuthClient
        fields = ("display_name", "client_id", "created_at", "last_used_at", "age", "actions")
        orderable = False
        attrs = {"class": "table", "id": "clients-table"}
        empty_text = (
            "No active client credentials. Your servers need a client ID and client secret, "
            "together with a service account, to get an API token."
        )

    def __init__(self, *args: Any, can_manage: bool = False, **kwargs: Any) -> None:
        if not can_manage:
            kwargs["exclude"] = (*kwargs.get("exclude", ()), "actions")
        super().__init__(*args, **kwargs)

    def render_last_used_at(self, value: datetime | None) -> SafeString:
        return last_used_cell(value)

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


class DeactivatedOAuthClientTable(_ClientColumns):
    """Deactivated client credentials: kept for the record, never usable again."""

    deactivated_at = tables.DateTimeColumn(verbose_name="Deactivated", format="M j, Y H:i")

    class Meta:
        model = OAuthClient
        fields = ("display_name", "client_id", "created_at", "deactivated_at")
        orderable = False
        attrs = {"class": "table", "id": "deactivated-clients-table"}
        empty_text = "No deactivated client credentials."
