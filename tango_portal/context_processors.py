from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest

from tango_portal.accounts.teams import current_membership, user_teams


def portal(request: HttpRequest) -> dict[str, Any]:
    context: dict[str, Any] = {
        "portal_environment": settings.PORTAL_ENVIRONMENT,
        "portal_environment_label": settings.PORTAL_ENVIRONMENT.capitalize(),
    }
    if getattr(request, "user", None) is not None and request.user.is_authenticated:
        membership = current_membership(request)
        context["current_membership"] = membership
        context["current_team"] = membership.team if membership else None
        context["user_teams"] = user_teams(request)
    return context
