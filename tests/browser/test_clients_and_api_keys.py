"""Client credentials and API keys in a real browser, with and without JavaScript."""

from datetime import UTC, datetime

import pytest
from playwright.sync_api import expect

from credentials import secrets as credential_secrets
from credentials import services
from credentials.models import ApiKey, CredentialHistory, OAuthClient
from tests.browser.conftest import actions_for, screenshot, sign_in
from tests.factories import PASSWORD

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.browser]

Action = CredentialHistory.Action


def generate_client_credentials(page, display_name=""):
    # The section's button opens the generate page, which asks for the name first.
    page.locator("#client-credentials").get_by_role("link", name="Generate client credentials").click()
    page.wait_for_url("**/clients/generate/")
    page.get_by_label("Display name").fill(display_name)
    page.get_by_role("button", name="Generate client credentials").click()
    expect(page.get_by_role("heading", name="Client credentials generated")).to_be_visible()
    expect(page.get_by_text("This is the only time it is shown.")).to_be_visible()
    client_id = page.locator("#new-client-id").inner_text().strip()
    secret = page.locator("#new-client-secret").inner_text().strip()
    return OAuthClient.objects.get(client_id=client_id), secret


def deactivate_client(page, client):
    page.get_by_role("link", name=f"Deactivate client credentials {client.client_id}").click()
    page.wait_for_url(f"**/clients/{client.pk}/deactivate/")
    expect(page.get_by_text("This cannot be undone.")).to_be_visible()
    # Without the box ticked, nothing happens but a clear message.
    page.get_by_role("button", name="Deactivate client credentials").click()
    expect(page.get_by_text("Tick the box to confirm; this cannot be undone.")).to_be_visible()
    assert OAuthClient.objects.get(pk=client.pk).is_active
    page.get_by_label("I understand that this cannot be undone").check()
    page.get_by_role("button", name="Deactivate client credentials").click()
    page.wait_for_url("**/team/api-credentials/clients/")
    expect(page.get_by_text(f"Deactivated client credentials {client.client_id}.")).to_be_visible()


def generate_api_key(page, platform_name):
    section = page.locator("#api-keys")
    section.get_by_label("Platform name").fill(platform_name)
    section.get_by_role("button", name="Generate API key").click()
    expect(page.get_by_role("heading", name="API key generated")).to_be_visible()
    plaintext = page.locator("#new-api-key").inner_text().strip()
    return ApiKey.objects.get(digest=credential_secrets.digest(plaintext)), plaintext


def deactivate_api_key(page, key):
    page.locator("#api-keys").get_by_role("link", name=f"Deactivate API key {key.masked}").click()
    page.wait_for_url(f"**/api-keys/{key.pk}/deactivate/")
    expect(page.get_by_text("Once you deactivate your key, you cannot undo it.")).to_be_visible()
    page.get_by_label("I understand that once I deactivate this key, I cannot undo it").check()
    page.get_by_role("button", name="Deactivate API key").click()
    page.wait_for_url("**/team/api-credentials/api-keys/")
    expect(page.get_by_text("Deactivated the API key")).to_be_visible()


def test_client_credentials_and_api_key_with_javascript(page, admin_user):
    sign_in(page, "admin@example.com", PASSWORD)

    client, secret = generate_client_credentials(page, "Order server")
    assert client.secret_digest == credential_secrets.digest(secret)
    expect(page.get_by_role("button", name="Copy client secret")).to_be_visible()
    # Named before they were made: the page holds no form that could fail and lose the secret.
    expect(page.locator("#client-created")).to_contain_text("Order server")
    expect(page.locator("main form")).to_have_count(0)
    assert client.display_name == "Order server"

    page.get_by_role("link", name="I have copied the secret: done").click()
    page.wait_for_url("**/team/api-credentials/")
    expect(page.locator("#clients-table").get_by_role("link", name="Order server")).to_be_visible()
    assert secret not in page.content()

    deactivate_client(page, client)
    assert not OAuthClient.objects.get(pk=client.pk).is_active
    assert actions_for(client.client_id) == [Action.CREATED, Action.DEACTIVATED]
    assert secret not in page.content()

    page.goto("/team/api-credentials/")
    key, plaintext = generate_api_key(page, "Order server")
    expect(page.get_by_role("button", name="Copy API key")).to_be_visible()
    page.get_by_role("link", name="I have copied the key: done").click()
    page.wait_for_url("**/team/api-credentials/")
    expect(page.locator("#api-keys-table code", has_text=key.masked)).to_be_visible()
    assert plaintext not in page.content()

    deactivate_api_key(page, key)
    assert not ApiKey.objects.get(pk=key.pk).is_active
    assert actions_for(key.prefix) == [Action.CREATED, Action.DEACTIVATED]


def test_client_credentials_and_api_key_without_javascript(page_without_js, admin_user):
    page = page_without_js
    sign_in(page, "admin@example.com", PASSWORD)

    client, secret = generate_client_credentials(page, "Order server")
    expect(page.locator("#client-created")).to_contain_text("Order server")
    page.goto("/team/api-credentials/clients/")
    expect(page.locator("#clients-table").get_by_role("link", name="Order server")).to_be_visible()
    assert secret not in page.content()

    deactivate_client(page, client)
    assert not OAuthClient.objects.get(pk=client.pk).is_active

    page.goto("/team/api-credentials/")
    key, plaintext = generate_api_key(page, "Order server")
    page.goto("/team/api-credentials/")
    assert plaintext not in page.content()
    deactivate_api_key(page, key)
    assert not ApiKey.objects.get(pk=key.pk).is_active


def test_oauth_not_enabled_in_the_browser(page, admin_user, team):
    team.oauth_enabled = False
    team.save()
    sign_in(page, "admin@example.com", PASSWORD)
    section = page.locator("#client-credentials")
    expect(section.get_by_text("must be enabled for your team by your Tango representative")).to_be_visible()
    expect(section.get_by_role("link", name="Generate client credentials")).to_have_count(0)


def test_screenshot_client_credentials_and_api_keys(page, admin_user, team):
    services.oauth_client_create(
        actor=admin_user,
        team=team,
        display_name="Legacy order server",
        created_at=datetime(2025, 3, 3, 9, 30, tzinfo=UTC),
    )
    services.api_key_create(actor=admin_user, team=team, platform_name="Legacy storefront")
    sign_in(page, "admin@example.com", PASSWORD)
    expect(page.locator("#clients-table").get_by_text("Legacy", exact=True)).to_be_visible()
    expect(page.locator("#clients-table").get_by_text("Rotate", exact=True)).to_be_visible()
    screenshot(page, "client-credentials")

    generate_client_credentials(page)
    screenshot(page, "client-secret-once")

    page.goto("/team/api-credentials/api-keys/")
    expect(page.get_by_role("heading", name="API keys", exact=True)).to_be_visible()
    screenshot(page, "api-keys")
