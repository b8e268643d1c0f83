"""The Credential history table: its columns, sorts, pages and each user's choice of columns.

The columns are credentials/history.py's COLUMNS, which the exports and saved preferences
use too, so what a user sees is what they download.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import django_tables2 as tables
from django import forms
from django.core.paginator import EmptyPage, Page
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString
from django_tables2.paginators import LazyPaginator
from django_tables2.rows import BoundRows

from credentials import selectors
from credentials.history import COLUMN_NAMES, COLUMNS
from credentials.models import CredentialHistory, ServiceAccount
from credentials.pages import credential_path

# The only sorts offered. Each is served by an index of (team, column, -occurred_at, -id)
# read forwards or backwards, so sorting a million rows costs a page, not a sort.
DEFAULT_SORT = "-date"
SORTABLE = ("date", "action", "credential_type", "credential_name")
SORTS = frozenset(SORTABLE) | frozenset(f"-{name}" for name in SORTABLE)

SORT_LABELS = {
    "-date": "newest first",
    "date": "oldest first",
    "action": "by action (A to Z)",
    "-action": "by action (Z to A)",
    "credential_type": "by credential type (A to Z)",
    "-credential_type": "by credential type (Z to A)",
    "credential_name": "by credential name (A to Z)",
    "-credential_name": "by credential name (Z to A)",
}

EMPTY_CELL = "—"
PER_PAGE_CHOICES = (25, 50, 100)
DEFAULT_PER_PAGE = 25
MAX_PAGE = 1_000_000
# The summary counts this many rows at most, then says "more than": an exact COUNT(*) of
# a million-row team would cost more than the page itself.
COUNT_LIMIT = 10_000


def clean_sort(value: str | None) -> str:
    """The requested sort if it is one we offer, else newest first."""
    return value if value in SORTS else DEFAULT_SORT


def clean_per_page(value: str | None) -> int:
    try:
        number = int(value or DEFAULT_PER_PAGE)
    except ValueError:
        return DEFAULT_PER_PAGE
    return number if number in PER_PAGE_CHOICES else DEFAULT_PER_PAGE


def clean_page(value: str | None) -> int:
    """A page number from 1 to MAX_PAGE (past it, the offset would not fit a database integer)."""
    try:
        number = int(value or 1)
    except ValueError:
        return 1
    return min(max(number, 1), MAX_PAGE)


def bounded_count(queryset: QuerySet[CredentialHistory]) -> int:
    """The number of rows of `queryset`, counting no further than COUNT_LIMIT + 1.

    The count runs over a sliced subquery (`SELECT COUNT(*) FROM (... LIMIT 10001)`),
    which the team's indexes answer by reading at most that many entries.
    """
    return queryset[: COUNT_LIMIT + 1].count()


def total_label(queryset: QuerySet[CredentialHistory]) -> str:
    """How many rows `queryset` selects, as the summary says it: "60" or "more than 10,000"."""
    total = bounded_count(queryset)
    return f"more than {COUNT_LIMIT:,}" if total > COUNT_LIMIT else f"{total:,}"


def visible_columns(hidden: Iterable[str]) -> list[str]:
    """Column names to show, in table order; hiding every column shows them all."""
    hidden_set = set(hidden)
    visible = [name for name in COLUMN_NAMES if name not in hidden_set]
    return visible or list(COLUMN_NAMES)


class HistoryPaginator(LazyPaginator):
    """`LazyPaginator` (no COUNT) that reads a page in two short queries.

    The first reads only the ids at the page's offset, which an index on
    (team, ..., occurred_at, id) answers without touching the table, so skipping the
    24,975 rows before page 1,000 is cheap; the second fetches just those rows.
    """

    def page(self, number: Any) -> Page:
        number = self.validate_number(number or 1)
        rows: BoundRows = self.object_list
        queryset = rows.data.data
        bottom = (number - 1) * self.per_page
        top = bottom + self.per_page
        look_ahead_items = (self.look_ahead - 1) * self.per_page + 1
        ids = list(queryset.values_list("pk", flat=True)[bottom : top + self.orphans + look_ahead_items])
        if len(ids) > self.per_page + self.orphans:
            self._num_pages = number + len(ids) // self.per_page
            ids = ids[: self.per_page]
        elif number != 1 and len(ids) <= self.orphans:
            raise EmptyPage("That page contains no results")
        else:
            self._num_pages = number
            self._final_num_pages = number
        by_id = {row.pk: row for row in queryset.order_by().filter(pk__in=ids)} if ids else {}
        records = [by_id[pk] for pk in ids if pk in by_id]
        return Page(BoundRows(data=records, table=rows.table), number, self)


MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def _date_cell(record: CredentialHistory) -> SafeString:
    # Formatted by hand: date_format() costs a tenth of a millisecond a cell, which is
    # most of a page's rendering. The portal is in English only.
    local = timezone.localtime(record.occurred_at)
    return format_html(
        '<time datetime="{}">{} {}, {} {}</time>',
        record.occurred_at.isoformat(),
        MONTHS[local.month - 1],
        local.day,
        f"{local:%Y %H:%M:%S}",
        local.tzname(),
    )


def _action_cell(record: CredentialHistory) -> str:
    """The action, naming the successor of a rotation and counting revoked tokens."""
    action = record.get_action_display()
    details = record.details if isinstance(record.details, dict) else {}
    if new := details.get("new_credential"):
        name = details.get("new_name") or new
        return f"{action}: new {name} ({new})" if name != new else f"{action}: new {new}"
    if (tokens := details.get("tokens")) is not None:
        return f"{action} ({tokens} live)"
    if (dpop := details.get("require_dpop")) is not None:
        return f"{action}: Require DPoP {dpop}"
    if where := details.get("url"):
        return f"{action}: {details.get('secret') or 'secret'} found at {where}"
    return action


def _name_cell(record: CredentialHistory, named: dict[tuple[str, str], Any]) -> str:
    """The credential's name as a link to its page, with whether it still works."""
    name = record.credential_name or EMPTY_CELL
    credential = named.get((record.credential_type, record.credential_identifier))
    if credential is None:
        return name
    if isinstance(credential, ServiceAccount):
        state = " (deleted)" if credential.is_deleted else ""
    else:
        state = "" if credential.is_active else " (deactivated)"
    url = credential_path(record.credential_type, credential.pk)
    return format_html('<a href="{}">{}</a>{}', url, name, state)


# How each column shows a row; plain text (escaped by the template) except the date.
CELLS: dict[str, Callable[[CredentialHistory], str]] = {
    "action": _action_cell,
    "credential_name": lambda record: record.credential_name or EMPTY_CELL,
    "date": _date_cell,
    "actor_name": lambda record: record.actor_name or EMPTY_CELL,
    "actor_email": lambda record: record.actor_email or EMPTY_CELL,
    "credential_identifier": lambda record: record.credential_identifier,
    "credential_type": lambda record: record.get_credential_type_display(),
}
CELL_CLASSES = {name: name for name in COLUMN_NAMES} | {"credential_identifier": "credential_identifier mono"}


class HistoryTable(tables.Table):
    """What happened to which credential, when, and who did it. Every cell is plain text.

    Each sortable column orders by itself, then newest first, matching the indexes.
    django-tables2 handles the header, sorting and pages; the cells come from
    `body_rows`, in one pass over the page: tables2's own cell rendering inspects a
    render function's signature for every cell, and a template loop over the cells is
    slow too (together about 20 ms of a 25-row page; this takes about 1 ms).
    """

    action = tables.Column(verbose_name="Action", order_by=("action", "-occurred_at", "-id"))
    credential_name = tables.Column(
        verbose_name="Credential name", order_by=("credential_name", "-occurred_at", "-id")
    )
    date = tables.Column(
        verbose_name="Date",
        accessor="occurred_at",
        order_by=("occurred_at", "id"),
        initial_sort_descending=True,
    )
    actor_name = tables.Column(verbose_name="User's name", orderable=False)
    actor_email = tables.Column(verbose_name="User's email", orderable=False)
    credential_identifier = tables.Column(verbose_name="Client ID/API key", orderable=False)
    credential_type = tables.Column(
        verbose_name="Credential type", order_by=("credential_type", "-occurred_at", "-id")
    )

    class Meta:
        sequence = COLUMN_NAMES
        order_by = (DEFAULT_SORT,)
        order_by_field = "sort"
        attrs = {"class": "table"}
        empty_text = ""
        template_name = "credentials/history/_table.html"

    @property
    def caption(self) -> str:
        sort = str(self.order_by[0]) if self.order_by else DEFAULT_SORT
        return f"Credential history, {SORT_LABELS.get(sort, SORT_LABELS[DEFAULT_SORT])}"

    def body_rows(self) -> SafeString:
        """The `<tr>`s of the current page's visible cells; format_html escapes every value.

        A credential's name links to its page, and says when it was deleted or deactivated.
        """
        names = [column.name for column in self.columns]
        records: list[CredentialHistory] = self.page.object_list.data
        cells = dict(CELLS)
        if "credential_name" in names and records:
            named = selectors.credentials_named(
                team_id=records[0].team_id,
                names=((r.credential_type, r.credential_identifier) for r in records),
            )
            cells["credential_name"] = lambda record: _name_cell(record, named)
        return format_html_join(
            "\n",
            "<tr>{}</tr>",
            (
                (
                    format_html_join(
                        "", '<td class="{}">{}</td>', ((CELL_CLASSES[n], cells[n](r)) for n in names)
                    ),
                )
                for r in records
            ),
        )


def history_ordered(queryset: QuerySet[CredentialHistory], sort: str) -> QuerySet[CredentialHistory]:
    """`queryset` in the order the table shows for `sort` (exports use the same order)."""
    return HistoryTable(queryset, order_by=(clean_sort(sort),)).data.data


def history_table(
    queryset: QuerySet[CredentialHistory], *, hidden: Iterable[str], sort: str, per_page: int, page: int
) -> HistoryTable:
    """The table for one page of `queryset`; a page past the end shows the first page."""
    shown = set(visible_columns(hidden))
    table = HistoryTable(
        queryset,
        order_by=(clean_sort(sort),),
        exclude=[name for name in COLUMN_NAMES if name not in shown],
    )
    try:
        table.paginate(paginator_class=HistoryPaginator, per_page=per_page, page=page)
    except EmptyPage:
        table.paginate(paginator_class=HistoryPaginator, per_page=per_page, page=1)
    return table


class HistoryColumnsForm(forms.Form):
    """The "Columns" picker: the columns to show."""

    columns = forms.MultipleChoiceField(
        label="Show columns",
        choices=COLUMNS,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": "Keep at least one column visible."},
    )

    def hidden_columns(self) -> list[str]:
        shown = set(self.cleaned_data["columns"])
        return [name for name in COLUMN_NAMES if name not in shown]
