"""What every credential table shares: who created each and when, when it was last used,
its actions for Manage users only, and when it was deactivated.

Every column reads the row itself or `created_by`, which the selectors join, so a page
costs the same number of queries whatever its length.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import django_tables2 as tables
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import format_html
from django.utils.safestring import SafeString


def created_cell(value: datetime, creator: Any) -> SafeString:
    """Date and, when known, who created it."""
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


def actions_column(template_name: str) -> tables.TemplateColumn:
    """The actions cell of a live credential (ActiveCredentialTable shows it to Manage users only)."""
    return tables.TemplateColumn(
        template_name=template_name, verbose_name="Actions", empty_values=(), orderable=False
    )


class CredentialTable(tables.Table):
    """When each credential was created and by whom; credential tables are never sorted.

    A type's own columns come first: it lists them in a class of its own, put before
    this one among the bases, since django-tables2 orders inherited columns by base.
    """

    created_at = tables.Column(verbose_name="Created")

    class Meta:
        orderable = False

    def render_created_at(self, value: datetime, record: Any) -> SafeString:
        return created_cell(value, record.created_by)


class ActiveCredentialTable(CredentialTable):
    """Live credentials: when each was last used, then the type's `actions` (Manage only)."""

    last_used_at = tables.Column(verbose_name="Last used", empty_values=())

    def __init__(self, *args: Any, can_manage: bool = False, **kwargs: Any) -> None:
        if not can_manage:
            kwargs["exclude"] = (*kwargs.get("exclude", ()), "actions")
        super().__init__(*args, **kwargs)

    def render_last_used_at(self, value: datetime | None) -> SafeString:
        return last_used_cell(value)


class DeactivatedCredentialTable(CredentialTable):
    """Deactivated credentials: kept for the record, never usable again."""

    deactivated_at = tables.DateTimeColumn(verbose_name="Deactivated", format="M j, Y H:i")
