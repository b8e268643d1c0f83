"""Tables for Team settings > Users: the members and the team activity record."""

from __future__ import annotations

from typing import Any

import django_tables2 as tables
from django.utils.html import format_html

from tango_portal.members import activity
from tango_portal.models import Membership, TeamActivity


class MemberTable(tables.Table):
    # members_for_team's display_name: for an unused account, the name this team typed.
    name = tables.Column(verbose_name="Name", accessor="display_name", orderable=False)
    email = tables.Column(verbose_name="Email", accessor="user__email", orderable=False)
    role = tables.Column(verbose_name="Role", orderable=False)
    api_keys_permission = tables.Column(verbose_name="Tango API keys", orderable=False)
    status = tables.TemplateColumn(
        verbose_name="Status",
        template_name="tango_portal/members/_status_cell.html",
        orderable=False,
        empty_values=(),
    )
    actions = tables.TemplateColumn(
        verbose_name="Actions",
        template_name="tango_portal/members/_actions_cell.html",
        orderable=False,
        empty_values=(),
    )

    class Meta:
        model = Membership
        fields = ("name", "email", "role", "api_keys_permission", "status", "actions")
        attrs = {"class": "table", "id": "members-table"}
        empty_text = "This team has no members."


class TeamActivityTable(tables.Table):
    occurred_at = tables.DateTimeColumn(verbose_name="Date", format="Y-m-d H:i:s", orderable=False)
    action = tables.Column(verbose_name="Action", orderable=False)
    subject = tables.Column(verbose_name="Member", accessor="subject_name", orderable=False, empty_values=())
    from_value = tables.Column(verbose_name="From", orderable=False)
    to_value = tables.Column(verbose_name="To", orderable=False)
    actor = tables.Column(verbose_name="By", accessor="actor_name", orderable=False, empty_values=())

    class Meta:
        # The columns in the order declared above.
        attrs = {"class": "table", "id": "team-activity-table"}
        empty_text = "No changes yet: additions, removals and permission changes will be listed here."

    def render_subject(self, record: TeamActivity) -> Any:
        return _person(record.subject_name, record.subject_email)

    def render_actor(self, record: TeamActivity) -> Any:
        return _person(record.actor_name, record.actor_email)

    def render_from_value(self, record: TeamActivity, value: str) -> str:
        return activity.describe_value(record, value)

    def render_to_value(self, record: TeamActivity, value: str) -> str:
        return activity.describe_value(record, value)


def _person(name: str, email: str) -> Any:
    if not (name or email):
        return "—"
    return format_html('{}<br><span class="muted">{}</span>', name or email, email)
