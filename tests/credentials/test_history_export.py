from __future__ import annotations

import csv
import io
import json
from datetime import UTC, date, datetime
from http import HTTPStatus

import pytest
from django.http import StreamingHttpResponse
from django.utils import timezone

from credentials import export
from credentials.models import CredentialHistory, CredentialType, HistoryColumnPreference
from tests.credentials.test_history_views import URL, add_history

pytestmark = pytest.mark.django_db

Action = CredentialHistory.Action
Type = CredentialType
TODAY = timezone.localdate().isoformat()
CSV_HEADING = [
    "Action",
    "Credential name",
    "Date",
    "User's name",
    "User's email",
    "Client ID/API key",
    "Credential type",
]


def body(response) -> str:
    assert isinstance(response, StreamingHttpResponse)
    return b"".join(response.streaming_content).decode()


def csv_rows(response) -> tuple[list[list[str]], str]:
    """The CSV's rows (heading first) and its closing chain-head line."""
    text = body(response)
    lines = text.splitlines()
    assert lines[-1].startswith("# chain_head=")
    return list(csv.reader(io.StringIO("\n".join(lines[:-1])))), lines[-1]


def chain_head(team) -> str:
    return CredentialHistory.objects.filter(team=team).order_by("-id").values_list("row_hash", flat=True)[0]


@pytest.fixture
def rows(team, manager, other_team, outsider):
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
            at=datetime(2026, 3, 15, 18, 30, 5, tzinfo=UTC),
        ),
    ]
    add_history(other_team, outsider, name="Globex secret project", identifier="sa_globex")
    return made


@pytest.mark.parametrize("client_fixture", ["manager_client", "auditor_client"])
def test_csv_export_has_every_column_every_row_and_the_chain_head(request, client_fixture, team, rows):
    client = request.getfixturevalue(client_fixture)

    response = client.get(URL, {"_export": "csv"})

    assert response.status_code == HTTPStatus.OK
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == (
        f'attachment; filename="acme-rewards-credential-history-{TODAY}.csv"'
    )
    assert response["X-History-Chain-Head"] == chain_head(team)
    table, last_line = csv_rows(response)
    assert table == [
        CSV_HEADING,
        ["Deactivated", "Zebra reporting", "2026-03-15T18:30:05Z", "", "", "tng_sbx_ak_zebra", "API key"],
        [
            "Created",
            "Legacy orders",
            "2026-02-10T12:00:00Z",
            "Manny Manager",
            "manager@example.com",
            "tng_sbx_cid_legacy",
            "OAuth client credentials",
        ],
        [
            "Created",
            "Payroll sync",
            "2026-01-05T09:00:00Z",
            "Manny Manager",
            "manager@example.com",
            "sa_payroll",
            "Service account",
        ],
    ]
    assert last_line == f"# chain_head={chain_head(team)}"
    assert "no-store" in response["Cache-Control"]


def test_json_export_is_what_the_filter_selects_with_the_chain_head_last(manager_client, team, rows):
    response = manager_client.get(URL, {"_export": "json", "credential_type": "service_account", "page": "3"})

    assert response.status_code == HTTPStatus.OK
    assert response["Content-Type"] == "application/json; charset=utf-8"
    assert response["Content-Disposition"] == (
        f'attachment; filename="acme-rewards-credential-history-{TODAY}-type-service_account.json"'
    )
    data = json.loads(body(response))
    assert list(data)[-1] == "chain_head"
    assert data["chain_head"] == chain_head(team) == response["X-History-Chain-Head"]
    assert data["team"] == "acme-rewards"
    assert data["filters"] == {"credential_type": "service_account"}
    assert data["columns"] == [
        "action",
        "credential_name",
        "date",
        "actor_name",
        "actor_email",
        "credential_identifier",
        "credential_type",
    ]
    assert data["rows"] == [
        {
            "action": "Created",
            "credential_name": "Payroll sync",
            "date": "2026-01-05T09:00:00Z",
            "actor_name": "Manny Manager",
            "actor_email": "manager@example.com",
            "credential_identifier": "sa_payroll",
            "credential_type": "Service account",
        }
    ]


def test_export_includes_every_page_in_the_chosen_order(manager_client, team, manager, monkeypatch):
    # Small chunks and buffers, so that the streaming paths are exercised too.
    monkeypatch.setattr(export, "CHUNK_SIZE", 7)
    monkeypatch.setattr(export, "FLUSH_AT", 100)
    for n in range(1, 61):
        add_history(team, manager, name=f"Account {n:03d}", identifier=f"sa_{n:03d}")

    csv_response = manager_client.get(URL, {"_export": "csv", "sort": "credential_name", "per_page": "25"})
    json_response = manager_client.get(URL, {"_export": "json", "sort": "-date"})

    table, _ = csv_rows(csv_response)
    assert [row[1] for row in table[1:]] == [f"Account {n:03d}" for n in range(1, 61)]
    rows = json.loads(body(json_response))["rows"]
    assert [row["credential_name"] for row in rows] == [f"Account {n:03d}" for n in range(60, 0, -1)]


def test_export_streams_from_an_iterator_in_chunks(manager_client, team, manager, monkeypatch):
    from django.db.models.query import QuerySet

    add_history(team, manager)
    calls = []
    original = QuerySet.iterator

    def spy(self, chunk_size=None):
        calls.append(chunk_size)
        return original(self, chunk_size=chunk_size)

    monkeypatch.setattr(QuerySet, "iterator", spy)

    response = manager_client.get(URL, {"_export": "csv"})

    assert response.streaming
    assert calls == []  # nothing is read before the response starts streaming
    body(response)
    assert calls == [2000]


@pytest.mark.parametrize(
    ("params", "suffix", "names"),
    [
        ({"credential_type": "api_key"}, "type-api_key", ["Zebra reporting"]),
        ({"name": "Payroll"}, "name-payroll", ["Payroll sync"]),
        ({"action": "deactivated", "user": ""}, "action-deactivated", ["Zebra reporting"]),
        ({"user": "manny"}, "user-manny", ["Legacy orders", "Payroll sync"]),
        (
            {"date_from": "2026-02-01", "date_to": "2026-02-28"},
            "from-2026-02-01-to-2026-02-28",
            ["Legacy orders"],
        ),
        (
            {"credential_type": "service_account", "name": "sync"},
            "type-service_account-name-sync",
            ["Payroll sync"],
        ),
    ],
)
def test_export_filename_names_team_date_and_filter(manager_client, rows, params, suffix, names):
    response = manager_client.get(URL, {**params, "_export": "csv"})

    assert response["Content-Disposition"] == (
        f'attachment; filename="acme-rewards-credential-history-{TODAY}-{suffix}.csv"'
    )
    table, _ = csv_rows(response)
    assert [row[1] for row in table[1:]] == names


def test_export_has_only_the_visible_columns(manager, manager_client, rows):
    HistoryColumnPreference.objects.create(
        user=manager, hidden_columns=["actor_name", "actor_email", "credential_identifier"]
    )

    csv_table, _ = csv_rows(manager_client.get(URL, {"_export": "csv"}))
    data = json.loads(body(manager_client.get(URL, {"_export": "json"})))

    assert csv_table[0] == ["Action", "Credential name", "Date", "Credential type"]
    assert all(len(row) == 4 for row in csv_table)
    assert data["columns"] == ["action", "credential_name", "date", "credential_type"]
    assert set(data["rows"][0]) == {"action", "credential_name", "date", "credential_type"}


@pytest.mark.parametrize(
    ("name", "exported"),
    [
        ('=HYPERLINK("http://evil")', '\'=HYPERLINK("http://evil")'),
        ("+1+1", "'+1+1"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tindent", "'\tindent"),
        ("Plain name", "Plain name"),
        ("a=b", "a=b"),
    ],
)
def test_csv_cells_cannot_run_as_spreadsheet_formulas(manager_client, team, manager, name, exported):
    add_history(team, manager, name=name, identifier="sa_x")

    table, _ = csv_rows(manager_client.get(URL, {"_export": "csv"}))
    data = json.loads(body(manager_client.get(URL, {"_export": "json"})))

    assert table[1][1] == exported
    assert data["rows"][0]["credential_name"] == name  # JSON carries the exact text


def test_markup_is_exported_as_plain_text(manager_client, team, manager):
    add_history(team, manager, name='<script>alert("x")</script> & co', identifier="<b>id</b>")

    table, _ = csv_rows(manager_client.get(URL, {"_export": "csv"}))
    data = json.loads(body(manager_client.get(URL, {"_export": "json"})))

    assert table[1][1] == '<script>alert("x")</script> & co'
    assert data["rows"][0]["credential_identifier"] == "<b>id</b>"


def test_export_stops_at_the_chain_head_it_reports(manager_client, team, manager, monkeypatch):
    first = add_history(team, manager, name="Before export")
    original = export.export_rows

    def rows_after_a_new_entry(queryset, columns):
        # History grows while the download starts: the file still matches its hash.
        add_history(team, manager, name="During export")
        yield from original(queryset, columns)

    monkeypatch.setattr(export, "export_rows", rows_after_a_new_entry)

    response = manager_client.get(URL, {"_export": "csv"})
    table, last_line = csv_rows(response)

    assert [row[1] for row in table[1:]] == ["Before export"]
    assert last_line == f"# chain_head={first.row_hash}"
    assert response["X-History-Chain-Head"] == first.row_hash


def test_export_of_an_empty_history_has_only_the_heading(manager_client, team):
    table, last_line = csv_rows(manager_client.get(URL, {"_export": "csv"}))
    data = json.loads(body(manager_client.get(URL, {"_export": "json"})))

    assert table == [CSV_HEADING]
    assert last_line == "# chain_head="
    assert data["rows"] == [] and data["chain_head"] == ""


def test_export_never_includes_another_team(manager_client, outsider_client, team, other_team, rows):
    ours = body(manager_client.get(URL, {"_export": "json", "team": other_team.pk}))
    theirs = body(outsider_client.get(URL, {"_export": "json", "team": team.pk, "name": "Payroll"}))

    assert "Globex" not in ours and "sa_globex" not in ours
    assert json.loads(theirs)["rows"] == []
    assert json.loads(theirs)["chain_head"] == chain_head(other_team)


def test_dont_allow_cannot_export(member_client, rows):
    for fmt in ("csv", "json"):
        response = member_client.get(URL, {"_export": fmt})
        assert response.status_code == HTTPStatus.FORBIDDEN
        assert not response.streaming
        assert "Payroll" not in response.content.decode()


def test_unknown_export_format_is_refused(manager_client, rows):
    response = manager_client.get(URL, {"_export": "xlsx"})

    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert "csv" in response.content.decode()


def test_export_of_an_invalid_filter_shows_the_error_instead(manager_client, rows):
    response = manager_client.get(URL, {"_export": "csv", "date_from": "2026-02-31"})

    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert not response.streaming
    html = response.content.decode()
    assert "Enter a valid date." in html and 'role="alert"' in html


def test_export_links_carry_the_current_filter(manager_client, rows, htmx_headers):
    for response in (
        manager_client.get(URL, {"credential_type": "api_key", "page": "2", "sort": "date"}),
        manager_client.get(
            URL, {"credential_type": "api_key", "page": "2", "sort": "date"}, headers=htmx_headers
        ),
    ):
        html = response.content.decode()
        assert 'href="?credential_type=api_key&amp;sort=date&amp;_export=csv"' in html
        assert 'href="?credential_type=api_key&amp;sort=date&amp;_export=json"' in html


def test_filename_helper_keeps_names_safe():
    name = export.export_filename(
        team_slug="acme",
        filters={"name": '../../etc/"passwd"', "user": "Zoë <z@x>"},
        fmt="csv",
        today=date(2026, 11, 28),
    )

    assert name == "acme-credential-history-2026-11-28-name-etcpasswd-user-zoe-zx.csv"
