"""The project's own pages: the front door, health, metrics and the error page."""

from __future__ import annotations

import logging
import uuid
from http import HTTPStatus

from django.core.cache import cache
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from django_prometheus.exports import ExportToDjangoView

from credentials import permissions
from tango_portal.accounts.teams import current_membership, refusal_context
from tango_portal.core import metrics as portal_metrics

logger = logging.getLogger("tango_portal.health")

# The balancer's checks and the scraper reach these over plain HTTP, without a redirect
# (settings.SECURE_REDIRECT_EXEMPT), and none of them reads the session or sets a cookie.


@require_GET
@never_cache
def healthz(request: HttpRequest) -> JsonResponse:
    """Liveness: the process answers. Nothing else is checked, so a database or cache
    outage never makes the balancer restart healthy app servers (that is /readyz's job)."""
    return JsonResponse({"status": "ok"})


def _database() -> str:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as error:
        logger.warning("Not ready: the database is unreachable (%s: %s)", type(error).__name__, error)
        return "unreachable"
    return "ok"


def _cache() -> str:
    # A key of its own per check, so that concurrent checks cannot read each other's value.
    key = f"readyz:{uuid.uuid4().hex}"
    try:
        cache.set(key, "ok", timeout=10)
        value = cache.get(key)
        cache.delete(key)
    except Exception as error:
        logger.warning("Not ready: the cache is unreachable (%s: %s)", type(error).__name__, error)
        return "unreachable"
    if value != "ok":
        logger.warning("Not ready: the cache did not keep a value")
        return "not keeping values"
    return "ok"


def _migrations() -> str:
    try:
        executor = MigrationExecutor(connection)
        unapplied = len(executor.migration_plan(executor.loader.graph.leaf_nodes()))
    except Exception as error:
        logger.warning("Not ready: migrations cannot be checked (%s: %s)", type(error).__name__, error)
        return "unknown"
    if unapplied:
        logger.warning("Not ready: %s migrations are not applied", unapplied)
        return f"{unapplied} unapplied"
    return "ok"


@require_GET
@never_cache
def readyz(request: HttpRequest) -> JsonResponse:
    """Readiness: the database and the shared cache answer, and every migration is applied.

    200 `{"status": "ok", ...}`, or 503 with each dependency's state; why it failed goes to
    the log (`tango_portal.health`), not to whoever asks. Whatever a check raises counts as
    its dependency failing, so the probe itself never answers 500.
    """
    database = _database()
    checks = {
        "database": database,
        "cache": _cache(),
        "migrations": _migrations() if database == "ok" else "unknown",
    }
    if all(state == "ok" for state in checks.values()):
        return JsonResponse({"status": "ok", **checks})
    return JsonResponse({"status": "unavailable", **checks}, status=HTTPStatus.SERVICE_UNAVAILABLE)


@require_GET
@never_cache
def metrics(request: HttpRequest) -> HttpResponse:
    """Prometheus metrics (django-prometheus's and the portal's own counters), for the
    configured networks and the bearer secret; anyone else gets the plain 404 of an
    unknown address, which says nothing of what is here."""
    if not portal_metrics.scrape_allowed(request):
        raise Http404
    return ExportToDjangoView(request)


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
