"""A signed-in user's pages are never kept by a shared cache; secret pages are kept nowhere."""

from __future__ import annotations

from http import HTTPStatus

import pytest
from django.utils.cache import get_max_age

from tests.conftest import client_for, revealed

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client_for_pages(admin_user):
    return client_for(admin_user)


def _directives(response) -> set[str]:
    return {
        part.strip().split("=")[0] for part in response.get("Cache-Control", "").split(",") if part.strip()
    }


@pytest.mark.parametrize(
    "url",
    [
        "/team/api-credentials/",
        "/team/api-credentials/service-accounts/",
        "/team/api-credentials/clients/",
        "/team/api-credentials/api-keys/",
        "/team/api-credentials/history/",
        "/team/users/",
    ],
)
def test_signed_in_pages_are_private(admin_client_for_pages, url):
    response = admin_client_for_pages.get(url)
    assert response.status_code == HTTPStatus.OK
    assert {"private", "no-cache"} <= _directives(response)
    assert "public" not in _directives(response)


def test_an_htmx_fragment_is_private_too(admin_client_for_pages, htmx_headers):
    response = admin_client_for_pages.get("/team/api-credentials/history/", headers=htmx_headers)
    assert "private" in _directives(response)


def test_the_page_that_shows_a_secret_stays_no_store(admin_client_for_pages):
    posted = admin_client_for_pages.post(
        "/team/api-credentials/service-accounts/create/", {"display_name": "Order server"}
    )
    page = revealed(admin_client_for_pages, posted)
    assert page.status_code == HTTPStatus.OK
    assert {"no-store", "private", "no-cache"} <= _directives(page)
    assert get_max_age(page) == 0


def test_the_token_endpoint_is_left_as_it_says(client):
    response = client.post("/oauth/token", {"grant_type": "password"})
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert _directives(response) == {"no-store"}
