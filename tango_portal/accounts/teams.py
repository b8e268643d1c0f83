"""The team a signed-in user is working in, and the one gate every team page passes."""

from __future__ import annotations

import functools
from collections.abc import Callable
from http import HTTPStatus
from typing import Concatenate, Literal

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse

from tango_portal.core import security_log
from tango_portal.core.http import is_htmx
from tango_portal.models import Membership, Team

# What a page needs: the Tango API keys permission (view or manage), or the Admin role.
Needed = Literal["view", "manage", "admin"]

SESSION_KEY = "current_team_id"
_CACHE_ATTR = "_current_membership"
# Every form posts the team its page was rendered for ({% page_team %}), and every htmx
# request sends it as a header (base.html): a write is refused when another tab has
# switched the session to another team since.
PAGE_TEAM_FIELD = "page_team"
PAGE_TEAM_HEADER = "X-Portal-Team"


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


def team_admins(*, team: Team) -> QuerySet[Membership]:
    """The team's admins, the people a refused user is told to ask."""
    return (
        Membership.objects.filter(team=team, role=Membership.Role.ADMIN)
        .select_related("user")
        .order_by("user__full_name", "user__email")
    )


# What a refused user tried, in the page's words, by what it needed.
_TRIED: dict[str, str] = {
    "view": "see API credentials",
    "manage": "change API credentials (create, rename, rotate, deactivate or delete them)",
    "admin": "manage the team's users",
}


def refusal_context(membership: Membership | None, needed: Needed) -> dict[str, object]:
    """What the refusal page says: what they tried, what they have, what it needs, whom to ask.

    `has` is their Tango API keys permission by its name on the Users page ("Don't allow",
    "View", "Manage"); `admins` are the team's admins, the people who can change it.
    """
    return {
        "membership": membership,
        "needed": needed,
        "tried": _TRIED[needed],
        "has": membership.get_api_keys_permission_display() if membership else None,
        "admins": list(team_admins(team=membership.team)) if membership else [],
    }


def forbidden(request: HttpRequest, membership: Membership | None, needed: Needed) -> HttpResponse:
    """The 403 page: what is missing and which admins can grant it; logged as a security event."""
    security_log.event(
        "permission_refused",
        request=request,
        team=membership.team.slug if membership else None,
        needed=needed,
        role=membership.role if membership else None,
        has=membership.api_keys_permission if membership else None,
    )
    response = render(
        request,
        "permission_needed.html",
        refusal_context(membership, needed),
        status=HTTPStatus.FORBIDDEN,
    )
    if is_htmx(request):
        # Refused while the page was open (a permission taken away): reload, so the
        # whole page shows what the user may do now, and a message says why. Added
        # after rendering, so that this answer (which htmx never shows) does not use it up.
        messages.warning(request, _REFUSED_WHILE_OPEN[needed])
        response["HX-Refresh"] = "true"
    return response


_REFUSED_WHILE_OPEN: dict[Needed, str] = {
    "view": "That was not done: it needs the Tango API keys: View or Manage permission, "
    "which you no longer have. Ask one of your team's admins to grant it.",
    "manage": "That was not done: it needs the Tango API keys: Manage permission, "
    "which you no longer have. Ask one of your team's admins to grant it.",
    "admin": "That was not done: it needs the Admin role, which you no longer have.",
}


def posted_page_team(request: HttpRequest) -> int | None:
    """The team the page of a POST was rendered for, as its form or htmx said; None if unsaid."""
    if request.method in ("GET", "HEAD", "OPTIONS"):
        return None
    value = request.POST.get(PAGE_TEAM_FIELD) or request.headers.get(PAGE_TEAM_HEADER) or ""
    try:
        return int(value)
    except ValueError:
        return None if not value else -1  # said, but no team: refused like another team


def team_changed(request: HttpRequest, membership: Membership, page_team: int) -> HttpResponse:
    """Refuse a write from a page of another team than the session's (409), saying so.

    The page's team is named only if the user belongs to it. htmx goes to the current team's
    front door, where the message shows; a plain form gets a page that says it.
    """
    was = Team.objects.filter(pk=page_team, memberships__user=membership.user).first()
    now = membership.team.name
    message = (
        f"Nothing was changed: this page was for {was.name if was else 'another team'}, but this "
        f"browser has since switched to {now} (in another tab, perhaps). Reload the page to "
        f"work in {now}, or switch back to {was.name if was else 'that team'} first."
    )
    security_log.event("team_changed_refused", request=request, page_team=page_team)
    if is_htmx(request):
        messages.error(request, message)
        response = HttpResponse(message, status=HTTPStatus.CONFLICT, content_type="text/plain; charset=utf-8")
        response["HX-Redirect"] = reverse("home")
        return response
    return render(
        request,
        "tango_portal/team_changed.html",
        {"message": message},
        status=HTTPStatus.CONFLICT,
    )


def membership_required[**P](
    allowed: Callable[[Membership], bool], needed: Needed
) -> Callable[
    [Callable[Concatenate[HttpRequest, Membership, P], HttpResponse]],
    Callable[Concatenate[HttpRequest, P], HttpResponse],
]:
    """Require sign-in and a current membership that `allowed` accepts; others get `forbidden`.

    The wrapped view receives the current membership as its second argument. Services
    check again before writing, so a view that forgot this cannot become a write.
    """

    def decorator(
        view: Callable[Concatenate[HttpRequest, Membership, P], HttpResponse],
    ) -> Callable[Concatenate[HttpRequest, P], HttpResponse]:
        @login_required
        @functools.wraps(view)
        def wrapped(request: HttpRequest, *args: P.args, **kwargs: P.kwargs) -> HttpResponse:
            membership = current_membership(request)
            if membership is None or not allowed(membership):
                return forbidden(request, membership, needed)
            if (page_team := posted_page_team(request)) is not None and page_team != membership.team_id:
                return team_changed(request, membership, page_team)
            return view(request, membership, *args, **kwargs)

        return wrapped

    return decorator
