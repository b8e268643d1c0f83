"""OAuth client credentials: list, generate (secret shown once), detail, rename, deactivate.

Each view renders the whole page, or only its `{% partialdef %}` when htmx asks.
A plaintext client secret exists only in the response to the POST that generated it.
"""

from __future__ import annotations

from datetime import date
from http import HTTPStatus
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST
from django_htmx.http import HttpResponseClientRedirect

from credentials import permissions, selectors, services
from credentials.forms import ConfirmForm, DisplayNameForm
from credentials.models import OAuthClient
from credentials.tables.clients import DeactivatedOAuthClientTable, OAuthClientTable, needs_rotation
from credentials.views.common import credentials_view, page_context
from tango_portal.accounts.sudo import sudo_required
from tango_portal.core.http import client_ip, is_htmx, no_store, template_for
from tango_portal.models import Membership

app_name = "clients"


def _legacy_dates() -> dict[str, Any]:
    """The dates the legacy notice quotes, from settings, and whether the deadline has passed."""
    deadline = date.fromisoformat(settings.OAUTH_MIGRATION_DEADLINE)
    return {
        "legacy_cutoff": date.fromisoformat(settings.OAUTH_LEGACY_CUTOFF),
        "migration_deadline": deadline,
        "migration_deadline_passed": timezone.localdate() > deadline,
    }


def section_context(request: HttpRequest, membership: Membership) -> dict[str, Any]:
    """Context for the client-credentials section of the API credentials page."""
    team = membership.team
    can_manage = permissions.can_manage_credentials(membership)
    active = list(selectors.oauth_clients_active(team=team))
    return {
        "clients_table": OAuthClientTable(active, can_manage=can_manage),
        "clients_active_count": len(active),
        "clients_max_active": services.MAX_ACTIVE_CLIENTS,
        "clients_limit_reached": len(active) >= services.MAX_ACTIVE_CLIENTS,
        "clients_have_legacy": any(client.legacy for client in active),
        "clients_need_rotation": any(needs_rotation(client) for client in active),
        **_legacy_dates(),
    }


@credentials_view("view")
def client_list(request: HttpRequest, membership: Membership) -> HttpResponse:
    """Every client credential of the team: the active ones, then the deactivated ones."""
    context = page_context(membership, on_list_page=True, **section_context(request, membership))
    context["deactivated_table"] = DeactivatedOAuthClientTable(
        selectors.oauth_clients_deactivated(team=membership.team)
    )
    return render(request, template_for(request, "credentials/clients/list.html", "clients"), context)


@require_http_methods(["GET", "POST"])
@credentials_view("manage")
def client_generate(request: HttpRequest, membership: Membership) -> HttpResponse:
    """GET: what generating does. POST: generate, and show the secret this once."""
    team = membership.team
    form = DisplayNameForm(request.POST if request.method == "POST" else None)
    error = ""
    status = HTTPStatus.OK
    if request.method == "POST":
        if form.is_valid():
            try:
                client, secret = services.oauth_client_create(
                    actor=membership.user,
                    team=team,
                    display_name=form.cleaned_data["display_name"],
                    ip_address=client_ip(request),
                )
            except services.CredentialError as exc:
                # Not enabled for OAuth, or two already active: nothing was created.
                error, status = str(exc), HTTPStatus.CONFLICT
            else:
                context = page_context(
                    membership, client=client, client_secret=secret, name_form=_name_form(client)
                )
                return no_store(
                    render(
                        request, template_for(request, "credentials/clients/created.html", "created"), context
                    )
                )
        else:
            status = HTTPStatus.BAD_REQUEST
    active_count = selectors.oauth_clients_active(team=team).count()
    context = page_context(
        membership,
        form=form,
        error=error,
        active_count=active_count,
        limit_reached=active_count >= services.MAX_ACTIVE_CLIENTS,
        max_active=services.MAX_ACTIVE_CLIENTS,
    )
    return render(
        request,
        template_for(request, "credentials/clients/generate.html", "generate"),
        context,
        status=status,
    )


def _name_form(client: OAuthClient, data: Any = None) -> DisplayNameForm:
    return DisplayNameForm(data, initial={"display_name": client.display_name}, auto_id="id_client_%s")


def _detail_context(membership: Membership, client: OAuthClient, **extra: Any) -> dict[str, Any]:
    return page_context(
        membership,
        client=client,
        rotate=needs_rotation(client),
        live_tokens=selectors.oauth_client_live_token_count(client=client),
        name_form=extra.pop("name_form", None) or _name_form(client),
        history_rows=selectors.history_for_credential(team=membership.team, identifier=client.client_id)[:10],
        **_legacy_dates(),
        **extra,
    )


@require_http_methods(["GET"])
@credentials_view("view")
def client_detail(request: HttpRequest, membership: Membership, pk: int) -> HttpResponse:
    """The detail page records `viewed`; an htmx refresh of its details does not."""
    client = selectors.oauth_client_get(team=membership.team, pk=pk, include_deactivated=True)
    if not is_htmx(request):
        services.oauth_client_view(
            actor=membership.user, team=membership.team, client=client, ip_address=client_ip(request)
        )
    return render(
        request,
        template_for(request, "credentials/clients/detail.html", "details"),
        _detail_context(membership, client),
    )


@require_POST
@credentials_view("manage")
def client_rename(request: HttpRequest, membership: Membership, pk: int) -> HttpResponse:
    """Change the display name; htmx gets the name form back, a plain form post a redirect."""
    client = selectors.oauth_client_get(team=membership.team, pk=pk, include_deactivated=True)
    form = _name_form(client, request.POST)
    error = ""
    saved = False
    status = HTTPStatus.OK
    if form.is_valid():
        try:
            client = services.oauth_client_rename(
                actor=membership.user,
                team=membership.team,
                client=client,
                display_name=form.cleaned_data["display_name"],
                ip_address=client_ip(request),
            )
        except services.AlreadyDeleted as exc:
            error, status = str(exc), HTTPStatus.CONFLICT
        except ValidationError as exc:
            error, status = " ".join(exc.messages), HTTPStatus.BAD_REQUEST
        else:
            if not is_htmx(request):
                messages.success(request, f"Saved the display name of client credentials {client.client_id}.")
                return redirect("credentials:clients:list")
            form, saved = _name_form(client), True
    else:
        status = HTTPStatus.BAD_REQUEST
    context = _detail_context(membership, client, name_form=form, name_error=error, name_saved=saved)
    return render(
        request, template_for(request, "credentials/clients/detail.html", "name-form"), context, status=status
    )


@require_http_methods(["GET", "POST"])
@credentials_view("manage")
@sudo_required
def client_deactivate(request: HttpRequest, membership: Membership, pk: int) -> HttpResponse:
    """GET asks for confirmation and never deactivates; POST with the box ticked does."""
    client = selectors.oauth_client_get(team=membership.team, pk=pk, include_deactivated=True)
    form = ConfirmForm(
        request.POST if request.method == "POST" else None,
        label="I understand that this cannot be undone and revokes every token issued through them",
    )
    error = ""
    status = HTTPStatus.OK
    if request.method == "POST":
        if form.is_valid():
            try:
                services.oauth_client_deactivate(
                    actor=membership.user, team=membership.team, client=client, ip_address=client_ip(request)
                )
            except services.AlreadyDeleted as exc:
                error, status = str(exc), HTTPStatus.CONFLICT
            else:
                messages.success(
                    request,
                    f"Deactivated client credentials {client.client_id}. Every token issued "
                    "through them was revoked.",
                )
                url = reverse("credentials:clients:list")
                return HttpResponseClientRedirect(url) if is_htmx(request) else redirect(url)
        else:
            status = HTTPStatus.BAD_REQUEST
    context = page_context(
        membership,
        client=client,
        form=form,
        error=error,
        live_tokens=selectors.oauth_client_live_token_count(client=client),
        only_active=client.is_active and selectors.oauth_clients_active(team=membership.team).count() == 1,
    )
    return render(
        request,
        template_for(request, "credentials/clients/deactivate.html", "confirm"),
        context,
        status=status,
    )


urlpatterns = [
    path("", client_list, name="list"),
    path("generate/", client_generate, name="generate"),
    path("<int:pk>/", client_detail, name="detail"),
    path("<int:pk>/rename/", client_rename, name="rename"),
    path("<int:pk>/deactivate/", client_deactivate, name="deactivate"),
]
