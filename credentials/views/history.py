"""API credentials > Credential history: filter, sort, page, choose columns, export.

One view and one template serve the full page and the htmx fragment (`#results`) that
replaces the table as filters change. Every query starts from the current team's history
(`selectors.history_for_team`), whatever the parameters say.
"""

from __future__ import annotations

from http import HTTPStatus
from typing import cast

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, QueryDict
from django.shortcuts import render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.views.decorators.http import require_GET, require_POST

from credentials import export, permissions, selectors, services
from credentials.filters import FILTER_PARAMS, HistoryFilter
from credentials.tables.history import (
    COLUMNS,
    DEFAULT_SORT,
    PER_PAGE_CHOICES,
    SORT_LABELS,
    HistoryColumnsForm,
    clean_page,
    clean_per_page,
    clean_sort,
    history_ordered,
    history_table,
    total_label,
    visible_columns,
)
from credentials.views.common import credentials_view, page_context
from tango_portal.accounts.sudo import sudo_exempt
from tango_portal.accounts.teams import forbidden
from tango_portal.core.http import is_htmx, template_for
from tango_portal.models import Membership

app_name = "history"

TEMPLATE = "credentials/history/list.html"
# The query parameters worth keeping when coming back to the table (never `_export`).
KEPT_PARAMS = (*FILTER_PARAMS, "sort", "per_page", "page")


def kept_query(params: QueryDict) -> QueryDict:
    """Only the known, non-empty table parameters of `params`, for a safe redirect back."""
    kept = QueryDict(mutable=True)
    for key in KEPT_PARAMS:
        value = params.get(key, "")
        if value:
            kept[key] = value[:254]
    return kept


def export_label(total: str, *, filtered: bool) -> str:
    """What the export buttons export, exactly: "Export 3 matching rows", "Export all 1,204 rows"."""
    rows = "row" if total == "1" else "rows"
    return f"Export {total} matching {rows}" if filtered else f"Export all {total} {rows}"


def missing_page_notice(requested: str, shown: int) -> str:
    """What to say when `?page=` asked for a page that is not the one shown ("" if it is)."""
    if not requested:
        return ""
    try:
        if int(requested) == shown:
            return ""
    except ValueError:
        pass
    asked = requested if len(requested) <= 12 else f"{requested[:12]}\N{HORIZONTAL ELLIPSIS}"
    return f"Page {asked} does not exist; showing page {shown}."


def _render_list(
    request: HttpRequest,
    membership: Membership,
    *,
    columns_form: HistoryColumnsForm | None = None,
    checked_columns: list[str] | None = None,
    status: int = HTTPStatus.OK,
) -> HttpResponse:
    team = membership.team
    params = request.GET
    filterset = HistoryFilter(params, queryset=selectors.history_for_team(team=team), team=team)
    hidden = selectors.history_hidden_columns(user=membership.user)
    shown = visible_columns(hidden)
    sort = clean_sort(params.get("sort"))
    per_page = clean_per_page(params.get("per_page"))
    filters_valid = filterset.is_valid()
    active_filters = filterset.active()

    table = None
    empty_state = None
    row_range = None
    row_total = ""
    page_notice = ""
    if filters_valid:
        requested_page = params.get("page", "")
        table = history_table(
            filterset.qs, hidden=hidden, sort=sort, per_page=per_page, page=clean_page(requested_page)
        )
        page_notice = missing_page_notice(requested_page, table.page.number)
        count = len(table.page)
        if count:
            first = (table.page.number - 1) * per_page + 1
            row_range = (first, first + count - 1)
            row_total = total_label(filterset.qs)
        else:
            # Only an empty page pays for telling "nothing yet" from "nothing matches".
            has_history = bool(active_filters) and selectors.history_exists(team=team)
            empty_state = "no_matches" if has_history else "no_history"

    if columns_form is None:
        columns_form = HistoryColumnsForm(initial={"columns": shown})
    context = page_context(
        membership,
        active_tab="history",
        filter=filterset,
        filters_valid=filters_valid,
        active_filters=active_filters,
        table=table,
        empty_state=empty_state,
        row_range=row_range,
        row_total=row_total,
        export_label=export_label(row_total, filtered=bool(active_filters)),
        page_notice=page_notice,
        sort=sort,
        sort_label=SORT_LABELS[sort],
        default_sort=DEFAULT_SORT,
        per_page=per_page,
        per_page_choices=PER_PAGE_CHOICES,
        columns=COLUMNS,
        shown_columns=shown,
        checked_columns=shown if checked_columns is None else checked_columns,
        columns_form=columns_form,
        return_query=kept_query(params).urlencode(),
        can_export=permissions.can_export_history(membership),
    )
    template = template_for(request, TEMPLATE, "results")
    response = render(request, template, context, status=status)
    # The same URL answers with a fragment or a page: caches must keep them apart.
    patch_vary_headers(response, ("HX-Request",))
    return response


def _export(request: HttpRequest, membership: Membership, requested: str) -> HttpResponse:
    if not permissions.can_export_history(membership):
        return forbidden(request, membership, "view")
    fmt = export.parse_format(requested)
    if fmt is None:
        return HttpResponse(
            "Unknown export format: use _export=csv or _export=json.",
            status=HTTPStatus.BAD_REQUEST,
            content_type="text/plain; charset=utf-8",
        )
    team = membership.team
    filterset = HistoryFilter(request.GET, queryset=selectors.history_for_team(team=team), team=team)
    if not filterset.is_valid():
        # Export exactly what a valid filter selects, or nothing: show what to fix.
        return _render_list(request, membership, status=HTTPStatus.BAD_REQUEST)
    filters = filterset.active()
    today = timezone.localdate()
    sort = clean_sort(request.GET.get("sort"))
    shown = visible_columns(selectors.history_hidden_columns(user=membership.user))
    response = export.export_response(
        queryset=history_ordered(filterset.qs, sort),
        column_names=shown,
        fmt=fmt,
        filename=export.export_filename(team_slug=team.slug, filters=filters, fmt=fmt, today=today),
        chain_head=selectors.history_chain_head(team=team),
        meta={
            "team": team.slug,
            "exported_at": timezone.now().isoformat(),
            "filters": filters,
            "sort": sort,
        },
    )
    # credentials_view is typed for HttpResponse; a streamed download is served the same way.
    return cast(HttpResponse, response)


@require_GET
@credentials_view("view")
def history_list(request: HttpRequest, membership: Membership) -> HttpResponse:
    """The history table of the current team; `?_export=csv|json` downloads what it selects."""
    fmt = request.GET.get("_export")
    if fmt is not None:
        return _export(request, membership, fmt)
    return _render_list(request, membership)


@require_POST
@credentials_view("view")
@sudo_exempt("the user's own choice of columns to show")
def history_columns(request: HttpRequest, membership: Membership) -> HttpResponse:
    """Save which columns this user sees, then go back to the same filtered table.

    The redirect is followed by htmx too (the fragment comes back in place), and its
    target is built here from known parameters only, never taken from the request.
    """
    back = kept_query(QueryDict(request.POST.get("query", "")))
    form = HistoryColumnsForm(request.POST)
    if not form.is_valid():
        # Render the table the user came from: its sort and page links read request.GET.
        request.GET = back  # type: ignore[assignment]
        # htmx swaps only 2xx answers; without JavaScript the page says 400.
        status = HTTPStatus.OK if is_htmx(request) else HTTPStatus.BAD_REQUEST
        return _render_list(
            request,
            membership,
            columns_form=form,
            checked_columns=request.POST.getlist("columns"),
            status=status,
        )
    services.history_columns_save(user=membership.user, hidden_columns=form.hidden_columns())
    url = reverse("credentials:history:list")
    return HttpResponseRedirect(f"{url}?{back.urlencode()}" if back else url, status=HTTPStatus.SEE_OTHER)


urlpatterns = [
    path("", history_list, name="list"),
    path("columns/", history_columns, name="columns"),
]
