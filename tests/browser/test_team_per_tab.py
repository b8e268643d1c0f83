"""Writes follow the page you see, and the history says what it exports (issue 21, parts 1 and 3)."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from credentials import services
from credentials.models import ApiKey
from tango_portal.models import Membership
from tests.browser.conftest import sign_in
from tests.factories import PASSWORD, MembershipFactory

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.browser]


@pytest.fixture
def two_teams(acme, other_team):
    MembershipFactory(
        team=other_team,
        user=acme.admin,
        role=Membership.Role.ADMIN,
        api_keys_permission=Membership.ApiKeysPermission.MANAGE,
    )
    return acme.team, other_team


def test_a_form_left_open_on_acme_writes_nothing_to_globex(page, two_teams, debug_mode):
    _acme, globex = two_teams
    sign_in(page, "admin@example.com", PASSWORD)
    page.goto("/team/api-credentials/")
    other_tab = page.context.new_page()
    other_tab.goto("/team/api-credentials/")
    other_tab.get_by_label("Team", exact=True).select_option(str(globex.pk))
    other_tab.get_by_role("button", name="Switch team").click()
    expect(other_tab.get_by_label("Team", exact=True)).to_have_value(str(globex.pk))

    section = page.locator("#api-keys")
    section.get_by_label("Platform name").fill("Acme order server")
    section.get_by_role("button", name="Generate API key").click()

    expect(page.get_by_text("Nothing was changed: this page was for Acme Rewards")).to_be_visible()
    assert not ApiKey.objects.exists()


def test_history_names_link_and_the_export_says_what_it_exports(page, acme, debug_mode):
    team, admin, _ = acme
    for name in ("Order server", "Shop"):
        services.api_key_create(actor=admin, team=team, platform_name=name)
    services.oauth_client_create(actor=admin, team=team, display_name="Order backup")
    sign_in(page, "admin@example.com", PASSWORD)
    page.goto("/team/api-credentials/history/")
    expect(page.locator(".history-export")).to_contain_text("Export all 3 rows")
    # At 1280 px every default column shows, with no hidden horizontal scroll, dates on one line.
    wrap = page.locator("#history-results .table-wrap")
    assert wrap.evaluate("el => el.scrollWidth <= el.clientWidth")
    dates = page.locator("#history-results td.date time")
    assert dates.count() == 3
    assert all(date.evaluate("el => el.getClientRects().length === 1") for date in dates.all())

    # A paste with the mouse fires only "input": the table and the export follow it.
    search = page.get_by_role("searchbox", name="Credential name")
    search.evaluate("el => { el.value = 'Order'; el.dispatchEvent(new Event('input', {bubbles: true})); }")

    expect(page.locator(".history-export")).to_contain_text("Export 2 matching rows")
    expect(page.locator("#history-results tbody tr")).to_have_count(2)
    key = ApiKey.objects.get(platform_name="Order server")
    page.locator("#history-results").get_by_role("link", name="Order server").click()
    page.wait_for_url(f"**/api-keys/{key.pk}/")
