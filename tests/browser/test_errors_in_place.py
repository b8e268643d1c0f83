"""Wrong input and refusals answer in place, with DEBUG off and on (issue 16).

With DEBUG on (`make run`), django-htmx's debug script paints a 400, 403, 404 or 500
answer of an htmx request over the whole document. Invalid input answers 422 and a
conflict 409, which htmx swaps in place; a permission taken away or an object gone
reloads the page with a message. And nothing on a page showing a secret can fail.
"""

import pytest
from playwright.sync_api import expect

from credentials import services
from credentials.models import ApiKey, OAuthClient, ServiceAccount
from tango_portal.models import Membership
from tests.browser.conftest import sign_in
from tests.factories import PASSWORD

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.browser]

TOO_LONG = "x" * 300
DEBUG_PAGE = "<code>DEBUG = True</code>"  # on every Django debug page


def type_past_maxlength(field, value: str) -> None:
    """Put a value longer than the input's maxlength in it, as a stale page or a script could."""
    field.evaluate("(el, value) => { el.value = value; }", value)


def assert_styled_page(page) -> None:
    expect(page.locator("header.topbar")).to_be_visible()
    expect(page.locator("main#main")).to_be_visible()
    assert DEBUG_PAGE not in page.content()
    assert "Traceback" not in page.content()


def assert_error_in_place(page, field, message: str, kept: str) -> None:
    assert_styled_page(page)
    expect(field).to_have_attribute("aria-invalid", "true")
    expect(field).to_have_value(kept)
    expect(field).to_be_focused()
    field_box = page.locator(".field", has=field)
    expect(field_box.locator(".errorlist")).to_contain_text(message)


def open_name_first_form(page, section: str, link: str, url: str):
    """Sign in as the admin and follow `link` in `section` of the index page to its create form;
    the form's Display name field, which holds 100 characters."""
    sign_in(page, "admin@example.com", PASSWORD)
    page.locator(section).get_by_role("link", name=link).click()
    page.wait_for_url(url)
    field = page.get_by_label("Display name")
    expect(field).to_have_attribute("maxlength", "100")
    return field


def submit_too_long(page, field, button: str) -> None:
    """Submit 300 characters in the 100-character `field`: refused by the field, the value kept."""
    type_past_maxlength(field, TOO_LONG)
    page.get_by_role("button", name=button).click()
    assert_error_in_place(page, field, "at most 100 characters (it has 300)", TOO_LONG)


def create_order_server(page, field, button: str, heading: str) -> None:
    """Submit "Order server" in `field`: the one-time page shows under `heading`, with no form."""
    field.fill("Order server")
    page.get_by_role("button", name=button).click()
    expect(page.get_by_role("heading", name=heading)).to_be_visible()
    expect(page.locator("main form")).to_have_count(0)


def downgrade(user, team) -> None:
    Membership.objects.filter(user=user, team=team).update(
        api_keys_permission=Membership.ApiKeysPermission.VIEW
    )


# --- Name first; the reveal page holds nothing that can fail -----------------------------------


def test_service_account_named_first_wrong_input_in_place(page, admin_user, team, debug_mode):
    field = open_name_first_form(
        page, "#service-accounts", "Create service account", "**/service-accounts/create/"
    )

    submit_too_long(page, field, "Create service account")
    assert not ServiceAccount.objects.exists()

    field.fill("bad\u0007name")
    page.get_by_role("button", name="Create service account").click()
    assert_error_in_place(page, field, "contains a control character", "bad\u0007name")

    create_order_server(page, field, "Create service account", "Service account created")
    account = ServiceAccount.objects.get()
    expect(page.locator(".sa-created .sa-display-name")).to_have_text("Order server")
    password = page.locator("#sa-new-password").inner_text().strip()
    assert services.service_account_check_password(account, password)


def test_client_credentials_named_first_wrong_input_in_place(page, admin_user, team, debug_mode):
    field = open_name_first_form(
        page, "#client-credentials", "Generate client credentials", "**/clients/generate/"
    )

    submit_too_long(page, field, "Generate client credentials")
    assert not OAuthClient.objects.exists()

    create_order_server(page, field, "Generate client credentials", "Client credentials generated")
    client = OAuthClient.objects.get()
    assert client.display_name == "Order server"
    expect(page.locator("#client-created")).to_contain_text("Order server")
    expect(page.locator("#new-client-secret")).not_to_be_empty()


def test_api_key_wrong_input_in_place(page, admin_user, team, debug_mode):
    sign_in(page, "admin@example.com", PASSWORD)
    section = page.locator("#api-keys")
    field = section.get_by_label("Platform name")
    expect(field).to_have_attribute("maxlength", "100")

    section.get_by_role("button", name="Generate API key").click()
    field = page.get_by_label("Platform name")
    assert_error_in_place(page, field, "Platform name cannot be empty.", "")

    submit_too_long(page, field, "Generate API key")
    assert not ApiKey.objects.exists()

    create_order_server(page, field, "Generate API key", "API key generated")
    expect(page.locator("#api-key-created")).to_contain_text("Order server")
    assert ApiKey.objects.get().platform_name == "Order server"


# --- Rename and deactivate ---------------------------------------------------------------------


def test_rename_wrong_input_in_place(page, admin_user, team, debug_mode):
    client, _ = services.oauth_client_create(actor=admin_user, team=team, display_name="Keep")
    account, _ = services.service_account_create(actor=admin_user, team=team, display_name="Keep")
    sign_in(page, "admin@example.com", PASSWORD)

    for url in (
        f"/team/api-credentials/clients/{client.pk}/",
        f"/team/api-credentials/service-accounts/{account.pk}/",
    ):
        page.goto(url)
        field = page.get_by_role("textbox", name="Display name")
        submit_too_long(page, field, "Save display name")
        assert page.url.endswith(url)
    client.refresh_from_db()
    account.refresh_from_db()
    assert client.display_name == account.display_name == "Keep"


def test_deactivate_with_the_box_unticked_answers_in_place(page, admin_user, team, debug_mode):
    client, _ = services.oauth_client_create(actor=admin_user, team=team)
    key, _ = services.api_key_create(actor=admin_user, team=team, platform_name="Order server")
    sign_in(page, "admin@example.com", PASSWORD)

    for url, button in (
        (f"/team/api-credentials/clients/{client.pk}/deactivate/", "Deactivate client credentials"),
        (f"/team/api-credentials/api-keys/{key.pk}/deactivate/", "Deactivate API key"),
    ):
        page.goto(url)
        page.get_by_role("button", name=button).click()
        assert_styled_page(page)
        expect(page.get_by_text("Tick the box to confirm; this cannot be undone.")).to_be_visible()
        expect(page.get_by_role("checkbox")).to_be_focused()
        assert page.url.endswith(url)
    assert OAuthClient.objects.get().is_active
    assert ApiKey.objects.get().is_active


# --- Refused or gone while the page was open ---------------------------------------------------

NO_LONGER = "which you no longer have"


def test_permission_taken_away_while_the_page_was_open(page, manager, team, debug_mode):
    client, _ = services.oauth_client_create(actor=manager, team=team, display_name="Keep")
    key, _ = services.api_key_create(actor=manager, team=team, platform_name="Keep")
    sign_in(page, "manager@example.com", PASSWORD)

    # Generate an API key.
    page.locator("#api-keys").get_by_label("Platform name").fill("Mine")
    downgrade(manager, team)
    page.locator("#api-keys").get_by_role("button", name="Generate API key").click()
    expect(page.get_by_text(NO_LONGER)).to_be_visible()
    assert_styled_page(page)
    assert ApiKey.objects.count() == 1

    # Rename client credentials.
    Membership.objects.filter(user=manager).update(api_keys_permission=Membership.ApiKeysPermission.MANAGE)
    page.goto(f"/team/api-credentials/clients/{client.pk}/")
    page.get_by_role("textbox", name="Display name").fill("Mine")
    downgrade(manager, team)
    page.get_by_role("button", name="Save display name").click()
    expect(page.get_by_text(NO_LONGER)).to_be_visible()
    assert_styled_page(page)
    assert OAuthClient.objects.get().display_name == "Keep"

    # Deactivate an API key.
    Membership.objects.filter(user=manager).update(api_keys_permission=Membership.ApiKeysPermission.MANAGE)
    page.goto(f"/team/api-credentials/api-keys/{key.pk}/deactivate/")
    page.get_by_role("checkbox").check()
    downgrade(manager, team)
    page.get_by_role("button", name="Deactivate API key").click()
    expect(page.get_by_text(NO_LONGER)).to_be_visible()
    assert_styled_page(page)
    assert ApiKey.objects.get().is_active


def test_renaming_an_account_deleted_in_another_tab(page, admin_user, team, debug_mode):
    account, _ = services.service_account_create(actor=admin_user, team=team, display_name="Keep")
    sign_in(page, "admin@example.com", PASSWORD)
    page.goto(f"/team/api-credentials/service-accounts/{account.pk}/")
    services.service_account_delete(actor=admin_user, team=team, account=account)

    page.get_by_label("Display name").fill("Back")
    page.get_by_role("button", name="Save display name").click()

    summary = page.locator("#sa-summary")
    expect(summary.get_by_text("was deleted on")).to_be_visible()
    expect(summary).to_contain_text("by Ada Admin (admin@example.com)")
    expect(summary).to_contain_text("Nothing changed.")
    assert_styled_page(page)
    account.refresh_from_db()
    assert account.display_name == "Keep"

    # Its page, reloaded, says the same.
    page.reload()
    expect(page.get_by_role("heading", level=1)).to_contain_text("(deleted)")
    expect(page.get_by_text("was deleted on")).to_be_visible()
