from __future__ import annotations

from typing import Any

from tango_portal.models import Membership


def get_token_context(membership: Membership) -> dict[str, Any]:
    """Context for the *Get a token* panel of the API credentials page."""
    return {}
