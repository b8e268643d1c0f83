"""Legacy Basic-auth API keys: list (masked), generate (key shown once), deactivate.

Each view renders the whole page, or only its `{% partialdef %}` when htmx asks.
A plaintext API key exists only in the response to the POST that generated it.
"""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.views.decorators.http import require_http_methods
from django_htmx.http import HttpResponseClientRedirect

from credentials import permissions, selectors, services
from credentials.forms import ApiKeyForm, ConfirmForm
from credentials.tables.api_keys import ApiKeyTable, DeactivatedApiKeyTable
from credentials.views.common import credentials_view, page_context
from tango_portal.accounts.sudo import sudo_required
from tango_portal.core.http import client_ip, is_htmx, no_store, template_for
from tango_portal.models import Membership

app_name = "api_keys"


def _form(data: Any = None) -> ApiKeyForm:
    return ApiKeyForm(data, auto_id="id_api_key_%s")


def section_context(request: HttpRequest, membership: Membership) -> dict[str, Any]:
    """Context for the API-keys section of the API credentials page."""
    active = list(selectors.api_keys_active(team=membership.team))
    return {
        "api_keys_table": ApiKeyTable(active, can_manage=permissions.can_manage_credentials(membership)),
        "api_keys_max_active": services.MAX_ACTIVE_API_KEYS,
        "api_keys_limit_reached": len(active) >= services.MAX_ACTIVE_API_KEYS,
        "api_key_form": _form(),
    }


@credentials_view("view")
def api_key_list(request: HttpRequest, membership: Membership) -> HttpResponse:
    """Every API key of the team, masked: the active ones, then the deactivated ones."""
    context = page_context(membership, on_list_page=True, **section_context(request, membership))
    context["deactivated_table"] = DeactivatedApiKeyTable(
        selectors.api_keys_deactivated(team=membership.team)
    )
    return render(request, template_for(request, "credentials/api_keys/list.html", "api-keys"), context)


@require_http_methods(["GET", "POST"])
@credentials_view("manage")
def api_key_generate(request: HttpRequest, membership: Membership) -> HttpResponse:
    """GET: the form. POST: generate a key and show it this once."""
    team = membership.team
    form = _form(request.POST if request.method == "POST" else None)
    error = ""
    status = HTTPStatus.OK
    if request.method == "POST":
        if form.is_valid():
            try:
                key, plaintext = services.api_key_create(
                    actor=membership.user,
                    team=team,
                    platform_name=form.cleaned_data["platform_name"],
                    ip_address=client_ip(request),
                )
            except services.LimitReached as exc:
                error, status = str(exc), HTTPStatus.CONFLICT
            else:
                context = page_context(membership, key=key, api_key=plaintext)
                return no_store(
                    render(
                        request,
                        template_for(request, "credentials/api_keys/created.html", "created"),
                        context,
                    )
                )
        else:
            status = HTTPStatus.BAD_REQUEST
    active_count = selectors.api_keys_active(team=team).count()
    context = page_context(
        membership,
        form=form,
        error=error,
        active_count=active_count,
        limit_reached=active_count >= services.MAX_ACTIVE_API_KEYS,
        max_active=services.MAX_ACTIVE_API_KEYS,
    )
    return render(
        request,
        template_for(request, "credentials/api_keys/generate.html", "generate"),
        context,
        status=status,
    )


@require_http_methods(["GET", "POST"])
@credentials_view("manage")
@sudo_required
def api_key_deactivate(request: HttpRequest, membership: Membership, pk: int) -> HttpResponse:
    """GET asks for confirmation and never deactivates; POST with the box ticked does."""
    key = selectors.api_key_get(team=membership.team, pk=pk, include_deactivated=True)
    form = ConfirmForm(
        request.POST if request.method == "POST" else None,
        label="I understand that once I deactivate this key, I cannot undo it",
    )
    error = ""
    status = HTTPStatus.OK
    if request.method == "POST":
        if form.is_valid():
            try:
                services.api_key_deactivate(
                    actor=membership.user, team=membership.team, key=key, ip_address=client_ip(request)
                )
            except services.AlreadyDeleted as exc:
                error, status = str(exc), HTTPStatus.CONFLICT
            else:
                messages.success(request, f"Deactivated the API key {key.masked} ({key.platform_name}).")
                url = reverse("credentials:api_keys:list")
                return HttpResponseClientRedirect(url) if is_htmx(request) else redirect(url)
        else:
            status = HTTPStatus.BAD_REQUEST
    context = page_context(membership, key=key, form=form, error=error)
    return render(
        request,
        template_for(request, "credentials/api_keys/deactivate.html", "confirm"),
        context,
        status=status,
    )


urlpatterns = [
    path("", api_key_list, name="list"),
    path("generate/", api_key_generate, name="generate"),
    path("<int:pk>/deactivate/", api_key_deactivate, name="deactivate"),
]
