from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from credentials.views import api_keys, clients, service_accounts
from credentials.views.common import credentials_view, page_context
from credentials.views.panel import get_token_context
from tango_portal.models import Membership


@require_GET
@credentials_view("view")
def api_credentials(request: HttpRequest, membership: Membership) -> HttpResponse:
    """Team settings > API credentials: every section of the current team."""
    context = page_context(membership, active_tab="credentials")
    context.update(clients.section_context(request, membership))
    context.update(service_accounts.section_context(request, membership))
    context.update(api_keys.section_context(request, membership))
    context.update(get_token_context(membership))
    return render(request, "credentials/index.html", context)
