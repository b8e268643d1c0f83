"""Legacy Basic-auth API keys: list (masked), generate (key shown once), detail, deactivate.

List, generate and deactivate are the pages client credentials have too
(credentials.views.lifecycle); this module says what is an API key's own, and has its
detail page. A plaintext API key exists only in the one-time reveal page the generate
POST redirects to.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import path, reverse
from django.views.decorators.http import require_GET
from django_tables2 import RequestConfig

from credentials import permissions, selectors, services
from credentials.forms import ApiKeyForm
from credentials.tables.api_keys import ApiKeyTable, DeactivatedApiKeyTable
from credentials.views import reveal
from credentials.views.common import credentials_view, page_context
from credentials.views.lifecycle import CredentialPages, due_since
from tango_portal.core.http import client_ip, is_htmx, template_for
from tango_portal.models import Membership

app_name = "api_keys"


def _form(data: Any = None) -> ApiKeyForm:
    return ApiKeyForm(data, auto_id="id_api_key_%s")


def section_context(request: HttpRequest, membership: Membership) -> dict[str, Any]:
    """Context for the API-keys section of the API credentials page."""
    team = membership.team
    table = ApiKeyTable(
        selectors.api_keys_active(team=team),
        team=team,
        can_manage=permissions.can_manage_credentials(membership),
    )
    RequestConfig(request, paginate=False).configure(table)
    # The table's own (sorted) rows: one query for the table and the count below.
    active = list(table.data)
    return {
        "api_keys_table": table,
        "api_keys_max_active": services.MAX_ACTIVE_API_KEYS,
        "api_keys_limit_reached": len(active) >= services.MAX_ACTIVE_API_KEYS,
        "api_key_form": _form(),
    }


PAGES = CredentialPages(
    app="api_keys",
    name="key",
    create=services.api_key_create,
    shown=lambda key, plaintext: {"key": key, "api_key": plaintext},
    gone=reveal.Gone(
        what="API key",
        if_lost="generate a new key, switch your integration to it, and deactivate this one",
        link_label="Open the API key",
    ),
    credential_url=lambda key: reverse("credentials:api_keys:detail", kwargs={"pk": key.pk}),
    form=_form,
    active=selectors.api_keys_active,
    max_active=services.MAX_ACTIVE_API_KEYS,
    get=selectors.api_key_get,
    deactivate=services.api_key_deactivate,
    deactivated_message=lambda key: f"Deactivated the API key {key.masked} ({key.platform_name}).",
    confirm_label="I understand that once I deactivate this key, I cannot undo it",
    section=section_context,
    deactivated=lambda team: DeactivatedApiKeyTable(selectors.api_keys_deactivated(team=team)),
    list_partial="api-keys",
)

HISTORY_LIMIT = 10


@require_GET
@credentials_view("view")
def api_key_detail(request: HttpRequest, membership: Membership, pk: int) -> HttpResponse:
    """One API key, masked, with its use; a deactivated one too, for the record.

    The page records `viewed`; an htmx refresh of its details (`#details`) does not.
    """
    team = membership.team
    key = selectors.api_key_get(team=team, pk=pk, include_deactivated=True)
    if not is_htmx(request):
        services.api_key_view(actor=membership.user, team=team, key=key, ip_address=client_ip(request))
    context = page_context(
        membership,
        key=key,
        due_since=due_since(team, key),
        evidence=selectors.usage_evidence(key),
        rotation=selectors.open_rotation(key),
        leak_reports=selectors.open_leak_reports(key),
        history_rows=selectors.history_for_credential(team=team, identifier=key.prefix)[:HISTORY_LIMIT],
    )
    return render(request, template_for(request, "credentials/api_keys/detail.html", "details"), context)


urlpatterns = [
    *PAGES.urls(),
    path("<int:pk>/", api_key_detail, name="detail"),
]
