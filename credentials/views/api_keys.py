from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.urls import URLPattern

from tango_portal.models import Membership

app_name = "api_keys"
urlpatterns: list[URLPattern] = []


def section_context(request: HttpRequest, membership: Membership) -> dict[str, Any]:
    """Context for this section of the API credentials page."""
    return {}
