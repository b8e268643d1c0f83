"""The forms and actions added for rotation, DPoP, policy and leak reports, with wrong input and
DEBUG on (as `make run` serves): a clear answer in place, never a 500 or Django's debug page."""

from __future__ import annotations

import time
from http import HTTPStatus

import pytest

from credentials import services
from credentials.models import ApiKey, CredentialHistory, OAuthClient, Rotation
from tests.conftest import client_for

pytestmark = pytest.mark.django_db

BASE = "/team/api-credentials"
DEBUG_PAGE = "DEBUG = True"


@pytest.fixture
def admin(settings, admin_user):
    settings.DEBUG = True
    return client_for(admin_user)


@pytest.fixture
def made(team, admin_user):
    client, _ = services.oauth_client_create(actor=admin_user, team=team, display_name="Shop")
    account, _ = services.service_account_create(actor=admin_user, team=team)
    rotation, _new, _ = services.rotation_start(actor=admin_user, team=team, credential=client)
    return {"client": client, "account": account, "rotation": rotation}


def _state() -> tuple[int, int, int, int]:
    return (
        CredentialHistory.objects.count(),
        OAuthClient.objects.active().count(),
        ApiKey.objects.count(),
        Rotation.objects.filter(finished_at__isnull=True).count(),
    )


@pytest.mark.parametrize("htmx", [False, True])
def test_wrong_input_is_answered_in_place_and_changes_nothing(admin, made, htmx):
    headers = {"HX-Request": "true"} if htmx else {}
    rotation, client, account = made["rotation"], made["client"], made["account"]
    cases = [
        (f"{BASE}/rotations/{rotation.pk}/finish/", {}, HTTPStatus.UNPROCESSABLE_ENTITY),
        (
            f"{BASE}/rotations/{rotation.pk}/finish/",
            {"confirm": ""},
            HTTPStatus.UNPROCESSABLE_ENTITY,
        ),
        (f"{BASE}/rotations/999999/finish/", {"confirm": "on"}, HTTPStatus.NOT_FOUND),
        (
            f"{BASE}/service-accounts/{account.pk}/revoke-tokens/",
            {"confirm": ""},
            HTTPStatus.UNPROCESSABLE_ENTITY,
        ),
        (f"{BASE}/clients/999999/rotate/", {}, HTTPStatus.NOT_FOUND),
        (f"{BASE}/clients/{client.pk}/rotate/", {}, HTTPStatus.FOUND),  # already under way: to the rotation
        (f"{BASE}/policy/", {"max_credential_age_days": "forever"}, HTTPStatus.UNPROCESSABLE_ENTITY),
        (f"{BASE}/api-keys/generate/", {"platform_name": "x", "page_team": "other"}, HTTPStatus.CONFLICT),
    ]
    before = _state()
    for url, data, expected in cases:
        response = admin.post(url, data, headers=headers)
        body = response.content.decode(errors="replace")
        if htmx and expected == HTTPStatus.FOUND:
            expected = HTTPStatus.OK  # htmx is told to load the page (HX-Redirect)
        if htmx and expected == HTTPStatus.NOT_FOUND:
            assert response.get("HX-Refresh") == "true" or response.get("HX-Redirect"), url
        assert response.status_code == expected, (url, data, response.status_code)
        assert "Traceback" not in body, url
        if htmx or expected != HTTPStatus.NOT_FOUND:
            # (A plain request for something that is not there gets Django's own debug 404
            # page with DEBUG on, as it should; htmx reloads the page instead.)
            assert DEBUG_PAGE not in body, url
    assert _state() == before


def test_odd_query_strings_on_the_new_pages_are_pages(admin, made):
    for url in (
        f"{BASE}/rotations/{made['rotation'].pk}/?quiet=-1",
        f"{BASE}/rotations/{made['rotation'].pk}/?quiet=%00",
        f"{BASE}/unused/?days=7",
        f"{BASE}/unused/?days=abc&type=nothing",
        f"{BASE}/service-accounts/?sa-sort=last_used_at%00",
        f"{BASE}/clients/?clients-sort=-nope",
    ):
        response = admin.get(url)
        assert response.status_code == HTTPStatus.OK, url
        assert DEBUG_PAGE not in response.content.decode(), url


def test_a_stale_session_s_wrong_password_on_require_dpop_changes_nothing(admin, made, settings):
    session = admin.session
    session["sudo_at"] = int(time.time()) - 3600
    session.save()
    url = f"{BASE}/clients/{made['client'].pk}/require-dpop/"
    response = admin.post(url, {"required": "on", "sudo_password": "wrong"})
    assert response.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
    assert "That password is not right. Nothing was changed." in response.content.decode()
    made["client"].refresh_from_db()
    assert not made["client"].require_dpop
