"""What every API-credentials view shares: the permission gate and the page context."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Concatenate, Literal

from django.http import HttpRequest, HttpResponse

from credentials import permissions
from tango_portal.accounts.teams import membership_required
from tango_portal.core.http import refresh_on_not_found
from tango_portal.models import Membership

Level = Literal["view", "manage"]


def credentials_view[**P](
    level: Level,
) -> Callable[
    [Callable[Concatenate[HttpRequest, Membership, P], HttpResponse]],
    Callable[Concatenate[HttpRequest, P], HttpResponse],
]:
    """Require sign-in and the Tango API keys permission `level` for the current team.

    An object that vanished (or was never the team's) during an htmx request reloads
    the page with a message rather than answering a fragment of a 404.
    """
    allowed = permissions.can_manage_credentials if level == "manage" else permissions.can_view_credentials
    gate = membership_required(allowed, level)

    def decorator(
        view: Callable[Concatenate[HttpRequest, Membership, P], HttpResponse],
    ) -> Callable[Concatenate[HttpRequest, P], HttpResponse]:
        return gate(refresh_on_not_found(view))

    return decorator


def page_context(membership: Membership, **extra: Any) -> dict[str, Any]:
    return {
        "membership": membership,
        "team": membership.team,
        "can_manage": permissions.can_manage_credentials(membership),
        **extra,
    }
