"""Ended sessions and stale pages (issue 21, part 2), DEBUG off and on."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from credentials.models import ServiceAccount
from tests.browser.conftest import sign_in
from tests.factories import PASSWORD

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.browser]


def test_signed_out_in_another_tab_an_htmx_filter_goes_to_sign_in_and_back(page, acme, debug_mode):
    sign_in(page, "admin@example.com", PASSWORD)
    page.goto("/team/api-credentials/history/")
    other_tab = page.context.new_page()
    other_tab.goto("/team/api-credentials/")
    other_tab.locator(".user-menu summary").click()
    other_tab.get_by_role("button", name="Sign out").click()
    other_tab.wait_for_url("**/accounts/login/**")

    page.get_by_role("searchbox", name="Credential name").fill("order")

    # The whole page is the sign-in page: not nested in the history table.
    page.wait_for_url("**/accounts/login/?next=**")
    expect(page.locator("form input[name=username], form input[type=email]").first).to_be_visible()
    assert page.locator("#history-results").count() == 0
    page.get_by_label("Email address").fill("admin@example.com")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/team/api-credentials/history/**")
    expect(page.get_by_role("heading", name="Credential history", exact=True)).to_be_visible()


def test_back_after_creating_then_create_makes_another_account(page, acme, debug_mode):
    sign_in(page, "admin@example.com", PASSWORD)
    page.goto("/team/api-credentials/service-accounts/create/")
    page.get_by_label("Display name").fill("First")
    page.get_by_role("button", name="Create service account").click()
    expect(page.locator("#sa-new-password")).not_to_be_empty()

    page.go_back()
    page.wait_for_url("**/service-accounts/create/")
    page.get_by_label("Display name").fill("Second")
    page.get_by_role("button", name="Create service account").click()

    expect(page.locator("#sa-new-password")).not_to_be_empty()
    assert sorted(ServiceAccount.objects.values_list("display_name", flat=True)) == ["First", "Second"]


def test_after_adding_a_member_the_table_and_its_count_show_them(page, acme, debug_mode):
    sign_in(page, "admin@example.com", PASSWORD)
    page.goto("/team/users/")
    members = page.locator("#members")
    expect(members).to_contain_text("2 members")
    page.get_by_role("link", name="Add member").click()
    editor = page.locator("#member-editor")
    editor.get_by_label("Email address").fill("new.hire@example.com")
    editor.get_by_label("Name", exact=True).fill("New Hire")
    editor.get_by_role("button", name="Add member").click()
    expect(editor).to_contain_text("Sign-up link for New Hire")

    expect(members).to_contain_text("3 members")
    expect(members).to_contain_text("New Hire")
    expect(editor).to_contain_text("Sign-up link for New Hire")  # the link stays shown meanwhile
