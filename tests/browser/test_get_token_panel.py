"""The *Get a token* panel in a real browser: choosing an account, with and without JavaScript."""

import re

import pytest
from playwright.sync_api import expect

from credentials import services
from tests.browser.conftest import screenshot, sign_in
from tests.factories import PASSWORD
from tests.oauth.conftest import make_credentials

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.browser]


@pytest.fixture
def two_accounts(manager, team):
    creds = make_credentials(manager, team)
    second, _password = services.service_account_create(actor=manager, team=team, display_name="Billing")
    return creds, second


def open_panel(page) -> None:
    """The panel is closed until asked for, so that the overview stays short."""
    summary = page.locator("#get-token summary")
    expect(page.locator("#get-token-curl-snippet")).to_be_hidden()
    summary.click()
    expect(page.locator("#get-token-curl-snippet")).to_be_visible()


def test_choosing_an_account_swaps_the_snippets_in_place(page, two_accounts):
    creds, second = two_accounts
    sign_in(page, "manager@example.com", PASSWORD)
    open_panel(page)
    curl = page.locator("#get-token-curl-snippet")
    assert f"username={second.username}" in curl.inner_text()  # the newest account first

    page.locator("#token-sa").select_option(str(creds.account.pk))

    page.wait_for_url(re.compile(rf"token_sa={creds.account.pk}"))
    page.wait_for_function(
        "name => document.querySelector('#get-token-curl-snippet').textContent.includes(name)",
        arg=creds.username,
    )
    assert f'username="{creds.username}"' in page.locator("#get-token-python-snippet").inner_text()
    assert creds.client_secret not in page.content()
    assert page.get_by_role("button", name="Copy the curl token command").is_visible()
    # The swapped-in panel stays open: the choice of account opened it.
    expect(page.locator("#get-token details")).to_have_attribute("open", "")


def test_choosing_an_account_without_javascript(page_without_js, two_accounts):
    creds, _second = two_accounts
    page = page_without_js
    sign_in(page, "manager@example.com", PASSWORD)
    open_panel(page)

    page.locator("#token-sa").select_option(str(creds.account.pk))
    page.get_by_role("button", name="Show commands").click()

    page.wait_for_url(re.compile(rf"token_sa={creds.account.pk}"))
    assert f"username={creds.username}" in page.locator("#get-token-curl-snippet").inner_text()


def test_screenshot_get_token_panel(page, two_accounts):
    sign_in(page, "manager@example.com", PASSWORD)
    open_panel(page)
    page.locator("#get-token").scroll_into_view_if_needed()

    assert page.get_by_role("heading", name="Get a token").is_visible()
    screenshot(page, "get-token-panel")
