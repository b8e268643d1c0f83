"""The Credential history filters: what the history table and its exports select.

Every filter narrows a queryset the view has already scoped to the current team
(`selectors.history_for_team`), so no parameter can reach another team's rows.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any

import django_filters
from django import forms
from django.db.models import Q, QuerySet
from django.http import QueryDict
from django.utils import timezone

from credentials import reminders, selectors
from credentials.models import CredentialHistory, CredentialType
from tango_portal.models import Team

# Beyond this many distinct values, a name or user search falls back to a plain `icontains`.
MAX_VALUES_MATCHED_FIRST = 5000

# Parameters of the filter form, in the order they read in a filename or a summary.
FILTER_PARAMS = ("credential_type", "name", "action", "user", "date_from", "date_to")


class HistoryFilterForm(forms.Form):
    """Checks what one field cannot: a date range that ends before it starts."""

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        start, end = cleaned.get("date_from"), cleaned.get("date_to")
        if start and end and start > end:
            # The error sits on "to", next to the field to fix.
            self.add_error("date_to", "The end date must be on or after the start date.")
        return cleaned


def _day_start(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=timezone.get_current_timezone())


def _search(label: str, method: str, *, max_length: int, placeholder: str) -> django_filters.CharFilter:
    """A search box: free text, matched by `method`, never autofilled."""
    return django_filters.CharFilter(
        label=label,
        method=method,
        max_length=max_length,
        widget=forms.TextInput(attrs={"type": "search", "placeholder": placeholder, "autocomplete": "off"}),
    )


class HistoryFilter(django_filters.FilterSet):
    """Credential type, name search, action, user (name or email) and a date range.

    Dates are whole days in the portal's time zone. They compare `occurred_at` with the
    start of a day rather than casting it to a date, so the team's newest-first index
    still serves the query.
    """

    credential_type = django_filters.ChoiceFilter(
        label="Credential type", choices=CredentialType.choices, empty_label="All types"
    )
    name = _search("Credential name", "filter_name", max_length=200, placeholder="Search names")
    action = django_filters.ChoiceFilter(
        label="Action", choices=CredentialHistory.Action.choices, empty_label="All actions"
    )
    user = _search("User", "filter_user", max_length=254, placeholder="Name or email")
    date_from = django_filters.DateFilter(
        label="From",
        method="filter_date_from",
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    date_to = django_filters.DateFilter(
        label="To",
        method="filter_date_to",
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )

    class Meta:
        model = CredentialHistory
        fields: list[str] = []
        form = HistoryFilterForm

    def __init__(self, data: Any = None, queryset: Any = None, *, team: Team, **kwargs: Any) -> None:
        super().__init__(data, queryset, **kwargs)
        self.team = team

    def _matching(
        self, queryset: QuerySet[CredentialHistory], columns: tuple[str, ...], value: str
    ) -> QuerySet[CredentialHistory]:
        """Rows whose `columns` contain `value`, whatever the case.

        A `LIKE '%value%'` over a million rows can use no index, and the planner cannot
        tell a rare name from a common one, so it may read every row of the team. A team
        uses few credential names and has few users, though: match the distinct values
        first, then select their rows by value, which the (team, column, -occurred_at,
        -id) indexes answer. A team with more distinct values than that falls back to
        the plain `icontains`.
        """
        needle = value.casefold()
        condition = Q()
        for column in columns:
            found = selectors.history_distinct_values(
                team=self.team, column=column, limit=MAX_VALUES_MATCHED_FIRST + 1
            )
            if len(found) > MAX_VALUES_MATCHED_FIRST:
                condition |= Q(**{f"{column}__icontains": value})
            else:
                condition |= Q(**{f"{column}__in": [v for v in found if needle in v.casefold()]})
        return queryset.filter(condition)

    def filter_name(
        self, queryset: QuerySet[CredentialHistory], name: str, value: str
    ) -> QuerySet[CredentialHistory]:
        return self._matching(queryset, ("credential_name",), value)

    def filter_user(
        self, queryset: QuerySet[CredentialHistory], name: str, value: str
    ) -> QuerySet[CredentialHistory]:
        return self._matching(queryset, ("actor_name", "actor_email"), value)

    def filter_date_from(
        self, queryset: QuerySet[CredentialHistory], name: str, value: date
    ) -> QuerySet[CredentialHistory]:
        return queryset.filter(occurred_at__gte=_day_start(value))

    def filter_date_to(
        self, queryset: QuerySet[CredentialHistory], name: str, value: date
    ) -> QuerySet[CredentialHistory]:
        if value == date.max:  # the last day there is: no day after it to stop before
            return queryset
        return queryset.filter(occurred_at__lt=_day_start(value + timedelta(days=1)))

    def active(self) -> dict[str, str]:
        """The valid, non-empty filters as raw strings, in FILTER_PARAMS order."""
        if not self.is_bound:
            return {}
        cleaned = self.form.cleaned_data if self.form.is_valid() else getattr(self.form, "cleaned_data", {})
        return {key: str(cleaned[key]) for key in FILTER_PARAMS if cleaned.get(key) not in (None, "", [])}


# --- Unused credentials -----------------------------------------------------------


class UnusedFilterForm(forms.Form):
    """What the Unused credentials page and its export select: how long unused, which type.

    Without `days` the page shows the longer period (`with_defaults`); a value other than
    the periods offered is an error to fix, never quietly another period.
    """

    days = forms.TypedChoiceField(
        label="Not used for",
        choices=[(str(days), f"{days} days") for days in reminders.UNUSED_PERIODS],
        coerce=int,
        error_messages={"invalid_choice": "Choose 30 or 90 days.", "required": "Choose 30 or 90 days."},
    )
    credential_type = forms.ChoiceField(
        label="Credential type",
        choices=[("", "All types"), *CredentialType.choices],
        required=False,
        error_messages={"invalid_choice": "Choose a credential type from the list, or All types."},
    )

    @staticmethod
    def with_defaults(params: QueryDict) -> QueryDict:
        data = params.copy()
        if "days" not in data:
            data["days"] = str(reminders.DEFAULT_UNUSED_DAYS)
        return data

    def active(self) -> dict[str, str]:
        """The valid filter as raw strings (the period always, the type when chosen)."""
        if not self.is_valid():
            return {}
        chosen = {
            "days": str(self.cleaned_data["days"]),
            "credential_type": self.cleaned_data["credential_type"],
        }
        return {key: value for key, value in chosen.items() if value}
