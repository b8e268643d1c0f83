"""Who may do what with a team's API credentials (DESIGN.md section 2).

Views call these to decide what to show and to refuse requests; services call them
again before writing, so a missed check in a view cannot become a write.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied

from tango_portal.models import Membership

Permission = Membership.ApiKeysPermission


def can_view_credentials(membership: Membership | None) -> bool:
    """View or Manage: browse credential lists (never secrets) and history."""
    return membership is not None and membership.api_keys_permission in (
        Permission.VIEW,
        Permission.MANAGE,
    )


def can_manage_credentials(membership: Membership | None) -> bool:
    """Manage: create, rename, rotate, deactivate and delete credentials."""
    return membership is not None and membership.api_keys_permission == Permission.MANAGE


def can_export_history(membership: Membership | None) -> bool:
    return can_view_credentials(membership)


def can_manage_members(membership: Membership | None) -> bool:
    """Team admins manage members and their permissions, their own included."""
    return membership is not None and membership.role == Membership.Role.ADMIN


def require_manage(membership: Membership | None) -> Membership:
    if membership is None or not can_manage_credentials(membership):
        raise PermissionDenied("Managing API credentials needs the Tango API keys: Manage permission.")
    return membership


def require_view(membership: Membership | None) -> Membership:
    if membership is None or not can_view_credentials(membership):
        raise PermissionDenied("Seeing API credentials needs the Tango API keys: View permission.")
    return membership
