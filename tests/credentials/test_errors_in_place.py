"""Wrong input and refusals answer in place (issue 16): 422 for invalid input, 409 for a
conflict, and for an htmx request that is forbidden or finds nothing, a reload with a
message rather than an error fragment. The browser limit of a name is the server's."""

from __future__ import annotations

import re
from http import HTTPStatus

import pytest
from django.contrib.messages import get_messages

from credentials import services
from credentials.models import ApiKey, CredentialHistory, OAuthClient, ServiceAccount
from credentials.validators import DISPLAY_NAME_MAX_LENGTH
from tango_portal.models import Membership
from tests.conftest import plain_and_htmx, revealed

pytestmark = pytest.mark.django_db

Action = CredentialHistory.Action
BASE = "/team/api-credentials"
SA_CREATE = f"{BASE}/service-accounts/create/"
CLIENT_GENERATE = f"{BASE}/clients/generate/"
KEY_GENERATE = f"{BASE}/api-keys/generate/"
UNPROCESSABLE = HTTPStatus.UNPROCESSABLE_ENTITY


def text(response) -> str:
    return response.content.decode()


def main_of(response) -> str:
    return text(response).split('<main id="main"')[1].split("</main>")[0]


def maxlengths(html: str, name: str) -> set[int]:
    return {int(n) for n in re.findall(rf'<input type="text" name="{name}"[^>]*maxlength="(\d+)"', html)}


# --- 422 for invalid input, plain and htmx ----------------------------------------------


def test_invalid_names_answer_422_plain_and_htmx(manager_client, manager, team):
    client, _ = services.oauth_client_create(actor=manager, team=team, display_name="Keep")
    account, _ = services.service_account_create(actor=manager, team=team, display_name="Keep")
    too_long = "x" * (DISPLAY_NAME_MAX_LENGTH + 1)
    for url, data in (
        (CLIENT_GENERATE, {"display_name": too_long}),
        (KEY_GENERATE, {"platform_name": ""}),
        (KEY_GENERATE, {"platform_name": too_long}),
        (f"{BASE}/clients/{client.pk}/rename/", {"display_name": "bad\u0007"}),
        (f"{BASE}/service-accounts/{account.pk}/rename/", {"display_name": too_long}),
    ):
        for response in plain_and_htmx(manager_client.post, url, data, status=UNPROCESSABLE):
            assert 'aria-invalid="true"' in text(response), url
    response = manager_client.post(SA_CREATE, {"display_name": too_long})
    assert response.status_code == UNPROCESSABLE
    assert f"at most {DISPLAY_NAME_MAX_LENGTH} characters" in text(response)
    # What was typed is kept in the field.
    assert f'value="{too_long}"' in text(response)
    assert OAuthClient.objects.count() == 1
    assert ServiceAccount.objects.count() == 1
    assert not ApiKey.objects.exists()


def test_unticked_confirmation_answers_422_plain_and_htmx(manager_client, manager, team):
    client, _ = services.oauth_client_create(actor=manager, team=team)
    key, _ = services.api_key_create(actor=manager, team=team, platform_name="Order server")
    account, _ = services.service_account_create(actor=manager, team=team)
    for url in (
        f"{BASE}/clients/{client.pk}/deactivate/",
        f"{BASE}/api-keys/{key.pk}/deactivate/",
        f"{BASE}/service-accounts/{account.pk}/delete/",
    ):
        for headers in ({}, {"HX-Request": "true"}):
            response = manager_client.post(url, {}, headers=headers)
            assert response.status_code == UNPROCESSABLE, (url, headers)
            assert "Tick the box to confirm" in text(response)
    assert OAuthClient.objects.get().is_active
    assert ApiKey.objects.get().is_active
    assert not ServiceAccount.objects.get().is_deleted


# --- The browser's limit is the server's --------------------------------------------------


def test_rendered_maxlength_is_the_server_limit(manager_client, manager, team):
    client, _ = services.oauth_client_create(actor=manager, team=team)
    account, _ = services.service_account_create(actor=manager, team=team)
    limits = {
        ServiceAccount._meta.get_field("display_name").max_length,
        OAuthClient._meta.get_field("display_name").max_length,
        ApiKey._meta.get_field("platform_name").max_length,
    }
    assert limits == {DISPLAY_NAME_MAX_LENGTH}
    pages = {
        SA_CREATE: "display_name",
        CLIENT_GENERATE: "display_name",
        f"{BASE}/": "platform_name",
        KEY_GENERATE: "platform_name",
        f"{BASE}/clients/{client.pk}/": "display_name",
        f"{BASE}/service-accounts/{account.pk}/": "display_name",
        f"{BASE}/service-accounts/{account.pk}/rename/": "display_name",
    }
    for url, name in pages.items():
        assert maxlengths(text(manager_client.get(url)), name) == {DISPLAY_NAME_MAX_LENGTH}, url


def test_a_name_at_the_limit_is_accepted_and_one_more_is_refused(manager_client, manager, team):
    at_limit = "n" * DISPLAY_NAME_MAX_LENGTH
    assert manager_client.post(CLIENT_GENERATE, {"display_name": at_limit + "n"}).status_code == UNPROCESSABLE
    assert manager_client.post(KEY_GENERATE, {"platform_name": at_limit + "n"}).status_code == UNPROCESSABLE
    assert manager_client.post(SA_CREATE, {"display_name": at_limit + "n"}).status_code == UNPROCESSABLE
    assert not OAuthClient.objects.exists()

    assert (
        manager_client.post(CLIENT_GENERATE, {"display_name": at_limit}).status_code == HTTPStatus.SEE_OTHER
    )
    assert manager_client.post(KEY_GENERATE, {"platform_name": at_limit}).status_code == HTTPStatus.SEE_OTHER
    assert manager_client.post(SA_CREATE, {"display_name": at_limit}).status_code == HTTPStatus.SEE_OTHER
    assert OAuthClient.objects.get().display_name == at_limit
    assert ApiKey.objects.get().platform_name == at_limit
    assert ServiceAccount.objects.get().display_name == at_limit


# --- Name first; the page with the secret holds nothing that can fail -----------------------


def test_index_buttons_lead_to_the_forms_that_name_first(manager_client):
    main = main_of(manager_client.get(f"{BASE}/"))

    assert f'<a class="button button--primary" href="{SA_CREATE}">Create service account</a>' in main
    assert (
        f'<a class="button button--primary" href="{CLIENT_GENERATE}">Generate client credentials</a>' in main
    )
    # Nothing is created by a button press without a name asked for first.
    assert f'action="{SA_CREATE}"' not in main
    assert f'action="{CLIENT_GENERATE}"' not in main
    assert 'name="platform_name"' in main


@pytest.mark.parametrize(
    ("url", "data", "shown"),
    [
        (SA_CREATE, {"display_name": "Order server"}, "Order server"),
        (CLIENT_GENERATE, {"display_name": "Order server"}, "Order server"),
        (KEY_GENERATE, {"platform_name": "Order server"}, "Order server"),
    ],
)
@pytest.mark.parametrize("hx", [False, True])
def test_reveal_pages_show_the_name_and_hold_no_form(manager_client, url, data, shown, hx):
    posted = manager_client.post(url, data, headers={"HX-Request": "true"} if hx else {})
    response = revealed(manager_client, posted)

    assert response.status_code == HTTPStatus.OK
    assert "no-store" in response["Cache-Control"]
    # The reveal page is a whole page, whether htmx sent the form or not.
    body = main_of(response)
    assert shown in body
    assert "<form" not in body
    assert "Save display name" not in body


# --- A deleted service account --------------------------------------------------------------


def test_renaming_a_deleted_account_from_its_page_answers_409_in_place(
    manager_client, manager, team, admin_user
):
    account, _ = services.service_account_create(actor=manager, team=team, display_name="Keep")
    services.service_account_delete(actor=admin_user, team=team, account=account)
    headers = {"HX-Request": "true", "HX-Target": "sa-summary"}

    response = manager_client.post(
        f"{BASE}/service-accounts/{account.pk}/rename/", {"display_name": "Back"}, headers=headers
    )

    assert response.status_code == HTTPStatus.CONFLICT
    body = text(response)
    assert 'id="sa-summary"' in body
    assert "<html" not in body
    assert "was deleted on" in body
    assert "by Ada Admin (admin@example.com)" in body
    assert "Nothing changed." in body
    account.refresh_from_db()
    assert account.display_name == "Keep"


def test_delete_page_of_a_deleted_account_says_when_and_by_whom(manager_client, manager, team, admin_user):
    account, _ = services.service_account_create(actor=manager, team=team)
    services.service_account_delete(actor=admin_user, team=team, account=account)

    response = manager_client.get(f"{BASE}/service-accounts/{account.pk}/delete/")

    assert response.status_code == HTTPStatus.OK
    assert "Service account already deleted" in text(response)
    assert "by Ada Admin (admin@example.com)" in text(response)
    assert 'name="confirm"' not in text(response)


# --- Forbidden or vanished during an htmx request: reload, with a message --------------------


def test_htmx_request_after_permission_was_taken_away_reloads_with_a_message(manager_client, manager, team):
    Membership.objects.filter(user=manager, team=team).update(
        api_keys_permission=Membership.ApiKeysPermission.VIEW
    )

    response = manager_client.post(KEY_GENERATE, {"platform_name": "Mine"}, headers={"HX-Request": "true"})

    assert response.status_code == HTTPStatus.FORBIDDEN
    assert response["HX-Refresh"] == "true"
    warnings = [str(m) for m in get_messages(response.wsgi_request)]
    assert any("Tango API keys: Manage" in m for m in warnings), warnings
    # The reload shows the page as it now is, with why.
    reloaded = manager_client.get(f"{BASE}/")
    assert reloaded.status_code == HTTPStatus.OK
    assert "which you no longer have" in text(reloaded)
    assert not ApiKey.objects.exists()


def test_plain_request_after_permission_was_taken_away_is_the_403_page(manager_client, manager, team):
    Membership.objects.filter(user=manager, team=team).update(
        api_keys_permission=Membership.ApiKeysPermission.VIEW
    )

    response = manager_client.post(KEY_GENERATE, {"platform_name": "Mine"})

    assert response.status_code == HTTPStatus.FORBIDDEN
    assert "HX-Refresh" not in response
    assert "which you no longer have" not in text(manager_client.get(f"{BASE}/"))


@pytest.mark.parametrize("debug", [False, True])
def test_htmx_request_for_something_not_there_reloads_with_a_message(
    outsider_client, manager, team, settings, debug
):
    settings.DEBUG = debug
    client, _ = services.oauth_client_create(actor=manager, team=team, display_name="Keep")

    response = outsider_client.post(
        f"{BASE}/clients/{client.pk}/rename/", {"display_name": "Mine"}, headers={"HX-Request": "true"}
    )

    assert response.status_code == HTTPStatus.NOT_FOUND
    assert response["HX-Refresh"] == "true"
    # Never Django's (debug) 404 page, and nothing about the object.
    assert "<html" not in text(response)
    assert "URLconf" not in text(response)
    assert client.client_id not in text(response)
    assert any("no longer there" in str(m) for m in get_messages(response.wsgi_request))
    assert OAuthClient.objects.get().display_name == "Keep"


def test_plain_request_for_something_not_there_is_a_plain_404(outsider_client, manager, team):
    client, _ = services.oauth_client_create(actor=manager, team=team)

    response = outsider_client.post(f"{BASE}/clients/{client.pk}/rename/", {"display_name": "Mine"})

    assert response.status_code == HTTPStatus.NOT_FOUND
    assert "HX-Refresh" not in response
