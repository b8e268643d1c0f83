"""Sudo mode in a real browser, debug on or off: an htmx confirmation made with a stale sign-in
goes through the password prompt and then continues; wrong passwords are said by the field,
with a warning before the last tries, and five sign the user out with a reason.
"""

from __future__ import annotations

import time
from importlib import import_module

import pytest
from django.conf import settings
from playwright.sync_api import expect

from credentials import services as credential_services
from credentials.models import OAuthClient
from tango_portal.models import Membership
from tests.browser.conftest import sign_in
from tests.factories import PASSWORD, MembershipFactory, TeamFactory

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.browser]

Role = Membership.Role
Perm = Membership.ApiKeysPermission


@pytest.fixture
def acme():
    team = TeamFactory(name="Acme Rewards", slug="acme-rewards", oauth_enabled=True)
    admin = MembershipFactory(
        team=team,
        role=Role.ADMIN,
        api_keys_permission=Perm.MANAGE,
        user__email="admin@example.com",
        user__full_name="Ada Admin",
    ).user
    member = MembershipFactory(
        team=team,
        role=Role.MEMBER,
        api_keys_permission=Perm.NONE,
        user__email="member@example.com",
        user__full_name="Mel Member",
    ).user
    return team, admin, member


def age_sudo(page, minutes: int = 16) -> None:
    """Make the browser's last sign-in `minutes` old, as if the page had been left open."""
    cookie = next(c for c in page.context.cookies() if c["name"] == settings.SESSION_COOKIE_NAME)
    session = import_module(settings.SESSION_ENGINE).SessionStore(session_key=cookie["value"])
    session["sudo_at"] = int(time.time()) - minutes * 60
    session.save()


def open_confirmation(page, team, member) -> None:
    """The members page's editor at 'Confirm the change' (Mel: Don't allow to View)."""
    page.goto("/team/users/")
    page.get_by_role("link", name="Edit Mel Member").click()
    panel = page.locator("[data-members-panel]")
    panel.get_by_label("Tango API keys").select_option(label="View")
    panel.get_by_role("button", name="Save", exact=True).click()
    expect(panel.get_by_role("heading", name="Confirm the change")).to_be_visible()


def permission_of(team, member) -> str:
    return Membership.objects.get(team=team, user=member).api_keys_permission


def test_a_stale_member_edit_confirmation_continues_after_the_password(page, debug_mode, acme):
    team, admin, member = acme
    sign_in(page, admin.email, PASSWORD)
    open_confirmation(page, team, member)
    age_sudo(page)
    page.get_by_role("button", name="Confirm change").click()

    expect(page.get_by_role("heading", name="Confirm your password")).to_be_visible()
    expect(page.locator("header.topbar")).to_be_visible()
    password = page.get_by_label("Password for admin@example.com")
    password.fill("not my password")
    page.get_by_role("button", name="Confirm password and continue").click()
    expect(page.locator("#id_sudo_password_error")).to_have_text(
        "That password is not right. Nothing was changed."
    )
    expect(page.locator("header.topbar")).to_be_visible()
    assert permission_of(team, member) == Perm.NONE

    page.get_by_label("Password for admin@example.com").fill(PASSWORD)
    page.get_by_role("button", name="Confirm password and continue").click()
    page.wait_for_url("**/team/users/")
    expect(page.get_by_text("Saved.")).to_be_visible()
    assert permission_of(team, member) == Perm.VIEW


def test_a_stale_htmx_deactivation_continues_after_the_password(page, debug_mode, acme):
    team, admin, _ = acme
    client, _secret = credential_services.oauth_client_create(actor=admin, team=team)
    sign_in(page, admin.email, PASSWORD)
    page.goto(f"/team/api-credentials/clients/{client.pk}/deactivate/")
    page.get_by_label("I understand that this cannot be undone").check()
    age_sudo(page)
    page.get_by_role("button", name="Deactivate client credentials").click()
    expect(page.get_by_role("heading", name="Confirm your password")).to_be_visible()
    page.get_by_label("Password for admin@example.com").fill(PASSWORD)
    page.get_by_role("button", name="Confirm password and continue").click()
    page.wait_for_url("**/team/api-credentials/clients/")
    expect(page.get_by_text(f"Deactivated client credentials {client.client_id}.")).to_be_visible()
    assert not OAuthClient.objects.get(pk=client.pk).is_active


def test_five_wrong_passwords_warn_then_sign_out_and_return_after_signing_in(page, debug_mode, acme):
    team, admin, member = acme
    sign_in(page, admin.email, PASSWORD)
    open_confirmation(page, team, member)
    age_sudo(page)
    page.get_by_role("button", name="Confirm change").click()
    expect(page.get_by_role("heading", name="Confirm your password")).to_be_visible()
    error = page.locator("#id_sudo_password_error")
    for left in (None, None, "2 tries left", "1 try left"):
        page.get_by_label("Password for admin@example.com").fill("guess")
        page.get_by_role("button", name="Confirm password and continue").click()
        expect(error).to_contain_text("That password is not right.")
        if left:
            expect(error).to_contain_text(f"{left}: after that you will be signed out.")
        else:
            expect(error).not_to_contain_text("left")
    page.get_by_label("Password for admin@example.com").fill("guess")
    page.get_by_role("button", name="Confirm password and continue").click()

    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    expect(page.get_by_role("alert")).to_contain_text("You were signed out after 5 wrong passwords in a row")
    assert permission_of(team, member) == Perm.NONE
    page.get_by_label("Email address").fill(admin.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    # Back where they were: the Users page, not the default landing page.
    page.wait_for_url("**/team/users/")
    expect(page.get_by_role("heading", name="Users", exact=True)).to_be_visible()
