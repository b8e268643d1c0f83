"""OAuth service accounts in a real browser, with and without JavaScript."""

import re

import pytest
from playwright.sync_api import expect

from credentials import services
from credentials.models import CredentialHistory, ServiceAccount
from tests.browser.conftest import actions_for, screenshot, sign_in
from tests.factories import PASSWORD

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.browser]

Action = CredentialHistory.Action
PASSWORD_SHOWN_ONCE = (
    "The password is only shown at the time of creation. Save it now: you cannot recover it."
)
CONFIRM_LABEL = "I understand that deleting this service account cannot be undone"


def create_from_the_section(page, display_name=""):
    section = page.locator("#service-accounts")
    expect(section.get_by_role("heading", name="OAuth service accounts")).to_be_visible()
    # The section's button opens the create page, which asks for the name first.
    section.get_by_role("link", name="Create service account").click()
    page.wait_for_url("**/service-accounts/create/")
    page.get_by_label("Display name").fill(display_name)
    page.get_by_role("button", name="Create service account").click()
    expect(page.get_by_role("heading", name="Service account created")).to_be_visible()
    expect(page.get_by_text(PASSWORD_SHOWN_ONCE)).to_be_visible()
    username = page.locator("#sa-new-username").inner_text().strip()
    password = page.locator("#sa-new-password").inner_text().strip()
    return username, password


def run_whole_flow(page, *, javascript: bool):
    sign_in(page, "admin@example.com", PASSWORD)

    # Create, named first: the password is read from the page, once.
    username, password = create_from_the_section(page, "  Order server  ")
    account = ServiceAccount.objects.get(username=username)
    assert password.startswith("tng_sbx_sap_")
    assert services.service_account_check_password(account, password)
    copy_password = page.get_by_role("button", name="Copy password")
    if javascript:
        expect(copy_password).to_be_visible()
    else:
        expect(copy_password).to_be_hidden()

    # The page shows the name, and holds no form that could fail and lose the password.
    expect(page.locator(".sa-created .sa-display-name")).to_have_text("Order server")
    expect(page.locator("main form")).to_have_count(0)
    assert account.display_name == "Order server"

    # Open the detail from the list.
    page.goto("/team/api-credentials/")
    section = page.locator("#service-accounts")
    expect(section.get_by_role("cell", name="Order server")).to_be_visible()
    section.get_by_role("link", name=username).click()
    page.wait_for_url(f"**/service-accounts/{account.pk}/")
    expect(page.get_by_role("heading", level=1)).to_contain_text(username)
    expect(page.locator(".sa-display-name")).to_have_text("Order server")
    expect(page.locator("#sa-history")).to_contain_text("Viewed")
    assert password not in page.content()

    # Rename on the detail page.
    page.get_by_label("Display name").fill("Billing")
    page.get_by_role("button", name="Save display name").click()
    expect(page.locator(".sa-display-name")).to_have_text("Billing")
    account.refresh_from_db()
    assert account.display_name == "Billing"

    # Delete, with confirmation.
    page.get_by_role("link", name="Delete service account").click()
    page.wait_for_url(f"**/service-accounts/{account.pk}/delete/")
    expect(page.get_by_text("Deleting a service account cannot be reversed.")).to_be_visible()
    page.get_by_role("button", name="Delete service account").click()
    expect(page.get_by_text("Tick the box to confirm; this cannot be undone.").first).to_be_visible()
    account.refresh_from_db()
    assert not account.is_deleted
    page.get_by_label(CONFIRM_LABEL).check()
    page.get_by_role("button", name="Delete service account").click()
    page.wait_for_url("**/team/api-credentials/#service-accounts")
    expect(page.get_by_text(f"Service account {username} was deleted.")).to_be_visible()

    # Gone: not listed, its page says deleted, the password no longer works.
    expect(page.locator("#service-accounts")).not_to_contain_text(username)
    account.refresh_from_db()
    assert account.is_deleted
    assert not services.service_account_check_password(account, password)
    response = page.goto(f"/team/api-credentials/service-accounts/{account.pk}/")
    assert response.status == 200
    expect(page.get_by_text("was deleted on")).to_be_visible()

    # History: created, viewed, updated, deleted.
    recorded = actions_for(username)
    assert recorded[0] == Action.CREATED
    assert recorded[-1] == Action.DELETED
    assert {Action.VIEWED, Action.UPDATED} <= set(recorded)
    assert recorded.count(Action.CREATED) == recorded.count(Action.DELETED) == 1
    page.goto("/team/api-credentials/history/")
    history_text = page.locator("main").inner_text()
    assert username in history_text
    for label in ("Created", "Viewed", "Updated", "Deactivated"):
        assert label in history_text
    assert password not in page.content()


def test_service_account_flow_with_javascript(page, admin_user, team):
    run_whole_flow(page, javascript=True)


def test_service_account_flow_without_javascript(page_without_js, admin_user, team):
    run_whole_flow(page_without_js, javascript=False)


def test_reload_and_back_never_show_the_password_again(page, admin_user, team):
    sign_in(page, "admin@example.com", PASSWORD)
    username, password = create_from_the_section(page)

    # The password page is a GET the create POST redirected to: reloading it asks to resend
    # nothing, creates nothing, and says the password was shown once.
    page.on("dialog", lambda dialog: pytest.fail(f"unexpected dialog: {dialog.message}"))
    assert re.search(r"/service-accounts/\d+/reveal/[\w-]+/$", page.url)
    page.reload()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "This secret was shown once and cannot be shown again"
    )
    assert password not in page.content()
    assert ServiceAccount.objects.count() == 1
    page.get_by_role("link", name="Open the service account").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(username)

    page.goto("/team/api-credentials/")
    page.go_back()
    assert password not in page.content()
    assert ServiceAccount.objects.count() == 1


def test_htmx_rename_on_the_detail_page_shows_errors_in_place(page, admin_user, team):
    account, _ = services.service_account_create(actor=admin_user, team=team, display_name="Keep")
    sign_in(page, "admin@example.com", PASSWORD)
    page.goto(f"/team/api-credentials/service-accounts/{account.pk}/")

    # The input's maxlength stops typing past 100; a longer value (an old page, a script)
    # is refused by the server all the same.
    page.get_by_label("Display name").evaluate("(el, value) => { el.value = value; }", "x" * 101)
    page.get_by_role("button", name="Save display name").click()
    expect(page.locator("#sa-summary").get_by_text("at most 100 characters")).to_be_visible()
    assert page.url.endswith(f"/service-accounts/{account.pk}/")

    page.get_by_label("Display name").fill("Billing")
    page.get_by_role("button", name="Save display name").click()
    expect(page.locator(".sa-display-name")).to_have_text("Billing")
    # The history panel refreshes itself, and that refresh records no new view.
    expect(page.locator("#sa-history")).to_contain_text("“Keep” → “Billing”")
    assert actions_for(account.username) == [Action.CREATED, Action.VIEWED, Action.UPDATED]


def test_screenshot_service_accounts(page, admin_user, team):
    for name in ("Order server", "Billing export", "Warehouse sync"):
        services.service_account_create(actor=admin_user, team=team, display_name=name)
    sign_in(page, "admin@example.com", PASSWORD)

    page.goto("/team/api-credentials/service-accounts/")
    expect(page.get_by_role("cell", name="Warehouse sync")).to_be_visible()
    screenshot(page, "service-accounts-list")

    page.get_by_role("link", name="Create service account").first.click()
    page.get_by_role("button", name="Create service account").click()
    expect(page.get_by_text(PASSWORD_SHOWN_ONCE)).to_be_visible()
    screenshot(page, "service-account-password")

    username = page.locator("#sa-new-username").inner_text().strip()
    account = ServiceAccount.objects.get(username=username)
    page.goto(f"/team/api-credentials/service-accounts/{account.pk}/delete/")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Delete service account")
    screenshot(page, "service-account-delete")
