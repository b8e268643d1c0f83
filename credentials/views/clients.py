"""OAuth client credentials: list, generate (secret shown once), detail, rename, deactivate.

List, generate and deactivate are the pages API keys have too (credentials.views.lifecycle);
this module says what is a client's own, and has its detail and rename pages. Each view
renders the whole page, or only its `{% partialdef %}` when htmx asks. A plaintext client
secret exists only in the one-time reveal page the generate POST redirects to.
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
from django_tables2 import RequestConfig

from credentials import permissions, selectors, services
from credentials.forms import DisplayNameForm, NewDisplayNameForm
from credentials.models import OAuthClient
from credentials.tables.clients import DeactivatedOAuthClientTable, OAuthClientTable, needs_rotation
from credentials.views import reveal
from credentials.views.common import credentials_view, page_context
from credentials.views.lifecycle import CredentialPages, due_since
from tango_portal.accounts.sudo import sudo_exempt, sudo_required
from tango_portal.core.http import client_ip, is_htmx, redirect_after, template_for
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
    table = OAuthClientTable(selectors.oauth_clients_active(team=team), team=team, can_manage=can_manage)
    RequestConfig(request, paginate=False).configure(table)
    # The table's own (sorted) rows: one query for the table and the counts below.
    active: list[OAuthClient] = list(table.data)
    return {
        "clients_table": table,
        "clients_active_count": len(active),
        "clients_max_active": services.MAX_ACTIVE_CLIENTS,
        "clients_limit_reached": len(active) >= services.MAX_ACTIVE_CLIENTS,
        "clients_have_legacy": any(client.legacy for client in active),
        "clients_need_rotation": any(needs_rotation(client) for client in active),
        **_legacy_dates(),
    }


def _name_form(client: OAuthClient, data: Any = None) -> DisplayNameForm:
    return DisplayNameForm(data, initial={"display_name": client.display_name}, auto_id="id_client_%s")


def _detail_context(membership: Membership, client: OAuthClient, **extra: Any) -> dict[str, Any]:
    return page_context(
        membership,
        client=client,
        rotate=needs_rotation(client),
        due_since=due_since(membership.team, client),
        evidence=selectors.usage_evidence(client),
        rotation=selectors.open_rotation(client),
        leak_reports=selectors.open_leak_reports(client),
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
@sudo_exempt("a new display name: no secret, access or permission changes")
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
            error, status = " ".join(exc.messages), HTTPStatus.UNPROCESSABLE_ENTITY
        else:
            if not is_htmx(request):
                messages.success(request, f"Saved the display name of client credentials {client.client_id}.")
                return redirect("credentials:clients:list")
            form, saved = _name_form(client), True
    else:
        status = HTTPStatus.UNPROCESSABLE_ENTITY
    context = _detail_context(membership, client, name_form=form, name_error=error, name_saved=saved)
    return render(
        request, template_for(request, "credentials/clients/detail.html", "name-form"), context, status=status
    )


def _deactivate_context(membership: Membership, client: OAuthClient) -> dict[str, Any]:
    """What deactivating would end: its live tokens, and whether the team is left with none."""
    return {
        "live_tokens": selectors.oauth_client_live_token_count(client=client),
        "only_active": client.is_active and selectors.oauth_clients_active(team=membership.team).count() == 1,
    }


PAGES = CredentialPages(
    app="clients",
    name="client",
    # Refused when the team is not enabled for OAuth or already has the most active.
    create=services.oauth_client_create,
    shown=lambda client, secret: {"client": client, "client_secret": secret},
    gone=reveal.Gone(
        what="client secret",
        if_lost="generate new client credentials, switch your servers to them, and deactivate these",
        link_label="Open the client credentials",
    ),
    credential_url=lambda client: reverse("credentials:clients:detail", kwargs={"pk": client.pk}),
    form=NewDisplayNameForm,
    active=selectors.oauth_clients_active,
    max_active=services.MAX_ACTIVE_CLIENTS,
    get=selectors.oauth_client_get,
    deactivate=services.oauth_client_deactivate,
    deactivated_message=lambda client: (
        f"Deactivated client credentials {client.client_id}. Every token issued through them was revoked."
    ),
    confirm_label="I understand that this cannot be undone and revokes every token issued through them",
    deactivate_context=_deactivate_context,
    section=section_context,
    deactivated=lambda team: DeactivatedOAuthClientTable(selectors.oauth_clients_deactivated(team=team)),
    list_partial="clients",
)


@require_POST
@credentials_view("manage")
@sudo_required
def client_require_dpop(request: HttpRequest, membership: Membership, pk: int) -> HttpResponse:
    """Turn Require DPoP on (`required=on`) or off for these client credentials."""
    client = selectors.oauth_client_get(team=membership.team, pk=pk, include_deactivated=True)
    required = request.POST.get("required") == "on"
    try:
        services.oauth_client_set_require_dpop(
            actor=membership.user,
            team=membership.team,
            client=client,
            required=required,
            ip_address=client_ip(request),
        )
    except services.AlreadyDeleted as error:
        messages.error(request, f"{error} Nothing was changed.")
    else:
        messages.success(
            request,
            "These client credentials now require DPoP: bearer tokens are refused at the token endpoint."
            if required
            else "These client credentials no longer require DPoP: bearer tokens are issued again.",
        )
    return redirect_after(request, reverse("credentials:clients:detail", args=[client.pk]) + "#client-dpop")


urlpatterns = [
    *PAGES.urls(),
    path("<int:pk>/", client_detail, name="detail"),
    path("<int:pk>/rename/", client_rename, name="rename"),
    path("<int:pk>/require-dpop/", client_require_dpop, name="require-dpop"),
]
