"""Issue 18 end to end in a real browser, DEBUG off and on: create credentials, use them with real
token requests, see the evidence, rotate, deactivate with the warning, revoke tokens and get a new one."""

from __future__ import annotations

from http import HTTPStatus

import pytest
import requests
from playwright.sync_api import expect

from credentials.models import OAuthClient, Rotation, ServiceAccount
from tests.browser.conftest import sign_in
from tests.factories import PASSWORD
from tests.oauth.conftest import AUDIENCE

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.browser]


def _token(live_server, client_id: str, secret: str, username: str, password: str) -> requests.Response:
    return requests.post(
        f"{live_server.url}/oauth/token",
        data={
            "grant_type": "password",
            "client_id": client_id,
            "client_secret": secret,
            "username": username,
            "password": password,
            "scope": "raas.all",
            "audience": AUDIENCE,
        },
        headers={"User-Agent": "order-server/1.0"},
        timeout=10,
    )


def _create(page, section: str, name: str, secret_id: str) -> str:
    """Follow `name` from the overview's `section`, submit "Order server"; the secret shown once."""
    page.goto("/team/api-credentials/")
    page.locator(section).get_by_role("link", name=name).click()
    page.get_by_label("Display name").fill("Order server")
    page.get_by_role("button", name=name).click()
    secret = page.locator(f"#{secret_id}")
    expect(secret).not_to_be_empty()
    return secret.inner_text().strip()


def test_usage_rotation_and_revoke_tokens(page, live_server, acme, debug_mode):
    sign_in(page, "admin@example.com", PASSWORD)
    client_secret = _create(page, "#client-credentials", "Generate client credentials", "new-client-secret")
    password = _create(page, "#service-accounts", "Create service account", "sa-new-password")
    client = OAuthClient.objects.get()
    account = ServiceAccount.objects.get()

    # A real token request is evidence on the account's page.
    assert _token(live_server, client.client_id, client_secret, account.username, password).ok
    page.goto(f"/team/api-credentials/service-accounts/{account.pk}/")
    expect(page.locator(".last-used").first).to_contain_text("from 127.0.0.1")
    chart = page.locator("figure.usage-chart svg[role=img]")
    expect(chart).to_be_visible()
    expect(page.locator("figure.usage-chart desc")).to_contain_text("1 token issued in the last 90 days")
    expect(page.locator("table.usage-addresses")).to_contain_text("order-server/1.0")

    # The server lost its token: the once-a-day rule refuses; Revoke tokens lets it through.
    lost = _token(live_server, client.client_id, client_secret, account.username, password)
    assert lost.status_code == HTTPStatus.TOO_MANY_REQUESTS
    page.get_by_role("link", name="Revoke tokens…").click()
    page.get_by_role("checkbox").check()
    page.get_by_role("button", name="Revoke tokens").click()
    expect(page.locator(".messages, [role=status], .message").first).to_contain_text("Revoked 1 live token")
    assert _token(live_server, client.client_id, client_secret, account.username, password).ok

    # Rotate the client: the new secret once, then both side by side.
    page.goto(f"/team/api-credentials/clients/{client.pk}/")
    page.get_by_role("link", name="Rotate…").click()
    page.get_by_role("button", name="Start rotation").click()
    new_secret = page.locator("#new-client-secret").inner_text().strip()
    page.get_by_role("link", name="on to the rotation").click()
    rotation = Rotation.objects.get()
    page.wait_for_url(f"**/rotations/{rotation.pk}/")
    expect(page.get_by_text("The new client credentials were never used")).to_be_visible()
    expect(page.get_by_text("The old client credentials are still in use")).to_be_visible()
    new = OAuthClient.objects.get(pk=rotation.new_pk)
    assert _token(live_server, new.client_id, new_secret, account.username, password).status_code in (
        HTTPStatus.OK,
        HTTPStatus.TOO_MANY_REQUESTS,  # the account already has a token for this audience today
    )

    # Deactivating the old one directly warns that it was used, and asks for its name.
    page.goto(f"/team/api-credentials/clients/{client.pk}/deactivate/")
    expect(page.locator("main")).to_contain_text("used in the last 24 hours")
    page.get_by_role("checkbox").check()
    page.get_by_label("Type “Order server” to confirm").fill("Order servr")
    page.get_by_role("button", name="Deactivate client credentials").click()
    expect(page.locator(".errorlist")).to_be_visible()
    client.refresh_from_db()
    assert client.is_active
    page.get_by_label("Type “Order server” to confirm").fill("Order server")
    page.get_by_role("checkbox").check()
    page.get_by_role("button", name="Deactivate client credentials").click()
    page.wait_for_url("**/clients/")
    client.refresh_from_db()
    assert not client.is_active
    page.goto(f"/team/api-credentials/rotations/{rotation.pk}/")
    expect(page.get_by_text("The old client credentials were already deactivated")).to_be_visible()
    page.get_by_role("checkbox").check()
    page.get_by_role("button", name="Deactivate the old client credentials").click()
    expect(page.get_by_text("Rotation finished", exact=False).first).to_be_visible()
    page.goto("/team/api-credentials/history/")
    expect(page.locator("main")).to_contain_text(f"Rotation started: new Order server ({new.client_id})")
    expect(page.locator("main")).to_contain_text("Tokens revoked (1 live)")
