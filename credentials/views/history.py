from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import path

from credentials import selectors
from credentials.views.common import credentials_view, page_context
from tango_portal.models import Membership

app_name = "history"


@credentials_view("view")
def history_list(request: HttpRequest, membership: Membership) -> HttpResponse:
    rows = selectors.history_for_team(team=membership.team)[:50]
    return render(
        request,
        "credentials/history/list.html",
        page_context(membership, active_tab="history", rows=rows),
    )


urlpatterns = [path("", history_list, name="list")]
