"""An htmx request of an ended session goes to the sign-in page as a whole page, and back."""

from __future__ import annotations

from http import HTTPStatus
from urllib.parse import parse_qs, urlsplit

import pytest

pytestmark = pytest.mark.django_db

HISTORY = "/team/api-credentials/history/"


def _next(response) -> str:
    parts = urlsplit(response["HX-Redirect"])
    assert parts.path == "/accounts/login/"
    return parse_qs(parts.query)["next"][0]


def test_an_htmx_request_without_a_session_gets_a_whole_page_sign_in(client):
    response = client.get(
        HISTORY + "?name=order",
        headers={
            "HX-Request": "true",
            "HX-Current-URL": "http://testserver/team/api-credentials/history/?name=ord",
        },
    )
    assert response.status_code == HTTPStatus.NO_CONTENT
    assert _next(response) == "/team/api-credentials/history/?name=ord"  # the page shown, not the fragment
    assert not response.content


def test_an_htmx_post_too(client):
    response = client.post("/team/users/1/", {"role": "admin"}, headers={"HX-Request": "true"})
    assert response.status_code == HTTPStatus.NO_CONTENT
    assert _next(response) == "/team/users/1/"


def test_a_page_of_another_site_is_not_where_it_comes_back_to(client):
    response = client.get(HISTORY, headers={"HX-Request": "true", "HX-Current-URL": "https://evil.example/x"})
    assert _next(response) == HISTORY


def test_a_plain_request_is_redirected_as_django_does(client):
    response = client.get(HISTORY)
    assert response.status_code == HTTPStatus.FOUND
    assert response["Location"].startswith("/accounts/login/?next=")


def test_other_htmx_redirects_are_left_alone(manager_client):
    # A signed-in user's htmx request that ends in a redirect elsewhere is not touched.
    response = manager_client.get("/", headers={"HX-Request": "true"})
    assert response.status_code == HTTPStatus.FOUND
    assert response["Location"] == "/team/api-credentials/"
