"""Team settings > Users: wrong input and stale steps answer in the editor panel, debug on or off.

With DEBUG on, django-htmx's script replaces the whole document on a 400 or 404 htmx answer;
invalid input answers 422, swapped in place, and a member gone meanwhile loads the list
again with a message.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tango_portal.members import services as members_services
from tango_portal.models import Membership
from tests.browser.conftest import open_members_panel

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.browser]

Perm = Membership.ApiKeysPermission
LONG_NAME = "Bartholomew " * 30


def on_the_users_page(page) -> None:
    """Still the styled Users page: the top bar and the members table, not an error document."""
    expect(page.locator("header.topbar")).to_be_visible()
    expect(page.get_by_role("heading", name="Users", exact=True)).to_be_visible()
    expect(page.get_by_role("heading", name="Members")).to_be_visible()
    assert page.url.endswith("/team/users/")


def field_error(panel, field_id: str):
    return panel.locator(f"#{field_id}_error")


def test_add_member_errors_show_by_their_field_keeping_what_was_typed(page, debug_mode, acme):
    team, admin, _ = acme
    panel = open_members_panel(page, admin, "Add member")
    add = panel.get_by_role("button", name="Add member")
    expect(add).to_be_visible()

    add.click()
    expect(field_error(panel, "id_email")).to_have_text("Enter the person's email address.")
    expect(field_error(panel, "id_full_name")).to_have_text("Enter the person's name.")
    on_the_users_page(page)

    panel.get_by_label("Email address").fill("not-an-address")
    panel.get_by_label("Name").fill("Nora New")
    add.click()
    expect(field_error(panel, "id_email")).to_contain_text("valid email")
    expect(panel.get_by_label("Email address")).to_have_value("not-an-address")
    expect(panel.get_by_label("Name")).to_have_value("Nora New")
    expect(field_error(panel, "id_full_name")).to_have_count(0)
    on_the_users_page(page)

    panel.get_by_label("Email address").fill("nora@example.com")
    panel.get_by_label("Name").fill(LONG_NAME)
    add.click()
    expect(field_error(panel, "id_full_name")).to_be_visible()
    expect(panel.get_by_label("Name")).to_have_value(LONG_NAME)
    expect(panel.get_by_label("Email address")).to_have_value("nora@example.com")
    on_the_users_page(page)
    assert Membership.objects.filter(team=team).count() == 2


def test_nothing_to_save_is_said_in_the_panel(page, debug_mode, acme):
    team, admin, member = acme
    panel = open_members_panel(page, admin, "Edit Mel Member")
    expect(panel.get_by_role("heading", name="Edit Mel Member")).to_be_visible()
    # Meanwhile another admin gives Mel View: choosing View here changes nothing.
    Membership.objects.filter(team=team, user=member).update(api_keys_permission=Perm.VIEW)
    panel.get_by_label("Tango API keys").select_option(label="View")
    panel.get_by_role("button", name="Save", exact=True).click()
    expect(panel.get_by_role("alert")).to_have_text(
        "Nothing to save: Mel Member already has this role and permission."
    )
    expect(panel.get_by_label("Tango API keys")).to_have_value("view")
    on_the_users_page(page)


@pytest.mark.parametrize("step", ["edit", "remove"])
def test_a_member_removed_in_another_tab_reloads_the_list_saying_so(page, debug_mode, acme, step):
    team, admin, member = acme
    if step == "edit":
        panel = open_members_panel(page, admin, "Edit Mel Member")
        expect(panel.get_by_role("heading", name="Edit Mel Member")).to_be_visible()
    else:
        panel = open_members_panel(page, admin, "Remove Mel Member")
        expect(panel.get_by_role("heading", name="Remove Mel Member from Acme Rewards?")).to_be_visible()

    members_services.member_remove(
        actor=admin, team=team, membership=Membership.objects.get(team=team, user=member)
    )
    if step == "edit":
        panel.get_by_label("Tango API keys").select_option(label="View")
        panel.get_by_role("button", name="Save", exact=True).click()
    else:
        panel.get_by_role("button", name="Remove Mel Member").click()
    page.wait_for_url("**/team/users/")
    expect(
        page.get_by_role("status").filter(has_text="That member is no longer in Acme Rewards")
    ).to_contain_text("Nothing was changed.")
    expect(page.locator("header.topbar")).to_be_visible()
    expect(page.get_by_role("link", name="Edit Mel Member")).to_have_count(0)
