"""Switching the team a signed-in user works in."""

from __future__ import annotations

from http import HTTPStatus
from urllib.parse import urlsplit

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, Resolver404, resolve, reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from tango_portal.accounts.sudo import sudo_exempt
from tango_portal.accounts.teams import switch_team


@login_required
@require_POST
@sudo_exempt("which of the user's own teams the session shows; nothing in a team changes")
def team_switch(request: HttpRequest) -> HttpResponse:
    try:
        team_id = int(request.POST.get("team", ""))
    except ValueError:
        return HttpResponseBadRequest("Choose a team.")
    if not switch_team(request, team_id):
        return render(request, "404.html", status=HTTPStatus.NOT_FOUND)
    next_url = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(
        next_url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        next_url = "/team/api-credentials/"
    return redirect(_same_page_in_the_new_team(next_url))


def _same_page_in_the_new_team(url: str) -> str:
    """`url`, unless it names one object (a credential, a member, a rotation): that is the
    old team's, so the new team's list of its kind instead, or its front door."""
    try:
        match = resolve(urlsplit(url).path)
    except Resolver404:
        return url
    if "pk" not in match.kwargs:
        return url
    for name in (f"{match.namespace}:list", "home"):
        try:
            return reverse(name)
        except NoReverseMatch:
            continue
    return url
