from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_GET

from credentials import permissions, reminders
from credentials.models import CredentialType
from credentials.views import api_keys, clients, service_accounts
from credentials.views.common import credentials_view, page_context
from credentials.views.panel import get_token_context
from tango_portal.models import Membership

# Where the summary sends each type's due credentials: its list, which marks them.
_DUE_LISTS = (
    (CredentialType.OAUTH_CLIENT, "Client credentials", "credentials:clients:list"),
    (CredentialType.SERVICE_ACCOUNT, "Service accounts", "credentials:service_accounts:list"),
    (CredentialType.API_KEY, "API keys", "credentials:api_keys:list"),
)


def rotation_context(membership: Membership) -> dict[str, Any]:
    """The policy line and the *Due for rotation* summary: one query, none without a policy."""
    team = membership.team
    counts = reminders.due_for_rotation_counts(team=team)
    return {
        "max_age_days": team.max_credential_age_days,
        "can_set_policy": permissions.can_manage_members(membership),
        "due_total": sum(counts.values()),
        "due_lists": [
            (label, counts[kind], reverse(url_name))
            for kind, label, url_name in _DUE_LISTS
            if counts.get(kind)
        ],
    }


@require_GET
@credentials_view("view")
def api_credentials(request: HttpRequest, membership: Membership) -> HttpResponse:
    """Team settings > API credentials: every section of the current team."""
    context = page_context(membership, active_tab="credentials")
    context.update(rotation_context(membership))
    context.update(clients.section_context(request, membership))
    context.update(service_accounts.section_context(request, membership))
    context.update(api_keys.section_context(request, membership))
    context.update(get_token_context(membership))
    return render(request, "credentials/index.html", context)
