"""API credentials > Unused credentials: active credentials not used for 30 or 90 days.

For View and Manage users alike (no secret is shown). One view and one template serve the
page and the htmx fragment (`#results`) that replaces the table when the filter changes;
`?_export=csv` downloads exactly what the filter selects, every page of it.
"""

from __future__ import annotations

import csv
from http import HTTPStatus
from typing import Any

from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.cache import patch_cache_control, patch_vary_headers
from django.utils.http import content_disposition_header
from django.views.decorators.http import require_GET
from django_tables2 import RequestConfig

from credentials import policy, reminders
from credentials.export import neutralise_formula
from credentials.filters import UnusedFilterForm
from credentials.models import CredentialType
from credentials.tables.unused import HEADINGS, PER_PAGE, UnusedCredentialTable, row_text
from credentials.views.common import credentials_view, page_context
from tango_portal.core.http import template_for
from tango_portal.models import Membership

TEMPLATE = "credentials/unused/list.html"


def _selected(membership: Membership, form: UnusedFilterForm) -> QuerySet[Any, dict[str, Any]]:
    data = form.cleaned_data
    return reminders.unused_credentials(
        team=membership.team,
        days=data["days"],
        credential_type=CredentialType(data["credential_type"]) if data["credential_type"] else None,
    )


def _render_list(
    request: HttpRequest, membership: Membership, form: UnusedFilterForm, *, status: int = HTTPStatus.OK
) -> HttpResponse:
    table = None
    if form.is_valid():
        table = UnusedCredentialTable(
            _selected(membership, form), due_before=policy.created_before_is_due(membership.team)
        )
        RequestConfig(request, paginate={"per_page": PER_PAGE}).configure(table)
    context = page_context(
        membership,
        active_tab="unused",
        form=form,
        table=table,
        filters_valid=table is not None,
        days=form.cleaned_data["days"] if table is not None else reminders.DEFAULT_UNUSED_DAYS,
        active_filters=form.active(),
    )
    response = render(request, template_for(request, TEMPLATE, "results"), context, status=status)
    # The same URL answers with a fragment or a page: caches must keep them apart.
    patch_vary_headers(response, ("HX-Request",))
    return response


def _export(request: HttpRequest, membership: Membership, form: UnusedFilterForm) -> HttpResponse:
    if request.GET.get("_export") != "csv":
        return HttpResponse(
            "Unknown export format: use _export=csv.",
            status=HTTPStatus.BAD_REQUEST,
            content_type="text/plain; charset=utf-8",
        )
    if not form.is_valid():
        # Export exactly what a valid filter selects, or nothing: show what to fix.
        return _render_list(request, membership, form, status=HTTPStatus.BAD_REQUEST)
    team = membership.team
    due_before = policy.created_before_is_due(team)
    filters = form.active()
    name = "-".join(
        [team.slug, "unused-credentials", timezone.localdate().isoformat(), f"{filters['days']}-days"]
        + ([filters["credential_type"]] if "credential_type" in filters else [])
    )
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = content_disposition_header(as_attachment=True, filename=f"{name}.csv")
    patch_cache_control(response, private=True, no_store=True)
    # Quoted and neutralised as the history export is (credentials.export): no cell runs as a formula.
    writer = csv.writer(response, quoting=csv.QUOTE_ALL)
    writer.writerow(HEADINGS)
    for row in _selected(membership, form).iterator():
        writer.writerow([neutralise_formula(value) for value in row_text(row, due_before)])
    return response


@require_GET
@credentials_view("view")
def unused_list(request: HttpRequest, membership: Membership) -> HttpResponse:
    """Unused credentials of the current team; `?_export=csv` downloads what the filter selects."""
    form = UnusedFilterForm(UnusedFilterForm.with_defaults(request.GET))
    if "_export" in request.GET:
        return _export(request, membership, form)
    return _render_list(request, membership, form)
