"""Team settings > Users in a real browser: an admin grants View; the member sees it at once."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from credentials import services as credential_services
from tango_portal.models import Membership
from tests.browser.conftest import open_members_panel, screenshot, sign_in
from tests.factories import PASSWORD

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.browser]

Role = Membership.Role
Perm = Membership.ApiKeysPermission
CREATE_CONTROLS = re.compile(r"^(Create|Generate|New|Add)\b")


def test_admin_grants_view_and_the_member_sees_history_but_no_create_buttons_screenshot(
    page, browser, live_server, acme
):
    team, admin, member = acme
    # History for the member to see once granted View.
    credential_services.service_account_create(actor=admin, team=team, display_name="Order server")
    # The member is signed in, in a browser of their own, before and after the change.
    member_context = browser.new_context(base_url=live_server.url, viewport={"width": 1280, "height": 900})
    member_page = member_context.new_page()
    member_page.set_default_timeout(10_000)
    try:
        # Without API access, signing in lands on the front door, which says so.
        sign_in(member_page, member.email, PASSWORD, landing=f"{live_server.url}/")
        expect(member_page.get_by_text("no access to its API credentials yet")).to_be_visible()

        sign_in(page, admin.email, PASSWORD)
        page.get_by_role("navigation", name="Team settings").get_by_role("link", name="Users").click()
        page.wait_for_url("**/team/users/")
        expect(page.get_by_role("heading", name="Users", exact=True)).to_be_visible()
        screenshot(page, "members-list")

        page.get_by_role("link", name="Edit Mel Member").click()
        save = page.get_by_role("button", name="Save", exact=True)
        expect(save).to_be_visible()
        expect(page.get_by_role("heading", name="Edit Mel Member")).to_be_focused()
        expect(save).to_be_disabled()
        page.get_by_label("Tango API keys").select_option(label="View")
        expect(save).to_be_enabled()
        # Back to where it was: nothing to save again.
        page.get_by_label("Tango API keys").select_option(label="Don't allow")
        expect(save).to_be_disabled()
        page.get_by_label("Tango API keys").select_option(label="View")
        screenshot(page, "members-edit")
        save.click()

        expect(
            page.get_by_text("Change Mel Member's Tango API keys permission from Don't allow to View")
        ).to_be_visible()
        assert Membership.objects.get(team=team, user=member).api_keys_permission == Perm.NONE
        screenshot(page, "members-confirm")
        page.get_by_role("button", name="Confirm change").click()
        expect(page.get_by_text("Saved.")).to_be_visible()
        activity = page.locator("#team-activity-table")
        expect(activity.get_by_text("Tango API keys permission changed")).to_be_visible()
        expect(activity.get_by_role("cell", name="View", exact=True)).to_be_visible()
        assert Membership.objects.get(team=team, user=member).api_keys_permission == Perm.VIEW
        screenshot(page, "members-activity")

        # The member's next page, same session: history is there, creating is not.
        member_page.reload()
        expect(member_page.get_by_role("heading", name="API credentials", exact=True)).to_be_visible()
        tabs = member_page.get_by_role("navigation", name="API credentials")
        expect(tabs.get_by_role("link", name="Credential history")).to_be_visible()
        expect(member_page.get_by_text("You have View access")).to_be_visible()
        assert member_page.get_by_role("button", name=CREATE_CONTROLS).count() == 0
        assert member_page.get_by_role("link", name=CREATE_CONTROLS).count() == 0
        tabs.get_by_role("link", name="Credential history").click()
        member_page.wait_for_url("**/team/api-credentials/history/**")
        expect(tabs.get_by_role("link", name="Credential history")).to_have_attribute("aria-current", "page")
        expect(member_page.get_by_role("cell", name="Order server").first).to_be_visible()
        screenshot(member_page, "members-view-granted")
    finally:
        member_context.close()


def test_without_javascript_the_save_button_works_and_confirmation_still_applies(page_without_js, acme):
    team, admin, member = acme
    page = page_without_js
    open_members_panel(page, admin, "Edit Mel Member")
    page.wait_for_url(re.compile(r".*/team/users/\d+/$"))
    save = page.get_by_role("button", name="Save", exact=True)
    expect(save).to_be_enabled()
    page.get_by_label("Role").select_option(label="Admin")
    save.click()
    expect(page.get_by_text("Change Mel Member's role from Member to Admin")).to_be_visible()
    page.get_by_role("button", name="Confirm change").click()
    page.wait_for_url("**/team/users/")
    expect(page.get_by_text("Saved.")).to_be_visible()
    assert Membership.objects.get(team=team, user=member).role == Role.ADMIN


def test_adding_a_member_and_signing_up_with_the_link(page, browser, live_server, acme):
    team, admin, _member = acme
    open_members_panel(page, admin, "Add member")
    page.get_by_label("Email address").fill("nora@example.com")
    page.get_by_label("Name").fill("Nora New")
    page.get_by_role("button", name="Add member").click()
    link = page.locator("#member-signup-link")
    expect(link).to_be_visible()
    signup_url = link.inner_text().strip()
    assert "/accounts/signup/tng_sbx_su_" in signup_url

    newcomer = browser.new_context(viewport={"width": 1280, "height": 900})
    try:
        new_page = newcomer.new_page()
        new_page.goto(signup_url)
        expect(new_page.get_by_role("heading", name="Join Acme Rewards")).to_be_visible()
        new_page.get_by_label("Password", exact=True).fill("plum-orbit-velvet-93")
        new_page.get_by_label("Password again").fill("plum-orbit-velvet-93")
        new_page.get_by_role("button", name="Set password and join").click()
        expect(new_page.get_by_text("Welcome to Acme Rewards")).to_be_visible()
        new_page.goto(signup_url)
        expect(new_page.get_by_role("heading", name="This sign-up link was already used")).to_be_visible()
    finally:
        newcomer.close()
    assert Membership.objects.filter(team=team, user__email="nora@example.com").exists()


def test_a_refused_or_invalid_add_shows_its_message_in_the_panel(page, live_server, acme):
    # 409 (refused) and 422 (invalid input) answers are swapped into the editor panel.
    team, admin, member = acme
    panel = open_members_panel(page, admin, "Add member")

    page.get_by_label("Email address").fill(member.email)
    page.get_by_label("Name").fill("Mel Again")
    page.get_by_role("button", name="Add member").click()
    expect(panel.get_by_text(f"{member.email} is already a member of Acme Rewards.")).to_be_visible()
    assert page.url.endswith("/team/users/")

    page.get_by_label("Email address").fill("not-an-address")
    page.get_by_role("button", name="Add member").click()
    expect(panel.get_by_label("Email address")).to_have_attribute("aria-invalid", "true")
    assert Membership.objects.filter(team=team).count() == 2
