"""API credentials > Unused credentials: who sees it, what it selects, its filter and its CSV export."""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from http import HTTPStatus

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from credentials import reminders, services
from credentials.models import ApiKey, OAuthClient, ServiceAccount
from credentials.tables.unused import PER_PAGE
from tests.conftest import client_for, plain_and_htmx

pytestmark = pytest.mark.django_db

URL = "/team/api-credentials/unused/"


def _age(credential, *, created_days: int, used_days: int | None = None) -> None:
    """Make `credential` created `created_days` ago and last used `used_days` ago (None: never)."""
    now = timezone.now()
    type(credential).objects.filter(pk=credential.pk).update(
        created_at=now - timedelta(days=created_days),
        last_used_at=None if used_days is None else now - timedelta(days=used_days),
    )


@pytest.fixture
def credentials(team, manager, other_team, outsider):
    """One credential of each standing, by name; another team's old unused one too."""
    made = {}
    made["never"], _ = services.service_account_create(actor=manager, team=team, display_name="Never used SA")
    _age(made["never"], created_days=200)
    made["used_40"], _ = services.oauth_client_create(
        actor=manager, team=team, display_name="Used 40 days ago"
    )
    _age(made["used_40"], created_days=300, used_days=40)
    made["used_100"], _ = services.api_key_create(actor=manager, team=team, platform_name="Used 100 days ago")
    _age(made["used_100"], created_days=400, used_days=100)
    made["recent"], _ = services.service_account_create(
        actor=manager, team=team, display_name="Used yesterday"
    )
    _age(made["recent"], created_days=300, used_days=1)
    made["young"], _ = services.service_account_create(
        actor=manager, team=team, display_name="Young and unused"
    )
    _age(made["young"], created_days=20)
    made["deleted"], _ = services.service_account_create(
        actor=manager, team=team, display_name="Deleted old SA"
    )
    _age(made["deleted"], created_days=300)
    services.service_account_delete(actor=manager, team=team, account=made["deleted"])
    made["deactivated"], _ = services.api_key_create(
        actor=manager, team=team, platform_name="Deactivated key"
    )
    _age(made["deactivated"], created_days=300)
    services.api_key_deactivate(actor=manager, team=team, key=made["deactivated"])
    made["theirs"], _ = services.service_account_create(
        actor=outsider, team=other_team, display_name="Globex forgotten SA"
    )
    _age(made["theirs"], created_days=300)
    return made


def _names(response) -> list[str]:
    return [row["name"] for row in response.context["table"].paginated_rows.data]


def _csv(response) -> list[list[str]]:
    return list(csv.reader(io.StringIO(response.content.decode())))


# --- Who sees it -----------------------------------------------------------------


def test_an_auditor_sees_the_team_s_credentials_unused_for_90_days_by_default(credentials, auditor_client):
    plain, htmx = plain_and_htmx(auditor_client.get, URL)
    assert _names(plain) == ["Never used SA", "Used 100 days ago"]
    assert _names(htmx) == _names(plain)
    page = plain.content.decode()
    assert "<h1>Unused credentials</h1>" in page
    assert "Last used" in page and "Never used" in page
    assert credentials["never"].username in page  # the identifier
    assert "2 credentials not used for 90 days" in page
    for absent in (
        "Used 40 days ago",
        "Used yesterday",
        "Young and unused",
        "Deleted old SA",
        "Deactivated key",
    ):
        assert absent not in page
    assert "Globex" not in page


def test_thirty_days_adds_what_was_used_between_30_and_90_days_ago(credentials, auditor_client):
    response = auditor_client.get(URL, {"days": "30"})
    assert _names(response) == ["Never used SA", "Used 100 days ago", "Used 40 days ago"]
    assert "3 credentials not used for 30 days" in response.content.decode()


def test_the_type_filter_narrows_to_one_type(credentials, auditor_client):
    response = auditor_client.get(URL, {"days": "30", "credential_type": "oauth_client"})
    assert _names(response) == ["Used 40 days ago"]


def test_never_used_counts_only_once_older_than_the_period(team, manager, auditor_client):
    account, _ = services.service_account_create(actor=manager, team=team, display_name="Fresh")
    _age(account, created_days=89)
    assert "Fresh" not in auditor_client.get(URL).content.decode()
    _age(account, created_days=91)
    assert _names(auditor_client.get(URL)) == ["Fresh"]


def test_members_without_the_permission_are_refused(credentials, member_client):
    assert member_client.get(URL).status_code == HTTPStatus.FORBIDDEN
    assert member_client.get(URL, {"_export": "csv"}).status_code == HTTPStatus.FORBIDDEN


def test_another_team_sees_only_its_own(credentials, outsider_client):
    response = outsider_client.get(URL)
    assert _names(response) == ["Globex forgotten SA"]
    body = response.content.decode() + outsider_client.get(URL, {"_export": "csv"}).content.decode()
    assert "Never used SA" not in body
    assert credentials["never"].username not in body


def test_the_overview_links_to_it(credentials, auditor_client):
    assert f'href="{URL}"' in auditor_client.get("/team/api-credentials/").content.decode()


# --- Bad input, empty state, pages -------------------------------------------------


@pytest.mark.parametrize("days", ["45", "abc", "", "9" * 40])
def test_a_bad_period_is_an_error_to_fix_and_selects_nothing(credentials, auditor_client, days):
    plain, htmx = plain_and_htmx(auditor_client.get, URL, {"days": days})
    for response in (plain, htmx):
        body = response.content.decode()
        assert "Fix the filter to see unused credentials" in body
        assert "Choose 30 or 90 days." in body
        assert "Never used SA" not in body
    export = auditor_client.get(URL, {"days": days, "_export": "csv"})
    assert export.status_code == HTTPStatus.BAD_REQUEST
    assert "Never used SA" not in export.content.decode()


def test_a_bad_type_is_an_error_too(credentials, auditor_client):
    body = auditor_client.get(URL, {"credential_type": "password"}).content.decode()
    assert "Choose a credential type from the list" in body
    assert "Never used SA" not in body


def test_an_unknown_export_format_is_refused(credentials, auditor_client):
    response = auditor_client.get(URL, {"_export": "xlsx"})
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert b"_export=csv" in response.content


def test_nothing_unused_shows_the_empty_state_and_no_export(team, manager, auditor_client):
    account, _ = services.service_account_create(actor=manager, team=team, display_name="Busy")
    _age(account, created_days=300, used_days=2)
    plain, htmx = plain_and_htmx(auditor_client.get, URL)
    for response in (plain, htmx):
        body = response.content.decode()
        assert "No unused credentials" in body
        assert "_export=csv" not in body


def test_long_lists_are_paginated_and_the_export_has_every_page(team, manager, auditor_client):
    old = timezone.now() - timedelta(days=200)
    ServiceAccount.objects.bulk_create(
        ServiceAccount(team=team, username=f"tng_sbx_sa_old{i:03d}", password_hash="x", created_at=old)
        for i in range(PER_PAGE + 5)
    )
    first = auditor_client.get(URL)
    assert len(_names(first)) == PER_PAGE
    assert first.context["table"].paginator.count == PER_PAGE + 5
    second = auditor_client.get(URL, {"page": "2"})
    assert len(_names(second)) == 5
    assert set(_names(first)).isdisjoint(_names(second))
    rows = _csv(auditor_client.get(URL, {"_export": "csv", "page": "2"}))
    assert len(rows) == 1 + PER_PAGE + 5


def test_the_page_costs_the_same_queries_however_many_rows(
    team, manager, auditor_client, django_assert_max_num_queries
):
    old = timezone.now() - timedelta(days=200)
    ServiceAccount.objects.create(team=team, username="tng_sbx_sa_first", password_hash="x", created_at=old)
    with CaptureQueriesContext(connection) as one:
        auditor_client.get(URL)
    ServiceAccount.objects.bulk_create(
        ServiceAccount(team=team, username=f"tng_sbx_sa_more{i}", password_hash="x", created_at=old)
        for i in range(20)
    )
    with django_assert_max_num_queries(len(one.captured_queries)):
        auditor_client.get(URL)


# --- Due for rotation ---------------------------------------------------------------


def test_the_due_column_follows_the_team_s_policy(credentials, team, auditor_client):
    team.max_credential_age_days = 365
    team.save(update_fields=["max_credential_age_days"])
    rows = {row[1]: row[5] for row in _csv(auditor_client.get(URL, {"days": "30", "_export": "csv"}))[1:]}
    # Created 200, 300 and 400 days ago.
    assert rows == {"Never used SA": "No", "Used 40 days ago": "No", "Used 100 days ago": "Yes"}
    team.max_credential_age_days = None
    team.save(update_fields=["max_credential_age_days"])
    rows = {row[1]: row[5] for row in _csv(auditor_client.get(URL, {"days": "30", "_export": "csv"}))[1:]}
    assert set(rows.values()) == {"No"}


# --- The CSV export ------------------------------------------------------------------


def test_the_export_is_exactly_what_the_filter_shows(credentials, auditor_client):
    for query in ({}, {"days": "30"}, {"days": "30", "credential_type": "api_key"}):
        shown = _names(auditor_client.get(URL, query))
        response = auditor_client.get(URL, {**query, "_export": "csv"})
        assert response.status_code == HTTPStatus.OK
        rows = _csv(response)
        assert rows[0] == ["Type", "Name", "Identifier", "Created", "Last used", "Due for rotation"]
        assert [row[1] for row in rows[1:]] == shown


def test_the_export_names_each_credential_without_a_secret(credentials, team, auditor_client):
    response = auditor_client.get(URL, {"days": "30"})
    export = auditor_client.get(URL, {"days": "30", "_export": "csv"})
    assert export["Content-Type"] == "text/csv; charset=utf-8"
    assert "no-store" in export["Cache-Control"]
    disposition = export["Content-Disposition"]
    assert disposition.startswith("attachment;")
    assert f"{team.slug}-unused-credentials-" in disposition and "-30-days.csv" in disposition
    text = export.content.decode()
    # Every cell quoted, as the history export's are.
    assert text.splitlines()[0] == '"Type","Name","Identifier","Created","Last used","Due for rotation"'
    rows = {row[1]: row for row in _csv(export)[1:]}
    never = rows["Never used SA"]
    assert never[0] == "Service account"
    assert never[2] == credentials["never"].username
    assert never[4] == "Never used"
    assert never[3].endswith("Z")
    key = ApiKey.objects.get(pk=credentials["used_100"].pk)
    assert rows["Used 100 days ago"][2] == f"{key.prefix}…"
    assert key.digest not in text
    client = OAuthClient.objects.get(pk=credentials["used_40"].pk)
    assert rows["Used 40 days ago"][2] == client.client_id
    assert client.secret_digest not in text
    assert response.status_code == HTTPStatus.OK


def test_the_export_neutralises_formulas(team, manager, auditor_client):
    account, _ = services.service_account_create(actor=manager, team=team, display_name='=HYPERLINK("x")')
    _age(account, created_days=200)
    rows = _csv(auditor_client.get(URL, {"_export": "csv"}))
    assert rows[1][1] == '\'=HYPERLINK("x")'


def test_the_export_link_keeps_the_filter(credentials, auditor_client):
    body = auditor_client.get(URL, {"days": "30", "credential_type": "api_key"}).content.decode()
    assert "_export=csv" in body
    assert "days=30" in body and "credential_type=api_key" in body


def test_the_selector_is_scoped_to_the_team(credentials, team, other_team):
    names = {row["name"] for row in reminders.unused_credentials(team=team, days=30)}
    assert names == {"Never used SA", "Used 40 days ago", "Used 100 days ago"}
    assert {row["name"] for row in reminders.unused_credentials(team=other_team, days=30)} == {
        "Globex forgotten SA"
    }


def test_a_manager_sees_it_too(credentials, manager):
    assert _names(client_for(manager).get(URL)) == ["Never used SA", "Used 100 days ago"]
