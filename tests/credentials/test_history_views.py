from __future__ import annotations

import html as html_lib
import re
from contextlib import nullcontext
from datetime import UTC, datetime
from http import HTTPStatus
from unittest import mock

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from credentials.models import CredentialHistory, CredentialType, HistoryColumnPreference
from credentials.tables.history import COUNT_LIMIT
from tests.conftest import client_for, record_history
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

URL = "/team/api-credentials/history/"
COLUMNS_URL = "/team/api-credentials/history/columns/"
Action = CredentialHistory.Action
Type = CredentialType


def add_history(
    team,
    actor=None,
    *,
    name: str = "Order server",
    identifier: str = "sa_order",
    action: str = Action.CREATED,
    credential_type: str = Type.SERVICE_ACCOUNT,
    at: datetime | None = None,
) -> CredentialHistory:
    """One history row through the only writer, optionally at a given time."""
    clock = mock.patch("django.utils.timezone.now", return_value=at) if at else nullcontext()
    with clock:
        return record_history(
            team,
            actor=actor,
            action=action,
            credential_type=credential_type,
            credential_name=name,
            credential_identifier=identifier,
        )


def names_in(response) -> list[str]:
    """Credential names in table order, read from the rendered rows."""
    html = response.content.decode()
    body = html.split("<tbody", 1)[1].split("</tbody>", 1)[0] if "<tbody" in html else ""
    return re.findall(r'<td class="credential_name">\s*(.*?)\s*</td>', body, flags=re.S)


def headers_in(response) -> list[str]:
    html = response.content.decode()
    thead = html.split("<thead", 1)[1].split("</thead>", 1)[0]
    cells = re.findall(r"<th.*?>(.*?)</th>", thead, re.S)
    return [html_lib.unescape(re.sub(r"<[^>]+>", "", cell)).strip() for cell in cells]


@pytest.fixture
def rows(team, manager, other_team, outsider):
    """A few rows for the team (oldest first) and one for another team."""
    made = [
        add_history(
            team,
            manager,
            name="Payroll sync",
            identifier="sa_payroll",
            at=datetime(2026, 1, 5, 9, 0, tzinfo=UTC),
        ),
        add_history(
            team,
            manager,
            name="Legacy orders",
            identifier="tng_sbx_cid_legacy",
            credential_type=Type.OAUTH_CLIENT,
            at=datetime(2026, 2, 10, 12, 0, tzinfo=UTC),
        ),
        add_history(
            team,
            None,
            name="Zebra reporting",
            identifier="tng_sbx_ak_zebra",
            credential_type=Type.API_KEY,
            action=Action.DEACTIVATED,
            at=datetime(2026, 3, 15, 18, 30, tzinfo=UTC),
        ),
        add_history(
            team,
            manager,
            name="Payroll sync",
            identifier="sa_payroll",
            action=Action.VIEWED,
            at=datetime(2026, 3, 20, 8, 0, tzinfo=UTC),
        ),
    ]
    add_history(other_team, outsider, name="Globex secret project", identifier="sa_globex")
    return made


# --- Who may see it -------------------------------------------------------------------


@pytest.mark.parametrize("client_fixture", ["manager_client", "auditor_client"])
def test_view_and_manage_see_the_history_page_and_fragment(request, client_fixture, rows, htmx_headers):
    client = request.getfixturevalue(client_fixture)

    page = client.get(URL)
    fragment = client.get(URL, headers=htmx_headers)

    assert page.status_code == HTTPStatus.OK
    html = page.content.decode()
    assert "<html" in html and 'id="history-filters"' in html
    assert "{#" not in html and "{%" not in html  # no template syntax leaks into the page
    assert '<time datetime="2026-03-20T08:00:00+00:00">Mar 20, 2026 08:00:00 UTC</time>' in html
    assert '<td class="credential_identifier mono">tng_sbx_ak_zebra</td>' in html
    assert '<td class="actor_name">\N{EM DASH}</td>' in html  # no actor: a dash, not a blank
    assert names_in(page) == ["Payroll sync", "Zebra reporting", "Legacy orders", "Payroll sync"]
    assert fragment.status_code == HTTPStatus.OK
    fragment_html = fragment.content.decode()
    assert "<html" not in fragment_html and 'id="history-filters"' not in fragment_html
    assert fragment_html.lstrip().startswith('<div id="history-results"')
    assert names_in(fragment) == names_in(page)
    assert "HX-Request" in page["Vary"] and "HX-Request" in fragment["Vary"]


def test_dont_allow_gets_the_403_page_for_list_export_and_columns(
    member_client, admin_user, rows, htmx_headers
):
    for response in (
        member_client.get(URL),
        member_client.get(URL, headers=htmx_headers),
        member_client.get(URL, {"_export": "csv"}),
        member_client.post(COLUMNS_URL, {"columns": ["action"]}),
    ):
        assert response.status_code == HTTPStatus.FORBIDDEN
        html = response.content.decode()
        assert "Payroll sync" not in html
        assert "admin@example.com" in html  # the 403 page names who can grant access
    assert not HistoryColumnPreference.objects.exists()


def test_signed_out_visitor_is_sent_to_sign_in(client, rows):
    response = client.get(URL)

    assert response.status_code == HTTPStatus.FOUND
    assert response["Location"].startswith("/accounts/login/")


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"team": "{other}"},
        {"team_id": "{other}"},
        {"name": "Globex"},
        {"name": "Globex", "team": "{other}"},
        {"user": "globex"},
        {"sort": "team"},
        {"credential_type": "service_account", "team__id": "{other}"},
        {"page": "1", "per_page": "100", "team": "{other}"},
    ],
)
def test_rows_of_another_team_never_show_whatever_the_parameters(manager_client, other_team, rows, params):
    crafted = {key: value.format(other=other_team.pk) for key, value in params.items()}

    page = manager_client.get(URL, crafted)
    export = manager_client.get(URL, {**crafted, "_export": "csv"})

    assert page.status_code == HTTPStatus.OK
    assert "Globex secret project" not in page.content.decode()
    assert "sa_globex" not in page.content.decode()
    assert export.status_code == HTTPStatus.OK
    assert "Globex" not in b"".join(export.streaming_content).decode()


def test_a_member_of_two_teams_sees_only_the_current_team(team, other_team, manager, rows):
    from tests.factories import MembershipFactory

    MembershipFactory(user=manager, team=other_team, api_keys_permission="view")
    client = client_for(manager)

    response = client.get(URL, {"team": other_team.pk})

    assert "Globex secret project" not in response.content.decode()
    assert "Payroll sync" in response.content.decode()


# --- Sorting --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("sort", "expected"),
    [
        ("-date", ["Payroll sync", "Zebra reporting", "Legacy orders", "Payroll sync"]),
        ("date", ["Payroll sync", "Legacy orders", "Zebra reporting", "Payroll sync"]),
        ("credential_name", ["Legacy orders", "Payroll sync", "Payroll sync", "Zebra reporting"]),
        ("-credential_name", ["Zebra reporting", "Payroll sync", "Payroll sync", "Legacy orders"]),
        # Action, then newest first within an action.
        ("action", ["Legacy orders", "Payroll sync", "Zebra reporting", "Payroll sync"]),
        ("-action", ["Payroll sync", "Zebra reporting", "Payroll sync", "Legacy orders"]),
        ("credential_type", ["Zebra reporting", "Legacy orders", "Payroll sync", "Payroll sync"]),
    ],
)
def test_sort_by_date_name_action_and_type(manager_client, rows, htmx_headers, sort, expected):
    page = manager_client.get(URL, {"sort": sort})
    fragment = manager_client.get(URL, {"sort": sort}, headers=htmx_headers)

    assert names_in(page) == expected
    assert names_in(fragment) == expected


def test_within_an_action_the_newest_comes_first(manager_client, rows):
    response = manager_client.get(URL, {"sort": "action"})
    html = response.content.decode()

    # created (newest first): Legacy orders (Feb) before Payroll sync (Jan); then deactivated; then viewed.
    created = html.index("Legacy orders"), html.index("sa_payroll")
    assert created[0] < created[1]


@pytest.mark.parametrize(
    "sort", ["actor_email", "team", "-id", "credential_name,action", "row_hash", "", "date; DROP TABLE"]
)
def test_sorts_not_offered_are_ignored(manager_client, rows, htmx_headers, sort):
    for response in (
        manager_client.get(URL, {"sort": sort}),
        manager_client.get(URL, {"sort": sort}, headers=htmx_headers),
    ):
        assert response.status_code == HTTPStatus.OK
        assert names_in(response) == ["Payroll sync", "Zebra reporting", "Legacy orders", "Payroll sync"]


def test_headers_link_to_sorts_and_mark_the_current_one(manager_client, rows):
    html = manager_client.get(URL, {"sort": "credential_name"}).content.decode()

    assert 'aria-sort="ascending"' in html
    assert "sort=-credential_name" in html  # clicking again reverses
    assert "sort=action" in html and "sort=credential_type" in html
    # The current sort travels with the filter form.
    assert '<input type="hidden" name="sort" value="credential_name" form="history-filters">' in html


# --- Filters --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"credential_type": "service_account"}, ["Payroll sync", "Payroll sync"]),
        ({"credential_type": "oauth_client"}, ["Legacy orders"]),
        ({"credential_type": "api_key"}, ["Zebra reporting"]),
        ({"name": "payROLL"}, ["Payroll sync", "Payroll sync"]),
        ({"name": "orders"}, ["Legacy orders"]),
        ({"action": "deactivated"}, ["Zebra reporting"]),
        ({"user": "Manny"}, ["Payroll sync", "Legacy orders", "Payroll sync"]),
        ({"user": "MANAGER@example"}, ["Payroll sync", "Legacy orders", "Payroll sync"]),
        ({"date_from": "2026-02-10"}, ["Payroll sync", "Zebra reporting", "Legacy orders"]),
        ({"date_to": "2026-02-10"}, ["Legacy orders", "Payroll sync"]),
        ({"date_from": "2026-02-11", "date_to": "2026-03-15"}, ["Zebra reporting"]),
        ({"credential_type": "service_account", "action": "viewed"}, ["Payroll sync"]),
        ({"name": "sync", "date_to": "2026-01-31"}, ["Payroll sync"]),
        ({"name": "", "credential_type": "", "user": "", "date_from": ""}, None),
        ({"date_from": "0001-01-01", "date_to": "9999-12-31"}, None),
    ],
)
def test_filters_combine_in_the_url(manager_client, rows, htmx_headers, params, expected):
    expected = expected or ["Payroll sync", "Zebra reporting", "Legacy orders", "Payroll sync"]

    page = manager_client.get(URL, params)
    fragment = manager_client.get(URL, params, headers=htmx_headers)

    assert page.status_code == fragment.status_code == HTTPStatus.OK
    assert names_in(page) == expected
    assert names_in(fragment) == expected


def test_name_search_ignores_case_beyond_ascii_and_takes_wildcards_literally(manager_client, team, manager):
    add_history(team, manager, name="Zoë backup", identifier="sa_zoe")
    add_history(team, manager, name="100% uptime", identifier="sa_100")
    add_history(team, manager, name="1000 uptime", identifier="sa_1000")
    add_history(team, manager, name="a_b", identifier="sa_ab")
    add_history(team, manager, name="axb", identifier="sa_axb")

    assert names_in(manager_client.get(URL, {"name": "ZOË"})) == ["Zoë backup"]
    assert names_in(manager_client.get(URL, {"name": "0%"})) == ["100% uptime"]
    assert names_in(manager_client.get(URL, {"name": "a_b"})) == ["a_b"]
    assert names_in(manager_client.get(URL, {"name": "UPTIME"})) == ["1000 uptime", "100% uptime"]


def test_name_search_still_works_for_a_team_with_very_many_names(manager_client, team, manager, monkeypatch):
    from credentials import filters

    monkeypatch.setattr(filters, "MAX_VALUES_MATCHED_FIRST", 2)
    for name in ("Alpha", "Beta", "Gamma", "Alphabet"):
        add_history(team, manager, name=name, identifier=f"sa_{name.lower()}")

    assert names_in(manager_client.get(URL, {"name": "alpha"})) == ["Alphabet", "Alpha"]


def test_filter_form_is_filled_from_the_url_and_updates_with_htmx(manager_client, rows):
    html = manager_client.get(URL, {"credential_type": "api_key", "name": "zeb"}).content.decode()

    assert '<option value="api_key" selected>API key</option>' in html
    assert 'value="zeb"' in html
    form = html.split('id="history-filters"', 1)[1].split(">", 1)[0]
    assert 'method="get"' in html.split('<form id="history-filters"', 1)[1].split(">", 1)[0]
    assert 'hx-get="/team/api-credentials/history/"' in form
    assert 'hx-push-url="true"' in form and 'hx-target="#history-results"' in form
    # Typing, a mouse paste or dropped text all fire "input"; Enter and clearing fire "search".
    assert "input changed delay:300ms from:(#history-filters input[type=search])" in form
    assert "search from:(#history-filters input[type=search])" in form
    assert "keyup" not in form
    # Every filter has a label.
    for field in ("credential_type", "name", "action", "user", "date_from", "date_to", "per_page"):
        assert f'<label for="id_{field}">' in html


def test_type_dropdown_offers_the_three_credential_types(manager_client, rows):
    html = manager_client.get(URL).content.decode()

    for value, label in [
        ("service_account", "Service account"),
        ("oauth_client", "OAuth client credentials"),
        ("api_key", "API key"),
    ]:
        assert f'<option value="{value}">{label}</option>' in html


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"date_from": "2026-13-45"}, "Enter a valid date."),
        ({"date_to": "yesterday"}, "Enter a valid date."),
        (
            {"date_from": "2026-03-01", "date_to": "2026-02-01"},
            "The end date must be on or after the start date.",
        ),
        ({"credential_type": "password"}, "Select a valid choice."),
        ({"action": "obliterated"}, "Select a valid choice."),
        ({"name": "a\x00b"}, "Null characters are not allowed."),
        ({"user": "x" * 300}, "Ensure this value has at most 254 characters"),
    ],
)
def test_invalid_filters_give_a_clear_error_not_a_500(manager_client, rows, htmx_headers, params, message):
    page = manager_client.get(URL, params)
    fragment = manager_client.get(URL, params, headers=htmx_headers)

    for response in (page, fragment):
        assert response.status_code == HTTPStatus.OK
        html = response.content.decode()
        assert 'role="alert"' in html
        assert message in html
        assert names_in(response) == []  # nothing misleading is listed
    # The full page also shows the error at the field.
    assert 'class="errorlist"' in page.content.decode()


# --- Pages ----------------------------------------------------------------------------


@pytest.fixture
def many_rows(team, manager):
    return [
        add_history(team, manager, name=f"Account {n:03d}", identifier=f"sa_{n:03d}") for n in range(1, 61)
    ]


def test_pages_of_25_by_default_with_next_link(manager_client, many_rows, htmx_headers):
    first = manager_client.get(URL)
    third = manager_client.get(URL, {"page": "3"}, headers=htmx_headers)

    assert names_in(first) == [f"Account {n:03d}" for n in range(60, 35, -1)]
    assert 'rel="next"' in first.content.decode() and "page=2" in first.content.decode()
    assert names_in(third) == [f"Account {n:03d}" for n in range(10, 0, -1)]
    assert 'rel="next"' not in third.content.decode()
    assert "Rows 51\N{EN DASH}60" in third.content.decode()


@pytest.mark.parametrize(
    ("per_page", "shown"), [("50", 50), ("100", 60), ("7", 25), ("1000000", 25), ("x", 25)]
)
def test_page_size_choice_is_whitelisted(manager_client, many_rows, per_page, shown):
    response = manager_client.get(URL, {"per_page": per_page})

    assert response.status_code == HTTPStatus.OK
    assert len(names_in(response)) == shown


@pytest.mark.parametrize(
    ("page", "said"),
    [
        ("0", "Page 0"),
        ("-3", "Page -3"),
        ("abc", "Page abc"),
        ("99999", "Page 99999"),
        ("1.5", "Page 1.5"),
        ("9" * 30, "Page 999999999999\N{HORIZONTAL ELLIPSIS}"),
    ],
)
def test_bad_or_past_the_end_pages_show_the_first_page_and_say_so(
    manager_client, many_rows, htmx_headers, page, said
):
    for response in (
        manager_client.get(URL, {"page": page}),
        manager_client.get(URL, {"page": page}, headers=htmx_headers),
    ):
        assert response.status_code == HTTPStatus.OK
        assert names_in(response)[0] == "Account 060"
        summary = response.content.decode().split('class="history-summary"', 1)[1].split("</p>", 1)[0]
        assert f"{said} does not exist; showing page 1." in summary
        assert "Rows 1\N{EN DASH}25 of 60" in summary


@pytest.mark.parametrize("page", ["", "1", "2"])
def test_pages_that_exist_need_no_notice(manager_client, many_rows, page):
    html = manager_client.get(URL, {"page": page}).content.decode()

    assert "does not exist" not in html


def test_a_page_past_the_end_of_a_filter_says_so_too(manager_client, many_rows):
    html = manager_client.get(URL, {"name": "Account 00", "page": "2"}).content.decode()

    assert "Page 2 does not exist; showing page 1." in html
    assert "Rows 1\N{EN DASH}9 of 9 matching the filter" in html


def test_the_summary_gives_the_total(manager_client, many_rows, htmx_headers):
    page = manager_client.get(URL, {"page": "2", "per_page": "50"})
    fragment = manager_client.get(URL, {"credential_type": "service_account"}, headers=htmx_headers)

    assert "Rows 51\N{EN DASH}60 of 60, newest first." in page.content.decode()
    assert "Rows 1\N{EN DASH}25 of 60 matching the filter, newest first." in fragment.content.decode()


def test_the_total_is_counted_only_so_far(manager_client, many_rows, monkeypatch):
    monkeypatch.setattr("credentials.tables.history.COUNT_LIMIT", 50)

    html = manager_client.get(URL).content.decode()

    assert "Rows 1\N{EN DASH}25 of more than 50, newest first." in html


def test_the_total_of_a_big_history_reads_at_most_the_limit(manager_client, many_rows, monkeypatch):
    monkeypatch.setattr("credentials.tables.history.COUNT_LIMIT", 50)
    with CaptureQueriesContext(connection) as captured:
        manager_client.get(URL)

    counts = [q["sql"] for q in captured.captured_queries if "COUNT(" in q["sql"].upper()]
    assert len(counts) == 1
    assert "LIMIT 51" in counts[0].upper()


def test_page_links_keep_the_filter(manager_client, many_rows):
    html = manager_client.get(URL, {"name": "Account", "sort": "credential_name"}).content.decode()

    next_link = re.search(r'href="([^"]*)" rel="next"', html).group(1)
    assert "name=Account" in next_link and "sort=credential_name" in next_link and "page=2" in next_link


def test_no_count_and_a_constant_number_of_queries_whatever_the_rows(team, manager, manager_client):
    def queries_for_page() -> list[str]:
        with CaptureQueriesContext(connection) as captured:
            response = manager_client.get(URL, {"credential_type": "service_account"})
        assert response.status_code == HTTPStatus.OK
        return [query["sql"] for query in captured.captured_queries]

    add_history(team, manager, name="First")
    few = queries_for_page()
    for n in range(40):
        add_history(team, manager, name=f"More {n}")
    many = queries_for_page()

    assert len(few) == len(many)
    assert len(many) <= 9
    # The summary's total is one COUNT over at most COUNT_LIMIT + 1 rows, never a full COUNT(*).
    counts = [sql for sql in many if "COUNT(" in sql.upper()]
    assert len(counts) == 1
    assert f"LIMIT {COUNT_LIMIT + 1}" in counts[0].upper()


# --- Empty states ---------------------------------------------------------------------


def test_empty_state_when_the_team_has_no_history(manager_client, other_team, outsider, htmx_headers):
    add_history(other_team, outsider, name="Globex only")

    for response in (manager_client.get(URL), manager_client.get(URL, headers=htmx_headers)):
        html = response.content.decode()
        assert "No credential history yet" in html
        assert 'href="/team/api-credentials/"' in html
        assert "<table" not in html
        assert "_export=csv" not in html  # nothing to export


def test_no_matches_state_offers_to_clear_filters(manager_client, rows, htmx_headers):
    for response in (
        manager_client.get(URL, {"name": "nothing like this"}),
        manager_client.get(URL, {"name": "nothing like this"}, headers=htmx_headers),
    ):
        html = response.content.decode()
        assert "No history matches this filter" in html
        assert '<a class="button" href="/team/api-credentials/history/">Clear filters</a>' in html
        assert "No credential history yet" not in html
        assert "_export=csv" not in html and "_export=json" not in html  # nothing to export


def test_export_links_show_when_rows_match(manager_client, rows, htmx_headers):
    for response in (
        manager_client.get(URL, {"name": "payroll"}),
        manager_client.get(URL, {"name": "payroll"}, headers=htmx_headers),
    ):
        html = response.content.decode()
        assert "_export=csv" in html and "_export=json" in html


# --- Plain text -----------------------------------------------------------------------


def test_markup_in_history_is_shown_as_text(manager_client, team, manager):
    add_history(team, manager, name='<script>alert("x")</script>', identifier="<b>id</b>")

    html = manager_client.get(URL).content.decode()

    assert "<script>alert" not in html
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in html
    assert "&lt;b&gt;id&lt;/b&gt;" in html


# --- Columns --------------------------------------------------------------------------


def test_hidden_columns_persist_for_the_user_and_keep_the_filter(manager, rows, htmx_headers):
    client = client_for(manager)
    query = "credential_type=service_account&sort=credential_name"

    response = client.post(
        COLUMNS_URL,
        {
            "columns": ["action", "credential_name", "date", "credential_type"],
            "query": query,
        },
    )

    assert response.status_code == HTTPStatus.SEE_OTHER
    assert response["Location"] == f"{URL}?credential_type=service_account&sort=credential_name"
    # A new visit, in a new session, still hides them.
    again = client_for(manager)
    for page in (again.get(URL), again.get(URL, headers=htmx_headers)):
        assert headers_in(page) == ["Action", "Credential name", "Date", "Credential type"]
        assert "manager@example.com" not in page.content.decode().split("<tbody", 1)[1]
    assert HistoryColumnPreference.objects.get(user=manager).hidden_columns == [
        "actor_name",
        "actor_email",
        "credential_identifier",
    ]


def test_column_picker_lists_every_column_with_the_visible_ones_checked(manager, manager_client, rows):
    HistoryColumnPreference.objects.create(user=manager, hidden_columns=["actor_email"])

    html = manager_client.get(URL).content.decode()

    picker = html.split('class="column-picker"', 1)[1].split("</details>", 1)[0]
    for name in (
        "action",
        "credential_name",
        "date",
        "actor_name",
        "credential_identifier",
        "credential_type",
    ):
        assert f'value="{name}" checked' in picker
    assert 'value="actor_email">' in picker
    assert "Columns (6 of 7 shown)" in picker
    assert headers_in(manager_client.get(URL)) == [
        "Action",
        "Credential name",
        "Date",
        "User's name",
        "Client ID/API key",
        "Credential type",
    ]


def test_another_users_choice_does_not_apply(manager, auditor, auditor_client, rows):
    HistoryColumnPreference.objects.create(user=manager, hidden_columns=["actor_email", "action"])

    assert len(headers_in(auditor_client.get(URL))) == 7


def test_column_choice_through_htmx_comes_back_as_the_fragment(manager, manager_client, rows, htmx_headers):
    response = manager_client.post(
        COLUMNS_URL,
        {"columns": ["credential_name", "date"], "query": "name=payroll"},
        headers=htmx_headers,
        follow=True,
    )

    assert response.status_code == HTTPStatus.OK
    assert response.redirect_chain == [(f"{URL}?name=payroll", HTTPStatus.SEE_OTHER)]
    html = response.content.decode()
    assert "<html" not in html
    assert headers_in(response) == ["Credential name", "Date"]
    assert names_in(response) == ["Payroll sync", "Payroll sync"]


def test_hiding_every_column_is_refused_with_a_message(manager, manager_client, rows, htmx_headers):
    HistoryColumnPreference.objects.create(user=manager, hidden_columns=["actor_email"])

    plain = manager_client.post(COLUMNS_URL, {"query": "name=payroll"})
    fragment = manager_client.post(COLUMNS_URL, {"query": "name=payroll"}, headers=htmx_headers)

    assert plain.status_code == HTTPStatus.BAD_REQUEST
    assert fragment.status_code == HTTPStatus.OK  # htmx swaps only 2xx
    for response in (plain, fragment):
        html = response.content.decode()
        assert "Keep at least one column visible." in html and 'role="alert"' in html
        assert names_in(response) == ["Payroll sync", "Payroll sync"]  # the same filtered table
    assert HistoryColumnPreference.objects.get(user=manager).hidden_columns == ["actor_email"]


@pytest.mark.parametrize(
    "query",
    [
        "next=https://evil.example/",
        "//evil.example",
        "name=a&_export=csv&evil=1",
        "https://evil.example/?name=a",
    ],
)
def test_the_way_back_after_saving_columns_keeps_only_table_parameters(manager_client, rows, query):
    response = manager_client.post(COLUMNS_URL, {"columns": ["date"], "query": query})

    location = response["Location"]
    assert location.startswith(URL)
    assert "evil" not in location and "_export" not in location


def test_unknown_columns_in_a_post_are_refused(manager, manager_client, rows):
    response = manager_client.post(COLUMNS_URL, {"columns": ["row_hash", "date"]})

    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert not HistoryColumnPreference.objects.filter(user=manager).exists()


def test_columns_accept_only_post(manager_client):
    assert manager_client.get(COLUMNS_URL).status_code == HTTPStatus.METHOD_NOT_ALLOWED


def test_list_refuses_post(manager_client):
    assert manager_client.post(URL).status_code == HTTPStatus.METHOD_NOT_ALLOWED


@pytest.mark.parametrize("max_values", [5000, 1], ids=["distinct users first", "too many users"])
def test_user_search_matches_a_name_or_an_email_as_it_was_written(
    manager_client, team, manager, monkeypatch, max_values
):
    from credentials import filters

    monkeypatch.setattr(filters, "MAX_VALUES_MATCHED_FIRST", max_values)
    zoe = UserFactory(full_name="Zoë Ångström", email="z.angstrom@acme.example")
    add_history(team, zoe, name="Before the rename", identifier="sa_1")
    zoe.full_name = "Zoë Berg"
    zoe.save()
    add_history(team, zoe, name="After the rename", identifier="sa_2")
    add_history(team, manager, name="Someone else's", identifier="sa_3")
    add_history(team, None, name="No one's", identifier="sa_4")

    # Each row keeps the name it was written with; the email matches both.
    assert names_in(manager_client.get(URL, {"user": "ANGSTROM@"})) == [
        "After the rename",
        "Before the rename",
    ]
    assert names_in(manager_client.get(URL, {"user": "Ångström"})) == ["Before the rename"]
    assert names_in(manager_client.get(URL, {"user": "Zoë Å"})) == ["Before the rename"]
    assert names_in(manager_client.get(URL, {"user": "berg"})) == ["After the rename"]
    assert names_in(manager_client.get(URL, {"user": "no such person"})) == []
