"""What every API-credentials view shares: the permission gate and the page context."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Concatenate, Literal

from django.http import HttpRequest, HttpResponse

from credentials import permissions
from tango_portal.accounts.teams import membership_required
from tango_portal.models import Membership

Level = Literal["view", "manage"]


def credentials_view[**P](
    level: Level,
) -> Callable[
    [Callable[Concatenate[HttpRequest, Membership, P], HttpResponse]],
    Callable[Concatenate[HttpRequest, P], HttpResponse],
]:
    """Require sign-in and the Tango API keys permission `level` for the current team."""
    allowed = permissions.can_manage_credentials if level == "manage" else permissions.can_view_credentials
    return membership_required(allowed, level)


def page_context(membership: Membership, **extra: Any) -> dict[str, Any]:
    return {
        "membership": membership,
        "team": membership.team,
        "can_manage": permissions.can_manage_credentials(membership),
        **extra,
    }
