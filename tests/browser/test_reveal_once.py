"""The one-time reveal page in Chromium: Back, Forward and reload never resubmit, never re-show."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from credentials import secrets as credential_secrets
from credentials import services
from credentials.models import ApiKey, PendingReveal, ServiceAccount
from tests.browser.conftest import sign_in
from tests.factories import PASSWORD

SHOWN_ONCE = "This secret was shown once and cannot be shown again"
REVEAL_URL = re.compile(r".*/reveal/[\w-]{22}/$")


def fail_on_any_dialog(page) -> list[str]:
    """Chrome's "Confirm Form Resubmission" (or any other dialog) fails the test."""
    dialogs: list[str] = []

    def on_dialog(dialog) -> None:
        dialogs.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", on_dialog)
    return dialogs


def assert_shown_once_page(page, secret: str) -> None:
    expect(page.get_by_role("heading", level=1)).to_have_text(SHOWN_ONCE)
    assert secret not in page.content()


def test_back_forward_and_reload_after_creating_a_service_account(page, debug_mode, admin_user, team):
    dialogs = fail_on_any_dialog(page)
    sign_in(page, "admin@example.com", PASSWORD)
    page.goto("/team/api-credentials/service-accounts/create/")
    page.get_by_label("Display name").fill("Order server")
    page.get_by_role("button", name="Create service account").click()

    page.wait_for_url(REVEAL_URL)
    expect(page.get_by_role("heading", name="Service account created")).to_be_visible()
    password = page.locator("#sa-new-password").inner_text().strip()
    account = ServiceAccount.objects.get()
    assert services.service_account_check_password(account, password)
    reveal_url = page.url
    # The key cookie is HttpOnly: no script on the page can read it.
    assert "reveal_key" not in page.evaluate("document.cookie")
    assert not PendingReveal.objects.exists()

    page.go_back()
    page.wait_for_url("**/service-accounts/create/")
    assert password not in page.content()

    page.go_forward()
    page.wait_for_url(reveal_url)
    assert_shown_once_page(page, password)

    page.reload()
    assert page.url == reveal_url
    assert_shown_once_page(page, password)
    page.get_by_role("link", name="Open the service account").click()
    page.wait_for_url(f"**/service-accounts/{account.pk}/")

    page.go_back()
    page.wait_for_url(reveal_url)
    assert_shown_once_page(page, password)
    assert dialogs == []
    assert ServiceAccount.objects.count() == 1


def test_an_api_key_generated_in_place_goes_to_its_one_time_page(page, debug_mode, admin_user, team):
    dialogs = fail_on_any_dialog(page)
    sign_in(page, "admin@example.com", PASSWORD)
    section = page.locator("#api-keys")
    section.get_by_label("Platform name").fill("Order server")
    # The section's form posts by htmx; the answer sends the whole page to the reveal URL.
    section.get_by_role("button", name="Generate API key").click()

    page.wait_for_url(REVEAL_URL)
    expect(page.get_by_role("heading", name="API key generated")).to_be_visible()
    plaintext = page.locator("#new-api-key").inner_text().strip()
    assert credential_secrets.digest_matches(plaintext, ApiKey.objects.get().digest)

    page.reload()
    assert_shown_once_page(page, plaintext)
    page.go_back()
    page.wait_for_url("**/team/api-credentials/")
    assert plaintext not in page.content()
    page.go_forward()
    assert_shown_once_page(page, plaintext)
    assert dialogs == []
    assert ApiKey.objects.count() == 1


@pytest.mark.parametrize("other", ["another tab", "another browser"])
def test_the_reveal_url_opened_elsewhere_shows_nothing(browser, live_server, page, admin_user, team, other):
    sign_in(page, "admin@example.com", PASSWORD)
    page.goto("/team/api-credentials/service-accounts/create/")
    page.get_by_role("button", name="Create service account").click()
    page.wait_for_url(REVEAL_URL)
    password = page.locator("#sa-new-password").inner_text().strip()

    if other == "another tab":
        elsewhere = page.context.new_page()
    else:
        context = browser.new_context(base_url=live_server.url)
        elsewhere = context.new_page()
        sign_in(elsewhere, "admin@example.com", PASSWORD)
    elsewhere.goto(page.url)

    assert_shown_once_page(elsewhere, password)
