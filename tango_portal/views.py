"""The project's own pages: the front door, health and the error page."""

from __future__ import annotations

from http import HTTPStatus

from django.db import DatabaseError, connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from credentials import permissions
from tango_portal.accounts.teams import current_membership, refusal_context


@require_GET
@never_cache
def healthz(request: HttpRequest) -> JsonResponse:
    """Liveness plus a round trip to the database."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError:
        return JsonResponse(
            {"status": "error", "database": "unreachable"}, status=HTTPStatus.SERVICE_UNAVAILABLE
        )
    return JsonResponse({"status": "ok", "database": "ok"})


@require_GET
def home(request: HttpRequest) -> HttpResponse:
    """The API credentials page for those who may see it; for a member who may not (yet),
    a page of their own that says so and names the admins to ask, not a refusal.
    """
    if not request.user.is_authenticated:
        return redirect("credentials:index")
    membership = current_membership(request)
    if permissions.can_view_credentials(membership):
        return redirect("credentials:index")
    return render(request, "tango_portal/home.html", refusal_context(membership, "view"))


def server_error(request: HttpRequest) -> HttpResponse:
    # Rendered without a request context: the database may be the thing that failed.
    from django.template import loader

    return HttpResponse(loader.get_template("500.html").render(), status=HTTPStatus.INTERNAL_SERVER_ERROR)
