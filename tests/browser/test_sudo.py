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
from tests.browser.conftest import open_members_panel, sign_in
from tests.factories import PASSWORD

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.browser]

Perm = Membership.ApiKeysPermission


def age_sudo(page, minutes: int = 16) -> None:
    """Make the browser's last sign-in `minutes` old, as if the page had been left open."""
    cookie = next(c for c in page.context.cookies() if c["name"] == settings.SESSION_COOKIE_NAME)
    session = import_module(settings.SESSION_ENGINE).SessionStore(session_key=cookie["value"])
    session["sudo_at"] = int(time.time()) - minutes * 60
    session.save()


def stale_member_edit(page, admin) -> None:
    """Signed in as `admin`, confirm a change of Mel (Don't allow to View) on the members page
    once the sign-in is stale: the password prompt shows."""
    panel = open_members_panel(page, admin, "Edit Mel Member")
    panel.get_by_label("Tango API keys").select_option(label="View")
    panel.get_by_role("button", name="Save", exact=True).click()
    expect(panel.get_by_role("heading", name="Confirm the change")).to_be_visible()
    age_sudo(page)
    page.get_by_role("button", name="Confirm change").click()
    expect(page.get_by_role("heading", name="Confirm your password")).to_be_visible()


def confirm_password(page, password: str) -> None:
    """Answer the password prompt (shown to admin@example.com) with `password`."""
    page.get_by_label("Password for admin@example.com").fill(password)
    page.get_by_role("button", name="Confirm password and continue").click()


def permission_of(team, member) -> str:
    return Membership.objects.get(team=team, user=member).api_keys_permission


def test_a_stale_member_edit_confirmation_continues_after_the_password(page, debug_mode, acme):
    team, admin, member = acme
    stale_member_edit(page, admin)

    expect(page.locator("header.topbar")).to_be_visible()
    confirm_password(page, "not my password")
    expect(page.locator("#id_sudo_password_error")).to_have_text(
        "That password is not right. Nothing was changed."
    )
    expect(page.locator("header.topbar")).to_be_visible()
    assert permission_of(team, member) == Perm.NONE

    confirm_password(page, PASSWORD)
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
    confirm_password(page, PASSWORD)
    page.wait_for_url("**/team/api-credentials/clients/")
    expect(page.get_by_text(f"Deactivated client credentials {client.client_id}.")).to_be_visible()
    assert not OAuthClient.objects.get(pk=client.pk).is_active


def test_five_wrong_passwords_warn_then_sign_out_and_return_after_signing_in(page, debug_mode, acme):
    team, admin, member = acme
    stale_member_edit(page, admin)
    error = page.locator("#id_sudo_password_error")
    for left in (None, None, "2 tries left", "1 try left"):
        confirm_password(page, "guess")
        expect(error).to_contain_text("That password is not right.")
        if left:
            expect(error).to_contain_text(f"{left}: after that you will be signed out.")
        else:
            expect(error).not_to_contain_text("left")
    confirm_password(page, "guess")

    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    expect(page.get_by_role("alert")).to_contain_text("You were signed out after 5 wrong passwords in a row")
    assert permission_of(team, member) == Perm.NONE
    page.get_by_label("Email address").fill(admin.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    # Back where they were: the Users page, not the default landing page.
    page.wait_for_url("**/team/users/")
    expect(page.get_by_role("heading", name="Users", exact=True)).to_be_visible()
