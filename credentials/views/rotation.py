"""A guided rotation of client credentials or an API key, and Revoke tokens of a service account.

Rotate (on the old credential) generates its successor and shows the new secret once, as
any new credential; the rotation page then shows both side by side with their use, says
when the old one has been quiet long enough, and finishes by deactivating it. Revoke
tokens ends a service account's tokens, so that a server that lost its token can get a
new one despite the once-a-day rule. All three changes ask for sudo mode.
"""

from __future__ import annotations

from datetime import timedelta
from http import HTTPStatus
from typing import Any

from django.contrib import messages
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods

from credentials import selectors, services
from credentials.forms import ConfirmForm
from credentials.models import AccessToken, CredentialType, Rotation
from credentials.views import api_keys, clients, reveal
from credentials.views.common import credentials_view, page_context
from credentials.views.lifecycle import CredentialPages
from tango_portal.accounts.sudo import sudo_required
from tango_portal.core.http import client_ip, redirect_after, template_for
from tango_portal.models import Membership

# What the rotation page offers as the quiet period (days without use of the old one).
QUIET_DAYS = (1, 3, 7, 14, 30)
FINISH_LABEL = "I understand that the old credentials stop working now, for good"
REVOKE_LABEL = "I understand that every server using this account's tokens must get a new token"

# Per type of rotatable credential (its URL namespace): its shared pages and what one is called.
KINDS: dict[str, tuple[CredentialPages[Any], str]] = {
    "clients": (clients.PAGES, "client credentials"),
    "api_keys": (api_keys.PAGES, "API key"),
}
_APPS: dict[str, str] = {CredentialType.OAUTH_CLIENT: "clients", CredentialType.API_KEY: "api_keys"}
_TYPES = {app: credential_type for credential_type, app in _APPS.items()}


def _open_rotation(credential_type: str, pk: int) -> Rotation | None:
    return Rotation.objects.filter(
        credential_type=credential_type, old_pk=pk, finished_at__isnull=True
    ).first()


@require_http_methods(["GET", "POST"])
@credentials_view("manage")
@sudo_required
def rotation_start(request: HttpRequest, membership: Membership, pk: int, kind: str) -> HttpResponse:
    """GET: what rotating does. POST: generate the successor and show its secret once.

    An old credential already being rotated goes to its rotation; a refusal (the most
    active credentials already, deactivated meanwhile) is the page again with why (409).
    """
    pages, noun = KINDS[kind]
    credential = pages.get(team=membership.team, pk=pk, include_deactivated=True)
    if (under_way := _open_rotation(_TYPES[kind], credential.pk)) is not None:
        if request.method == "POST":
            messages.info(request, "These credentials are already being rotated: here is the rotation.")
        return redirect_after(request, reverse("credentials:rotation", args=[under_way.pk]))
    error = ""
    if request.method == "POST":
        try:
            with transaction.atomic():
                _, new, secret = services.rotation_start(
                    actor=membership.user,
                    team=membership.team,
                    credential=credential,
                    ip_address=client_ip(request),
                )
                return reveal.redirect_to_reveal(
                    request, membership, new, secret, url_name=f"credentials:{kind}:reveal"
                )
        except services.CredentialError as refused:
            error = str(refused)
    context = page_context(
        membership,
        credential=credential,
        noun=noun,
        error=error,
        credential_url=pages.credential_url(credential),
    )
    status = HTTPStatus.CONFLICT if error else HTTPStatus.OK
    return render(request, "credentials/rotations/start.html", context, status=status)


def _side(credential: Any, now: Any) -> dict[str, Any]:
    _, name, identifier = services.describe(credential)
    return {
        "credential": credential,
        "name": name,
        "identifier": identifier,
        "evidence": selectors.usage_evidence(credential, now=now),
    }


def _rotation_context(membership: Membership, rotation: Rotation, quiet: int, **extra: Any) -> dict[str, Any]:
    old, new = services.rotation_credentials(rotation)
    now = timezone.now()
    old_side, new_side = _side(old, now), _side(new, now)
    last_old = old_side["evidence"].last_used_at
    return page_context(
        membership,
        rotation=rotation,
        app=_APPS[rotation.credential_type],
        noun=_noun(rotation),
        old_url=KINDS[_APPS[rotation.credential_type]][0].credential_url(old),
        new_url=KINDS[_APPS[rotation.credential_type]][0].credential_url(new),
        old=old_side,
        new=new_side,
        quiet_days=quiet,
        quiet_choices=QUIET_DAYS,
        # Quiet: not used for `quiet` days, or never used at all.
        old_is_quiet=last_old is None or now - last_old >= timedelta(days=quiet),
        quiet_since=last_old,
        new_never_used=new_side["evidence"].last_used_at is None,
        **extra,
    )


def _quiet(request: HttpRequest, rotation: Rotation) -> int:
    try:
        chosen = int(request.GET.get("quiet", ""))
    except ValueError:
        return rotation.quiet_days
    return chosen if chosen in QUIET_DAYS else rotation.quiet_days


def _rotation(membership: Membership, pk: int) -> Rotation:
    return get_object_or_404(Rotation, pk=pk, team=membership.team)


@require_GET
@credentials_view("view")
def rotation_detail(request: HttpRequest, membership: Membership, pk: int) -> HttpResponse:
    """Old and new side by side, each with its last use and its use per day."""
    rotation = _rotation(membership, pk)
    context = _rotation_context(
        membership, rotation, _quiet(request, rotation), form=ConfirmForm(label=FINISH_LABEL)
    )
    return render(request, template_for(request, "credentials/rotations/detail.html", "finish"), context)


@require_http_methods(["POST"])
@credentials_view("manage")
@sudo_required
def rotation_finish(request: HttpRequest, membership: Membership, pk: int) -> HttpResponse:
    """Deactivate the old credential and finish the rotation, the box ticked."""
    rotation = _rotation(membership, pk)
    form = ConfirmForm(request.POST, label=FINISH_LABEL)
    error = ""
    if form.is_valid():
        try:
            services.rotation_finish(
                actor=membership.user, team=membership.team, rotation=rotation, ip_address=client_ip(request)
            )
        except services.CredentialError as refused:
            error = str(refused)
        else:
            messages.success(request, f"Rotation finished: the old {_noun(rotation)} are deactivated.")
            return redirect_after(request, reverse("credentials:rotation", args=[rotation.pk]))
    rotation.refresh_from_db()
    context = _rotation_context(membership, rotation, _quiet(request, rotation), form=form, error=error)
    status = HTTPStatus.CONFLICT if error else HTTPStatus.UNPROCESSABLE_ENTITY
    return render(
        request, template_for(request, "credentials/rotations/detail.html", "finish"), context, status=status
    )


def _noun(rotation: Rotation) -> str:
    return KINDS[_APPS[rotation.credential_type]][1]


# --- Revoke tokens ---------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
@credentials_view("manage")
@sudo_required
def revoke_tokens(request: HttpRequest, membership: Membership, pk: int) -> HttpResponse:
    """GET: what revoking ends. POST, the box ticked: end the account's tokens now."""
    account = selectors.service_account_get(team=membership.team, pk=pk, include_deleted=True)
    form = ConfirmForm(request.POST if request.method == "POST" else None, label=REVOKE_LABEL)
    error = ""
    status = HTTPStatus.OK
    if request.method == "POST":
        status = HTTPStatus.UNPROCESSABLE_ENTITY
        if form.is_valid():
            try:
                revoked = services.service_account_revoke_tokens(
                    actor=membership.user,
                    team=membership.team,
                    account=account,
                    ip_address=client_ip(request),
                )
            except services.CredentialError as refused:
                error, status = str(refused), HTTPStatus.CONFLICT
            else:
                tokens = "1 live token" if revoked == 1 else f"{revoked} live tokens"
                messages.success(
                    request,
                    f"Revoked {tokens} of {account}. Its next token request gets a new token.",
                )
                return redirect_after(
                    request, reverse("credentials:service_accounts:detail", args=[account.pk])
                )
    live = AccessToken.objects.filter(
        service_account=account, revoked_at__isnull=True, expires_at__gt=timezone.now()
    ).count()
    context = page_context(membership, account=account, form=form, error=error, live_tokens=live)
    return render(
        request,
        template_for(request, "credentials/service_accounts/revoke_tokens.html", "confirm"),
        context,
        status=status,
    )
