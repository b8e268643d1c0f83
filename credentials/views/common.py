"""What every API-credentials view shares: the current team, permission gates, no-store."""

from __future__ import annotations

import functools
from collections.abc import Callable
from http import HTTPStatus
from typing import Any, Concatenate, Literal, ParamSpec

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.cache import add_never_cache_headers, patch_cache_control

from credentials import permissions, selectors
from tango_portal.accounts.teams import current_membership
from tango_portal.core import security_log
from tango_portal.models import Membership

P = ParamSpec("P")
Level = Literal["view", "manage"]


def client_ip(request: HttpRequest) -> str | None:
    """The caller's address as the (trusted) front proxy or the socket reports it."""
    return request.META.get("REMOTE_ADDR") or None


def forbidden(request: HttpRequest, membership: Membership | None, needed: Level) -> HttpResponse:
    """The 403 page: what permission is missing and which admins can grant it."""
    admins = list(selectors.team_admins(team=membership.team)) if membership else []
    security_log.event(
        "permission_refused",
        request=request,
        team=membership.team.slug if membership else None,
        needed=needed,
        has=membership.api_keys_permission if membership else None,
    )
    response = render(
        request,
        "credentials/forbidden.html",
        {"membership": membership, "needed": needed, "admins": admins},
        status=HTTPStatus.FORBIDDEN,
    )
    return response


def no_store(response: HttpResponse) -> HttpResponse:
    """Mark a response that shows a secret: no cache, proxy or back button may keep it."""
    add_never_cache_headers(response)
    patch_cache_control(response, no_store=True, no_cache=True, must_revalidate=True, private=True)
    response["Pragma"] = "no-cache"
    return response


def credentials_view(
    level: Level,
) -> Callable[
    [Callable[Concatenate[HttpRequest, Membership, P], HttpResponse]],
    Callable[Concatenate[HttpRequest, P], HttpResponse],
]:
    """Require sign-in and the Tango API keys permission `level` for the current team.

    The wrapped view receives the current membership as its second argument.
    """

    def decorator(
        view: Callable[Concatenate[HttpRequest, Membership, P], HttpResponse],
    ) -> Callable[Concatenate[HttpRequest, P], HttpResponse]:
        @login_required
        @functools.wraps(view)
        def wrapped(request: HttpRequest, *args: P.args, **kwargs: P.kwargs) -> HttpResponse:
            membership = current_membership(request)
            allowed = (
                permissions.can_manage_credentials(membership)
                if level == "manage"
                else permissions.can_view_credentials(membership)
            )
            if membership is None or not allowed:
                return forbidden(request, membership, level)
            return view(request, membership, *args, **kwargs)

        return wrapped

    return decorator


def page_context(membership: Membership, **extra: Any) -> dict[str, Any]:
    return {
        "membership": membership,
        "team": membership.team,
        "can_manage": permissions.can_manage_credentials(membership),
        **extra,
    }
