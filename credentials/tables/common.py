"""What every credential table shares: who created each and when, when it was last used
(sortable), whether it is due for rotation, its actions for Manage users only, and when it
was deactivated.

Every column reads the row itself or `created_by`, which the selectors join, and the
rotation policy reads the team the view passes, so a page costs the same number of
queries whatever its length.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import django_tables2 as tables
from django.db.models import F, QuerySet
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import format_html
from django.utils.safestring import SafeString

from credentials import policy
from tango_portal.models import Team


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
        return format_html('<span class="muted">{}</span>', "Never used")
    return format_html(
        '<time datetime="{}">{}</time>',
        value.isoformat(),
        date_format(timezone.localtime(value), "M j, Y H:i"),
    )


def due_badge(team: Team, credential: policy.Rotatable, now: datetime) -> SafeString:
    """ "Due for rotation", in words, when `credential` reached its team's maximum age."""
    due = policy.due_at(team, credential)
    if due is None or not policy.is_due(team, credential, now=now):
        return SafeString("")
    return format_html(
        '<br><span class="badge badge--warn" title="{}">Due for rotation</span>',
        f"It reached your team's maximum credential age ({team.max_credential_age_days} days) on "
        f"{date_format(timezone.localtime(due), 'M j, Y')}: replace it with a new one.",
    )


def order_last_used(queryset: QuerySet[Any], is_descending: bool) -> tuple[QuerySet[Any], bool]:
    """Most recently used first (never used last), or the reverse; then newest first."""
    last_used = F("last_used_at")
    first = last_used.desc(nulls_last=True) if is_descending else last_used.asc(nulls_first=True)
    return queryset.order_by(first, "-created_at", "-id"), True


def actions_column(template_name: str) -> tables.TemplateColumn:
    """The actions cell of a live credential (ActiveCredentialTable shows it to Manage users only)."""
    return tables.TemplateColumn(
        template_name=template_name, verbose_name="Actions", empty_values=(), orderable=False
    )


class CredentialTable(tables.Table):
    """When each credential was created and by whom; only the columns that say so sort.

    A type's own columns come first: it lists them in a class of its own, put before
    this one among the bases, since django-tables2 orders inherited columns by base.
    """

    created_at = tables.Column(verbose_name="Created")

    class Meta:
        orderable = False
        template_name = "credentials/includes/table.html"

    def render_created_at(self, value: datetime, record: Any) -> SafeString:
        return created_cell(value, record.created_by)


class ActiveCredentialTable(CredentialTable):
    """Live credentials of `team`: when each was created (and whether that makes it due for
    rotation), when it was last used (sortable, from a queryset), then the type's `actions`
    (Manage only)."""

    last_used_at = tables.Column(
        verbose_name="Last used", empty_values=(), orderable=True, initial_sort_descending=True
    )

    def __init__(self, *args: Any, team: Team, can_manage: bool = False, **kwargs: Any) -> None:
        if not can_manage:
            kwargs["exclude"] = (*kwargs.get("exclude", ()), "actions")
        self.team = team
        self.now = timezone.now()
        super().__init__(*args, **kwargs)

    def render_created_at(self, value: datetime, record: Any) -> SafeString:
        return format_html(
            "{}{}", created_cell(value, record.created_by), due_badge(self.team, record, self.now)
        )

    def render_last_used_at(self, value: datetime | None) -> SafeString:
        return last_used_cell(value)

    def order_last_used_at(self, queryset: QuerySet[Any], is_descending: bool) -> tuple[QuerySet[Any], bool]:
        return order_last_used(queryset, is_descending)


class DeactivatedCredentialTable(CredentialTable):
    """Deactivated credentials: kept for the record, never usable again."""

    deactivated_at = tables.DateTimeColumn(verbose_name="Deactivated", format="M j, Y H:i")
