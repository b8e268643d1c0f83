"""Credential history in a real browser: filter, search, hide a column, export; and without JavaScript."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta

import pytest
from playwright.sync_api import expect

from credentials.models import CredentialHistory, CredentialType, HistoryColumnPreference
from tango_portal.models import Membership
from tests.browser.conftest import screenshot, sign_in
from tests.credentials.test_history_views import add_history
from tests.factories import PASSWORD, MembershipFactory, TeamFactory

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.browser]

URL = "/team/api-credentials/history/"
Action = CredentialHistory.Action
Type = CredentialType

CREDENTIALS = [
    ("Order server", "sa_order_server", Type.SERVICE_ACCOUNT),
    ("Payroll sync", "sa_payroll_sync", Type.SERVICE_ACCOUNT),
    ("Legacy order server", "tng_sbx_cid_7f3a9c", Type.OAUTH_CLIENT),
    ("Storefront", "tng_sbx_cid_b81e02", Type.OAUTH_CLIENT),
    ("Zebra reporting", "tng_sbx_ak_4d2e", Type.API_KEY),
    ("Zebra backup", "tng_sbx_ak_91c0", Type.API_KEY),
]


@pytest.fixture
def history_team():
    """A team with an auditor, a manager and 36 history rows over a month; another team's rows too."""
    team = TeamFactory(name="Acme Rewards", slug="acme-rewards")
    auditor = MembershipFactory(
        team=team,
        api_keys_permission=Membership.ApiKeysPermission.VIEW,
        user__email="auditor@example.com",
        user__full_name="Audrey Auditor",
    ).user
    manager = MembershipFactory(
        team=team, user__email="manager@example.com", user__full_name="Manny Manager"
    ).user
    start = datetime(2026, 10, 1, 9, 0, tzinfo=UTC)
    actions = [
        Action.CREATED,
        Action.VIEWED,
        Action.VIEWED,
        Action.UPDATED,
        Action.VIEWED,
        Action.DEACTIVATED,
    ]
    for n in range(36):
        name, identifier, kind = CREDENTIALS[n % len(CREDENTIALS)]
        add_history(
            team,
            manager if n % 3 else auditor,
            name=name,
            identifier=identifier,
            credential_type=kind,
            action=actions[n // len(CREDENTIALS) % len(actions)],
            at=start + timedelta(hours=19 * n),
        )
    other = TeamFactory(name="Globex", slug="globex")
    add_history(
        other, None, name="Zebra at Globex", identifier="tng_sbx_ak_globex", credential_type=Type.API_KEY
    )
    return team, auditor


def filters(page):
    return page.get_by_role("search", name="Filter credential history")


def column_texts(page, heading: str) -> list[str]:
    headings = [text.strip() for text in page.locator("#history-results thead th").all_text_contents()]
    index = headings.index(heading)
    return [
        text.strip()
        for text in page.locator(f"#history-results tbody tr td:nth-child({index + 1})").all_inner_texts()
    ]


def test_filter_search_hide_a_column_and_export_csv(page, history_team):
    team, auditor = history_team
    sign_in(page, auditor.email, PASSWORD)
    page.goto(URL)
    expect(page.get_by_role("heading", name="Credential history")).to_be_visible()
    expect(page.locator("#history-results tbody tr")).to_have_count(25)
    # A marker that a full page load would wipe: htmx updates the table in place.
    page.evaluate("window.stillTheSamePage = true")

    filters(page).get_by_label("Credential type").select_option("api_key")
    page.wait_for_url("**credential_type=api_key**")
    expect(page.locator("#history-results tbody tr")).to_have_count(12)
    assert set(column_texts(page, "Credential type")) == {"API key"}

    filters(page).get_by_label("Credential name").press_sequentially("zebra rep", delay=30)
    page.wait_for_url("**name=zebra%20rep**")
    expect(page.locator("#history-results tbody tr")).to_have_count(6)
    assert set(column_texts(page, "Credential name")) == {"Zebra reporting"}
    assert "Globex" not in page.content()
    assert page.evaluate("window.stillTheSamePage") is True
    # Empty filters stay out of the address, so it can be shared.
    assert "date_from" not in page.url and "user=" not in page.url

    page.get_by_text("Columns (7 of 7 shown)").click()
    page.locator(".column-picker").get_by_label("User's email").uncheck()
    page.get_by_role("button", name="Save columns").click()
    expect(page.locator("#history-results thead th", has_text="User's email")).to_have_count(0)
    expect(page.locator("#history-results tbody tr")).to_have_count(6)

    page.reload()
    expect(page.locator("#history-results thead th", has_text="User's name")).to_have_count(1)
    expect(page.locator("#history-results thead th", has_text="User's email")).to_have_count(0)
    expect(filters(page).get_by_label("Credential name")).to_have_value("zebra rep")
    assert HistoryColumnPreference.objects.get(user=auditor).hidden_columns == ["actor_email"]

    with page.expect_download() as download_info:
        page.get_by_role("link", name="CSV").click()
    download = download_info.value
    assert download.suggested_filename.startswith("acme-rewards-credential-history-")
    assert download.suggested_filename.endswith("-type-api_key-name-zebra-rep.csv")
    with open(download.path(), encoding="utf-8") as handle:
        lines = handle.read().splitlines()
    rows = list(csv.reader(io.StringIO("\n".join(lines[:-1]))))
    assert rows[0] == [
        "Action",
        "Credential name",
        "Date",
        "User's name",
        "Client ID/API key",
        "Credential type",
    ]
    assert len(rows) == 7
    assert {row[1] for row in rows[1:]} == {"Zebra reporting"}
    assert {row[5] for row in rows[1:]} == {"API key"}
    head = CredentialHistory.objects.filter(team=team).order_by("-id").values_list("row_hash", flat=True)[0]
    assert lines[-1] == f"# chain_head={head}"


def test_sorting_and_pages_update_in_place_and_the_back_button_works(page, history_team):
    _, auditor = history_team
    sign_in(page, auditor.email, PASSWORD)
    page.goto(URL)
    page.evaluate("window.stillTheSamePage = true")

    page.locator("#history-results thead").get_by_role("link", name="Credential name").click()
    page.wait_for_url("**sort=credential_name**")
    expect(page.locator("#history-results tbody tr").first).to_contain_text("Legacy order server")
    page.get_by_role("link", name="Next").click()
    page.wait_for_url("**page=2**")
    assert "sort=credential_name" in page.url
    expect(page.locator("#history-results tbody tr")).to_have_count(11)
    filters(page).get_by_label("Action").select_option("viewed")
    page.wait_for_url("**action=viewed**")
    assert "sort=credential_name" in page.url  # the sort survives a filter change
    assert "page=" not in page.url  # a new filter starts at its first page
    assert set(column_texts(page, "Action")) == {"Viewed"}
    assert page.evaluate("window.stillTheSamePage") is True

    page.go_back()
    page.wait_for_url("**page=2**")
    expect(filters(page).get_by_label("Action")).to_have_value("")
    expect(page.locator("#history-results tbody tr")).to_have_count(11)


def test_filters_columns_and_pages_work_without_javascript(page_without_js, history_team):
    page = page_without_js
    _, auditor = history_team
    sign_in(page, auditor.email, PASSWORD)
    page.goto(URL)

    filters(page).get_by_label("Credential type").select_option("oauth_client")
    filters(page).get_by_label("From").fill("2026-10-05")
    page.get_by_role("button", name="Apply filters").click()
    page.wait_for_url("**credential_type=oauth_client**")
    assert set(column_texts(page, "Credential type")) == {"OAuth client credentials"}

    page.get_by_text("Columns (7 of 7 shown)").click()
    page.locator(".column-picker").get_by_label("Client ID/API key").uncheck()
    page.get_by_role("button", name="Save columns").click()
    page.wait_for_url("**credential_type=oauth_client**")
    expect(page.locator("#history-results thead th", has_text="Client ID/API key")).to_have_count(0)
    expect(filters(page).get_by_label("From")).to_have_value("2026-10-05")

    page.get_by_role("link", name="Clear filters").first.click()
    page.wait_for_url(f"**{URL}")
    expect(page.locator("#history-results tbody tr")).to_have_count(25)


def test_credential_history_screenshot(page, history_team):
    _, auditor = history_team
    sign_in(page, auditor.email, PASSWORD)
    page.goto(f"{URL}?credential_type=service_account")
    expect(page.locator("#history-results tbody tr").first).to_be_visible()
    page.get_by_text("Columns (7 of 7 shown)").click()
    screenshot(page, "credential-history")
