"""The team a signed-in user is working in."""

from __future__ import annotations

from django.http import HttpRequest

from tango_portal.models import Membership, Team

SESSION_KEY = "current_team_id"
_CACHE_ATTR = "_current_membership"


def current_membership(request: HttpRequest) -> Membership | None:
    """The signed-in user's membership of the team they are working in.

    Read from the database once per request, so a changed permission or a removed
    membership takes effect on the next request, without signing out. Defaults to
    the user's first team.
    """
    if hasattr(request, _CACHE_ATTR):
        return getattr(request, _CACHE_ATTR)
    membership: Membership | None = None
    if request.user.is_authenticated:
        memberships = Membership.objects.select_related("team", "user").filter(user=request.user)
        team_id = request.session.get(SESSION_KEY)
        if team_id is not None:
            membership = memberships.filter(team_id=team_id).first()
        if membership is None:
            membership = memberships.order_by("created_at", "id").first()
    setattr(request, _CACHE_ATTR, membership)
    return membership


def user_teams(request: HttpRequest) -> list[Team]:
    """The teams the user belongs to, read once per request (templates ask per row)."""
    if not request.user.is_authenticated:
        return []
    cached: list[Team] | None = getattr(request, "_user_teams", None)
    if cached is None:
        cached = list(Team.objects.filter(memberships__user_id=int(request.user.pk or 0)).order_by("name"))
        setattr(request, "_user_teams", cached)  # noqa: B010
    return cached


def switch_team(request: HttpRequest, team_id: int) -> bool:
    """Make `team_id` the current team if the user belongs to it."""
    if not Membership.objects.filter(user_id=int(request.user.pk or 0), team_id=team_id).exists():
        return False
    request.session[SESSION_KEY] = team_id
    if hasattr(request, _CACHE_ATTR):
        delattr(request, _CACHE_ATTR)
    return True
