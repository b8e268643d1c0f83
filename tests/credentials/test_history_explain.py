"""The history table's page queries are index scans on PostgreSQL, not a sort of the team's rows."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from credentials import selectors
from credentials.filters import HistoryFilter
from credentials.tables.history import history_ordered
from tests.factories import TeamFactory

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]


@pytest.fixture
def busy_teams(team):
    """50,000 rows over three teams, then ANALYZE, so the planner sees a realistic table.

    Inserted by one SQL statement rather than history.record: the chain is irrelevant
    to a plan, and the append-only triggers allow inserts.
    """
    others = [TeamFactory(), TeamFactory()]
    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO credentials_credentialhistory
                (team_id, occurred_at, action, credential_type, credential_name, credential_identifier,
                 actor_name, actor_email, details, prev_hash, row_hash)
            SELECT CASE WHEN n %% 2 = 0 THEN %s WHEN n %% 4 = 1 THEN %s ELSE %s END,
                   %s::timestamptz + n * interval '1 minute',
                   (ARRAY['created', 'viewed', 'updated', 'deactivated'])[1 + n %% 4],
                   (ARRAY['service_account', 'oauth_client', 'api_key'])[1 + n %% 3],
                   'Credential ' || (n %% 300), 'sa_' || (n %% 300),
                   'Bench User', 'bench@example.com', '{}', '', lpad(to_hex(n), 64, '0')
            FROM generate_series(1, 50000) AS n
            """,
            [team.pk, others[0].pk, others[1].pk, datetime(2026, 1, 1, tzinfo=UTC)],
        )
        cursor.execute("ANALYZE credentials_credentialhistory")
    return team


def plan(queryset) -> str:
    return queryset.explain()


def page_ids(team, params: dict[str, str], sort: str = "-date"):
    """The query the history page runs first: the ids of one page (see HistoryPaginator)."""
    queryset = HistoryFilter(params, queryset=selectors.history_for_team(team=team), team=team).qs
    return history_ordered(queryset, sort).values_list("pk", flat=True)[:26]


def test_default_order_is_an_index_scan_of_history_team_newest(busy_teams):
    text = plan(page_ids(busy_teams, {}))

    assert "history_team_newest" in text, text
    assert "Index" in text and "Sort" not in text and "Seq Scan" not in text, text


def test_deep_page_reads_only_the_index(busy_teams):
    queryset = HistoryFilter({}, queryset=selectors.history_for_team(team=busy_teams), team=busy_teams).qs
    text = plan(history_ordered(queryset, "-date").values_list("pk", flat=True)[2500:2526])

    assert "history_team_newest" in text and "Sort" not in text, text


def test_type_filter_is_an_index_scan_of_history_team_type_newest(busy_teams):
    text = plan(page_ids(busy_teams, {"credential_type": "api_key"}))

    assert "history_team_type_newest" in text, text
    assert "Sort" not in text and "Seq Scan" not in text, text


@pytest.mark.parametrize(
    ("sort", "index"),
    [
        ("date", "history_team_newest"),
        ("credential_type", "history_team_type_newest"),
        ("-credential_type", "history_team_type_newest"),
        ("action", "history_team_action_newest"),
        ("-credential_name", "history_team_name_newest"),
    ],
)
def test_every_offered_sort_reads_an_index_in_order(busy_teams, sort, index):
    text = plan(page_ids(busy_teams, {}, sort))

    assert index in text and "Sort" not in text, text


def test_name_search_reads_the_names_then_the_rows_by_index(busy_teams):
    with CaptureQueriesContext(connection) as captured:
        names = selectors.history_distinct_values(team=busy_teams, column="credential_name", limit=5001)
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN " + captured.captured_queries[0]["sql"])
        names_plan = "\n".join(row[0] for row in cursor.fetchall())
    rows_plan = plan(page_ids(busy_teams, {"name": "credential 7"}))

    assert len(names) == 150  # the team's even-numbered names, alphabetically
    assert names[:3] == ["Credential 0", "Credential 10", "Credential 100"]
    assert "history_team_name_newest" in names_plan and "Seq Scan" not in names_plan, names_plan
    assert "Seq Scan" not in rows_plan and "history_team" in rows_plan, rows_plan
    # One name is read in order straight from the name index: no sort at all.
    one_name = plan(page_ids(busy_teams, {"name": "Credential 298"}))
    assert "history_team_name_newest" in one_name and "Sort" not in one_name, one_name


def test_user_search_reads_the_teams_users_by_index(busy_teams):
    for column, index in (
        ("actor_name", "history_team_actor_name"),
        ("actor_email", "history_team_actor_email"),
    ):
        with CaptureQueriesContext(connection) as captured:
            found = selectors.history_distinct_values(team=busy_teams, column=column, limit=5001)
        with connection.cursor() as cursor:
            cursor.execute("EXPLAIN " + captured.captured_queries[0]["sql"])
            found_plan = "\n".join(row[0] for row in cursor.fetchall())

        assert found == (["Bench User"] if column == "actor_name" else ["bench@example.com"])
        assert index in found_plan and "Seq Scan" not in found_plan, found_plan
    assert "Seq Scan" not in plan(page_ids(busy_teams, {"user": "bench@"}))


def test_plans_hold_with_sequential_scans_disabled_too(busy_teams):
    # Belt and braces: with seq scans off, a missing index would show as a Sort node.
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
    for params, index in [
        ({}, "history_team_newest"),
        ({"credential_type": "service_account"}, "history_team_type_newest"),
    ]:
        text = plan(page_ids(busy_teams, params))
        assert index in text and "Sort" not in text, text
