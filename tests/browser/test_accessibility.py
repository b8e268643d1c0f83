"""axe-core finds no accessibility violation on any main page of the portal.

axe-core comes inside the axe-playwright-python package (its axe.min.js), so nothing is
downloaded when the tests run. Every rule axe runs by default counts, best practices too.
"""

from __future__ import annotations

from http import HTTPStatus

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect

from credentials import services
from credentials.models import CredentialHistory
from tests.browser.conftest import sign_in
from tests.conftest import membership_of
from tests.credentials.test_history_views import add_history
from tests.factories import PASSWORD

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.browser]

AXE = Axe()


@pytest.fixture
def acme_ids(acme) -> dict[str, int]:
    """Acme with one credential of each kind and some history: the ids the page paths name."""
    team, admin, member = acme
    client, _secret = services.oauth_client_create(actor=admin, team=team, display_name="Storefront")
    account, _password = services.service_account_create(actor=admin, team=team, display_name="Orders")
    key, _key = services.api_key_create(actor=admin, team=team, platform_name="Legacy shop")
    rotation, _new, _secret = services.rotation_start(actor=admin, team=team, credential=key)
    for n in range(30):
        add_history(team, admin, name=f"Account {n:02d}", action=CredentialHistory.Action.VIEWED)
    return {
        "client": client.pk,
        "account": account.pk,
        "key": key.pk,
        "member": membership_of(member, team).pk,
        "rotation": rotation.pk,
    }


def assert_no_violations(page, what: str) -> None:
    results = AXE.run(page)
    assert results.violations_count == 0, f"{what}:\n{results.generate_report()}"


SIGNED_IN_PAGES = [
    "/team/api-credentials/",
    "/team/api-credentials/?token_sa={account}",
    "/team/api-credentials/service-accounts/",
    "/team/api-credentials/service-accounts/create/",
    "/team/api-credentials/service-accounts/{account}/",
    "/team/api-credentials/service-accounts/{account}/rename/",
    "/team/api-credentials/service-accounts/{account}/delete/",
    "/team/api-credentials/clients/",
    "/team/api-credentials/clients/generate/",
    "/team/api-credentials/clients/{client}/",
    "/team/api-credentials/clients/{client}/deactivate/",
    "/team/api-credentials/api-keys/",
    "/team/api-credentials/api-keys/generate/",
    "/team/api-credentials/api-keys/{key}/",
    "/team/api-credentials/api-keys/{key}/deactivate/",
    "/team/api-credentials/clients/{client}/rotate/",
    "/team/api-credentials/service-accounts/{account}/revoke-tokens/",
    "/team/api-credentials/rotations/{rotation}/",
    "/team/api-credentials/unused/",
    "/team/api-credentials/unused/?days=30",
    "/team/api-credentials/policy/",
    "/team/api-credentials/history/",
    "/team/api-credentials/history/?page=999",
    "/team/api-credentials/history/?name=nothing-matches",
    "/team/users/",
    "/team/users/add/",
    "/team/users/{member}/",
    "/team/users/{member}/remove/",
    "/team/api-credentials/clients/999999/",  # the 404 page
]
# Not here: the sudo (confirm your password) page, which a fresh sign-in never shows.


@pytest.mark.parametrize("path", SIGNED_IN_PAGES)
def test_pages_an_admin_sees_have_no_violations(page, acme_ids, path):
    sign_in(page, "admin@example.com", PASSWORD)
    page.goto(path.format(**acme_ids))
    expect(page.locator("main h1").first).to_be_visible()

    assert_no_violations(page, path)


def test_the_open_user_menu_and_the_open_token_panel_have_no_violations(page, acme_ids):
    sign_in(page, "admin@example.com", PASSWORD)
    page.locator(".user-menu summary").click()
    page.locator("#get-token summary").click()
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()

    assert_no_violations(page, "API credentials, menus open")


def test_sign_in_page_has_no_violations(page):
    page.goto("/accounts/login/")
    expect(page.get_by_role("button", name="Sign in")).to_be_visible()

    assert_no_violations(page, "sign-in page")


def test_forbidden_page_has_no_violations(page, acme_ids):
    # A member without the Admin role signs in (to their own page) and opens Team settings > Users.
    page.goto("/accounts/login/")
    page.get_by_label("Email address").fill("member@example.com")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_load_state()
    response = page.goto("/team/users/")
    assert response is not None and response.status == HTTPStatus.FORBIDDEN

    assert_no_violations(page, "403 page")


# --- Error states, at the desktop width and at 390 px ---------------------------------


def _bad_name(page) -> None:
    page.get_by_label("Display name").evaluate("el => { el.value = 'bad\\u0007name'; }")


ERROR_STATES = {
    # Where to go, then what to do there to make the page show its errors.
    "create with a bad name": (
        "/team/api-credentials/service-accounts/create/",
        lambda page: (_bad_name(page), page.get_by_role("button", name="Create service account").click()),
    ),
    "deactivate without the box": (
        "/team/api-credentials/clients/{client}/deactivate/",
        lambda page: page.get_by_role("button", name="Deactivate client credentials").click(),
    ),
    "delete without the box": (
        "/team/api-credentials/service-accounts/{account}/delete/",
        lambda page: page.get_by_role("button", name="Delete service account").click(),
    ),
    "revoke tokens without the box": (
        "/team/api-credentials/service-accounts/{account}/revoke-tokens/",
        lambda page: page.get_by_role("button", name="Revoke tokens").click(),
    ),
    "history dates the wrong way round": (
        "/team/api-credentials/history/?date_from=2026-12-01&date_to=2026-11-01",
        lambda page: None,
    ),
    "add a member with nothing filled in": (
        "/team/users/add/",
        lambda page: page.get_by_role("button", name="Add").first.click(),
    ),
}


@pytest.mark.parametrize("width", ["desktop", "phone"])
@pytest.mark.parametrize("state", list(ERROR_STATES))
def test_pages_showing_their_errors_have_no_violations(request, acme_ids, state, width):
    page = request.getfixturevalue("page" if width == "desktop" else "phone")
    path, act = ERROR_STATES[state]
    sign_in(page, "admin@example.com", PASSWORD)
    page.goto(path.format(**acme_ids))
    act(page)
    expect(page.locator(".field-errors .errorlist").first).to_be_visible()

    assert_no_violations(page, f"{state} ({width})")


@pytest.mark.parametrize("path", SIGNED_IN_PAGES[:12])
def test_pages_at_390_px_have_no_violations(phone, acme_ids, path):
    sign_in(phone, "admin@example.com", PASSWORD)
    phone.goto(path.format(**acme_ids))
    expect(phone.locator("main h1").first).to_be_visible()

    assert_no_violations(phone, f"{path} at 390 px")
