"""In a browser: the service-account section pages in place, Escape closes menus, destructive
forms submit once, and the favicon is there."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from credentials import services
from credentials.models import ApiKey
from tango_portal.models import Membership
from tests.browser.conftest import sign_in
from tests.factories import PASSWORD, MembershipFactory

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.browser]

INDEX = "/team/api-credentials/"


@pytest.fixture
def eleven_accounts(team, admin_user) -> None:
    """One more service account than the API credentials page shows at once."""
    team.oauth_enabled = True
    team.save(update_fields=["oauth_enabled"])
    for n in range(11):
        services.service_account_create(actor=admin_user, team=team, display_name=f"Account {n:02d}")


def test_service_account_pages_swap_only_their_section_and_keep_focus(page, eleven_accounts):
    sign_in(page, "admin@example.com", PASSWORD)
    page.evaluate("window.stillTheSamePage = true")
    section = page.locator("#sa-table")
    expect(section.locator("tbody tr")).to_have_count(10)
    next_link = section.get_by_role("link", name="Next")
    next_link.focus()  # scrolls the section into view
    scroll_before = page.evaluate("window.scrollY")
    assert scroll_before > 0

    page.keyboard.press("Enter")

    page.wait_for_url("**sa-page=2**")
    expect(section.locator("tbody tr")).to_have_count(1)
    assert page.evaluate("window.stillTheSamePage") is True
    # The last page has no Next: focus is on the current page's number, where Next was.
    page.wait_for_function("() => document.activeElement.getAttribute('aria-current') === 'page'")
    assert page.evaluate("!!document.activeElement.closest('#sa-table')")
    # Not thrown back to the top: the control is still on screen (the shorter page may scroll less).
    assert page.evaluate(
        "() => { const r = document.activeElement.getBoundingClientRect();"
        " return r.top >= 0 && r.bottom <= window.innerHeight; }"
    )
    assert page.evaluate("window.scrollY") > 0

    section.get_by_role("link", name="Previous").click()
    page.wait_for_url(lambda url: "sa-page=1" in url)
    expect(section.locator("tbody tr")).to_have_count(10)
    assert page.evaluate("window.stillTheSamePage") is True


def test_service_account_pages_without_javascript_are_plain_links(page_without_js, eleven_accounts):
    page = page_without_js
    sign_in(page, "admin@example.com", PASSWORD)

    page.locator("#sa-table").get_by_role("link", name="Next").click()

    page.wait_for_url("**sa-page=2**")
    expect(page.locator("#sa-table tbody tr")).to_have_count(1)
    expect(page.get_by_role("heading", name="API credentials", exact=True)).to_be_visible()


def test_escape_closes_the_user_menu(page, admin_user):
    sign_in(page, "admin@example.com", PASSWORD)
    summary = page.locator(".user-menu summary")
    summary.click()
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()
    page.get_by_role("button", name="Sign out").focus()

    page.keyboard.press("Escape")

    expect(page.get_by_role("button", name="Sign out")).to_be_hidden()
    assert page.evaluate("document.activeElement.matches('.user-menu summary')")


@pytest.fixture
def mel(team):
    return MembershipFactory(
        team=team,
        role=Membership.Role.MEMBER,
        api_keys_permission=Membership.ApiKeysPermission.NONE,
        user__email="member@example.com",
        user__full_name="Mel Member",
    )


@pytest.mark.parametrize("close", ["Escape", "Cancel"])
def test_escape_or_cancel_closes_the_members_editor_and_focus_returns_to_its_button(
    page, admin_user, mel, close
):
    sign_in(page, "admin@example.com", PASSWORD)
    page.goto("/team/users/")
    edit = page.get_by_role("link", name="Edit Mel Member")
    edit.click()
    editor = page.locator("#member-editor")
    expect(editor.get_by_role("heading").first).to_be_visible()

    if close == "Escape":
        page.keyboard.press("Escape")
    else:
        editor.get_by_role("link", name="Cancel").click()

    expect(editor).to_be_empty()
    expect(edit).to_be_focused()
    assert page.url.endswith("/team/users/")


def test_escape_closes_the_columns_picker(page, admin_user):
    sign_in(page, "admin@example.com", PASSWORD)
    page.goto("/team/api-credentials/history/")
    summary = page.locator(".column-picker summary")
    summary.click()
    expect(page.locator(".column-picker fieldset")).to_be_visible()
    page.locator(".column-picker input[type=checkbox]").first.focus()

    page.keyboard.press("Escape")

    expect(page.locator(".column-picker fieldset")).to_be_hidden()
    expect(summary).to_be_focused()


def test_deactivating_twice_quickly_sends_one_request(page, team, admin_user):
    key, _plaintext = services.api_key_create(actor=admin_user, team=team, platform_name="Legacy shop")
    sign_in(page, "admin@example.com", PASSWORD)
    page.goto(f"/team/api-credentials/api-keys/{key.pk}/deactivate/")
    page.get_by_label("I understand that once I deactivate this key, I cannot undo it").check()
    held = []
    page.route(f"**/api-keys/{key.pk}/deactivate/", lambda route: held.append(route))
    button = page.get_by_role("button", name="Deactivate API key")

    button.click()
    expect(button).to_be_disabled()
    button.click(force=True)
    button.press("Enter")
    assert len(held) == 1
    held[0].continue_()

    page.wait_for_url("**/team/api-credentials/api-keys/")
    assert not ApiKey.objects.get(pk=key.pk).is_active


def test_delete_without_htmx_submits_once(page, team, admin_user):
    account, _password = services.service_account_create(actor=admin_user, team=team)
    sign_in(page, "admin@example.com", PASSWORD)
    page.goto(f"/team/api-credentials/service-accounts/{account.pk}/delete/")
    page.get_by_label("I understand that deleting this service account cannot be undone").check()
    # Count the submissions that would leave the page, and keep it here to look at it.
    sent = page.evaluate(
        """() => new Promise(resolve => {
            let sent = 0;
            window.addEventListener("submit", event => {
                if (!event.defaultPrevented) sent += 1;
                event.preventDefault();
            });
            const form = document.querySelector("#sa-delete form");
            form.requestSubmit();
            setTimeout(() => { form.requestSubmit(); setTimeout(() => resolve(sent), 50); }, 50);
        })"""
    )

    assert sent == 1
    expect(page.get_by_role("button", name="Delete service account")).to_be_disabled()


def test_favicon_is_linked_and_favicon_ico_does_not_404(page):
    missing = []
    page.on("response", lambda response: missing.append(response.url) if response.status == 404 else None)

    page.goto("/accounts/login/")
    icon = page.locator("link[rel=icon]").get_attribute("href")
    answer = page.goto("/favicon.ico")

    assert icon is not None and icon.endswith("favicon.svg")
    assert answer is not None and answer.ok
    assert answer.url.endswith(icon)
    assert answer.headers["content-type"].startswith("image/svg+xml")
    assert missing == []
