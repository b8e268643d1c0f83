"""Every main page on a phone (390 px wide): nothing scrolls sideways, identifiers stay on one line."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from credentials import services
from credentials.models import OAuthClient, ServiceAccount
from tango_portal.models import Team
from tests.browser.conftest import screenshot, sign_in
from tests.factories import PASSWORD, TeamFactory

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.browser]

# The longest slug a username is built from (services._new_username), so usernames are long too.
LONG_SLUG = "acme-rewards-international-loyalty-programme-emea"
ONE_LINE = 40  # px: a line of .92em monospace is about 21 px; wrapped, it is hundreds

# Every main page, and an identifier on it that must stay on one line.
PAGES = {
    "index": ("/team/api-credentials/", "#service-accounts-table code"),
    "service-accounts": ("/team/api-credentials/service-accounts/", "#service-accounts-table code"),
    "service-account": ("/team/api-credentials/service-accounts/{account}/", "#sa-username"),
    "clients": ("/team/api-credentials/clients/", "#clients-table code"),
    "client": ("/team/api-credentials/clients/{client}/", "#detail-client-id"),
    "api-keys": ("/team/api-credentials/api-keys/", "#api-keys-table code"),
    "get-token": ("/team/api-credentials/?token_sa={account}#get-token", "#get-token p > code"),
    "history": ("/team/api-credentials/history/", "td.credential_identifier"),
    "users": ("/team/users/", "#members-table td:nth-child(2)"),
}


@pytest.fixture
def team() -> Team:
    """This module's `team` (and so `admin_user`'s) has the longest slug a username is built from."""
    return TeamFactory(name="Acme Rewards International Loyalty Programme EMEA", slug=LONG_SLUG)


@pytest.fixture
def long_team(team, admin_user) -> dict[str, int]:
    """A team whose service accounts have 60-character usernames, with clients, keys and history."""
    accounts = [
        services.service_account_create(actor=admin_user, team=team, display_name=name)[0]
        for name in ("Order server", "Billing export", "Warehouse sync")
    ]
    clients = [
        services.oauth_client_create(actor=admin_user, team=team, display_name=name)[0]
        for name in ("", "Storefront")
    ]
    for name in ("Legacy storefront", "Legacy point of sale"):
        services.api_key_create(actor=admin_user, team=team, platform_name=name)
    services.oauth_client_deactivate(actor=admin_user, team=team, client=clients[1])
    return {"account": accounts[0].pk, "client": clients[0].pk}


def text_height(locator) -> float:
    """The height of an element's text, not of its box: a table cell is as tall as its row."""
    return locator.evaluate(
        "el => { const r = document.createRange(); r.selectNodeContents(el);"
        " return r.getBoundingClientRect().height; }"
    )


def sideways_overflow(page) -> int:
    """How far the page is wider than the viewport, in px (0 when nothing scrolls sideways)."""
    return page.evaluate("document.documentElement.scrollWidth - window.innerWidth")


@pytest.mark.parametrize("name", list(PAGES))
def test_no_main_page_scrolls_sideways_on_a_phone_screenshot(phone, long_team, name):
    url, identifier = PAGES[name]
    sign_in(phone, "admin@example.com", PASSWORD)
    phone.goto(url.format(**long_team))
    cell = phone.locator(identifier).first
    expect(cell).to_be_visible()

    assert sideways_overflow(phone) <= 0
    assert text_height(cell) < ONE_LINE
    assert "{#" not in phone.locator("main").inner_text()  # a template comment left unclosed
    screenshot(phone, f"phone-{name}")


def is_truncated(locator) -> bool:
    """True when the element's text is cut off at its edge (and ends in an ellipsis)."""
    return locator.evaluate(
        "el => el.scrollWidth > el.clientWidth && getComputedStyle(el).textOverflow === 'ellipsis'"
    )


def test_long_identifiers_end_in_an_ellipsis_with_the_full_value_in_the_title(phone, long_team):
    account = ServiceAccount.objects.get(pk=long_team["account"])
    client = OAuthClient.objects.get(pk=long_team["client"])
    sign_in(phone, "admin@example.com", PASSWORD)

    phone.goto("/team/api-credentials/service-accounts/")
    link = phone.locator("#service-accounts-table .copy-field > a", has_text=account.username)
    assert is_truncated(link)
    assert link.get_attribute("title") == account.username

    phone.goto(f"/team/api-credentials/service-accounts/{account.pk}/")
    assert is_truncated(phone.locator("#sa-username"))
    assert phone.locator(".copy-field", has=phone.locator("#sa-username")).get_attribute("title") == (
        account.username
    )
    crumb = phone.locator(".breadcrumbs li").last
    assert is_truncated(crumb)
    assert crumb.get_attribute("title") == account.username

    # A client ID is shorter: it takes a line of the breadcrumbs to itself, whole.
    phone.goto(f"/team/api-credentials/clients/{client.pk}/")
    crumb = phone.locator(".breadcrumbs li").last
    box = crumb.bounding_box()
    assert box["x"] + box["width"] <= 390
    assert text_height(crumb) < ONE_LINE
    assert crumb.get_attribute("title") == client.client_id
    field = phone.locator(".copy-field", has=phone.locator("#detail-client-id"))
    assert field.get_attribute("title") == client.client_id
    expect(phone.get_by_role("button", name="Copy client ID")).to_be_visible()
