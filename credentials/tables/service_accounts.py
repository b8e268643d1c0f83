"""The table of a team's live service accounts (never a secret: there is none to show)."""

from __future__ import annotations

import django_tables2 as tables
from django.urls import reverse
from django.utils.html import format_html

from credentials.models import ServiceAccount
from credentials.tables.common import ActiveCredentialTable


class ServiceAccountTable(ActiveCredentialTable):
    """Username (link and copy button), display name, created (by, and whether due for
    rotation), last used (a token request or an API call with its tokens; sortable).

    Every column reads the row itself or `created_by`, which the selector joins, so
    rendering a page costs the same number of queries whatever its length.
    """

    username = tables.Column(verbose_name="Username")
    display_name = tables.Column(verbose_name="Display name", empty_values=("",), default="—")

    class Meta(ActiveCredentialTable.Meta):
        model = ServiceAccount
        fields = ("username", "display_name", "created_at", "last_used_at")
        sequence = ("username", "display_name", "created_at", "last_used_at")
        prefix = "sa-"
        attrs = {"class": "table", "id": "service-accounts-table"}
        empty_text = (
            "No service accounts yet. A service account is the username and password your "
            "servers send with your client credentials to get an API token; create one for "
            "each system that calls the Tango API."
        )

    def render_username(self, value: str, record: ServiceAccount) -> str:
        # Built here rather than in a TemplateColumn: a template column renders each
        # cell with the request, which runs every context processor once per row.
        # The copy button works as in includes/copy.html (static/js/portal.js).
        copy_id = f"sa-username-{record.pk}"
        return format_html(
            '<span class="copy-field copy-field--identifier">'
            '<a href="{}" title="{}"><code id="{}">{}</code></a>'
            '<button type="button" class="button button--small" data-copy-target="#{}" '
            'aria-label="Copy username {}" hidden>Copy</button>'
            '<span class="copy-status" aria-live="polite"></span></span>',
            reverse("credentials:service_accounts:detail", args=[record.pk]),
            value,
            copy_id,
            value,
            copy_id,
            value,
        )
