"""Arbitrary, huge, mistyped, repeated and oddly encoded input: never a 500, never half a change."""

from __future__ import annotations

import io
from collections import Counter
from http import HTTPStatus
from urllib.parse import quote_from_bytes

import pytest
from django.core.management import call_command
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from credentials import services
from credentials.models import ApiKey, CredentialHistory, OAuthClient, ServiceAccount
from tango_portal.models import Membership
from tests.conftest import client_for

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("history_keys")]

HYPOTHESIS = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

text = st.one_of(
    st.text(max_size=60),
    st.text(alphabet=st.characters(codec="utf-8"), min_size=150, max_size=400),
    st.sampled_from(["", " ", "<script>alert(1)</script>", "' OR 1=1 --", "\x00", "\u202e", "9" * 5000]),
)
field_names = st.sampled_from(
    [
        "display_name",
        "platform_name",
        "confirm",
        "email",
        "full_name",
        "role",
        "api_keys_permission",
        "confirmed",
        "grant_type",
        "client_id",
        "client_secret",
        "username",
        "password",
        "scope",
        "audience",
        "token",
        "hidden",
        "credential_type",
        "q",
        "page",
        "per_page",
        "sort",
        "date_from",
        "date_to",
        "action",
        "user",
        "_export",
        "sudo_password",
        "next",
        "team",
    ]
)
# Lists give repeated parameters (?a=1&a=2), which some endpoints must refuse.
form = st.dictionaries(field_names, st.one_of(text, st.lists(text, min_size=2, max_size=3)), max_size=8)


def encode(data: dict) -> bytes:
    pairs = []
    for key, value in data.items():
        for item in value if isinstance(value, list) else [value]:
            pairs.append(f"{key}={quote_from_bytes(item.encode('utf-8', 'surrogatepass'))}")
    return "&".join(pairs).encode()


def invariants_hold() -> None:
    """Whatever was sent, every change is whole: an object has its history, chains verify."""
    created = Counter(
        CredentialHistory.objects.filter(action="created").values_list("credential_type", flat=True)
    )
    assert created["service_account"] == ServiceAccount.objects.count()
    assert created["oauth_client"] == OAuthClient.objects.count()
    assert created["api_key"] == ApiKey.objects.count()
    deactivated = Counter(
        CredentialHistory.objects.filter(action="deactivated").values_list("credential_type", flat=True)
    )
    assert deactivated["service_account"] == ServiceAccount.objects.filter(deleted_at__isnull=False).count()
    assert deactivated["oauth_client"] == OAuthClient.objects.filter(deactivated_at__isnull=False).count()
    assert deactivated["api_key"] == ApiKey.objects.filter(deactivated_at__isnull=False).count()
    assert OAuthClient.objects.active().count() <= 2
    assert ApiKey.objects.active().count() <= 2
    assert ServiceAccount.objects.filter(deleted_at__isnull=False).exclude(password_hash="").count() == 0
    assert Membership.objects.filter(role="admin").exists()
    call_command("verify_history", stdout=io.StringIO())


@pytest.fixture
def world(team, admin_user, member):
    account, _ = services.service_account_create(actor=admin_user, team=team)
    client, _ = services.oauth_client_create(actor=admin_user, team=team)
    key, _ = services.api_key_create(actor=admin_user, team=team, platform_name="Shop")
    target = Membership.objects.get(user=member, team=team)
    base = "/team/api-credentials"
    return {
        "client": client_for(admin_user),
        "urls": [
            f"{base}/service-accounts/create/",
            f"{base}/service-accounts/{account.pk}/rename/",
            f"{base}/service-accounts/{account.pk}/delete/",
            f"{base}/clients/generate/",
            f"{base}/clients/{client.pk}/rename/",
            f"{base}/clients/{client.pk}/deactivate/",
            f"{base}/api-keys/generate/",
            f"{base}/api-keys/{key.pk}/deactivate/",
            f"{base}/history/columns/",
            "/team/users/add/",
            f"/team/users/{target.pk}/",
            f"/team/users/{target.pk}/remove/",
            "/accounts/signup/",
            "/accounts/sudo/",
            "/team/switch/",
            "/oauth/token",
            "/oauth/revoke",
            "/oauth/introspect",
        ],
    }


@HYPOTHESIS
@given(data=form, index=st.integers(min_value=0, max_value=17), htmx=st.booleans())
def test_every_form_survives_arbitrary_posts(world, data, index, htmx):
    url = world["urls"][index]
    headers = {"HX-Request": "true"} if htmx else {}
    response = world["client"].post(
        url, encode(data), content_type="application/x-www-form-urlencoded", headers=headers
    )
    assert response.status_code < HTTPStatus.INTERNAL_SERVER_ERROR, (url, data)
    invariants_hold()


@HYPOTHESIS
@given(data=form, htmx=st.booleans())
def test_pages_survive_arbitrary_query_strings(world, data, htmx):
    headers = {"HX-Request": "true"} if htmx else {}
    for url in ("/team/api-credentials/", "/team/api-credentials/history/", "/team/users/"):
        response = world["client"].get(url + "?" + encode(data).decode(), headers=headers)
        assert response.status_code < HTTPStatus.INTERNAL_SERVER_ERROR, (url, data)
        if response.streaming:
            b"".join(response.streaming_content)


@HYPOTHESIS
@given(
    body=st.binary(max_size=600),
    content_type=st.sampled_from(
        [
            "application/x-www-form-urlencoded",
            "application/x-www-form-urlencoded; charset=latin-1",
            "application/x-www-form-urlencoded; charset=bogus",
            "application/json",
            "text/plain",
            "multipart/form-data; boundary=x",
            "",
        ]
    ),
    authorization=st.one_of(
        st.none(),
        st.sampled_from(["Basic", "Basic !!!", "Basic Og==", "Bearer", "Bearer x y", "Digest abc"]),
        st.text(max_size=40).map(lambda t: "Basic " + t),
    ),
)
def test_token_endpoints_survive_raw_bytes(world, body, content_type, authorization):
    headers = {"Authorization": authorization} if authorization else {}
    for url in ("/oauth/token", "/oauth/revoke", "/oauth/introspect"):
        # generic() sends the bytes as they are, whatever charset the header claims.
        response = world["client"].generic("POST", url, body, content_type=content_type, headers=headers)
        assert response.status_code < HTTPStatus.INTERNAL_SERVER_ERROR, (url, body, content_type)
    whoami = world["client"].get("/api/v2/whoami", headers=headers)
    assert whoami.status_code in (
        HTTPStatus.UNAUTHORIZED,
        HTTPStatus.BAD_REQUEST,
        HTTPStatus.TOO_MANY_REQUESTS,
    )
    invariants_hold()


def test_invalid_utf8_percent_encoding_is_refused_cleanly(world):
    accounts_before = ServiceAccount.objects.count()
    for url in world["urls"]:
        response = world["client"].post(
            url, b"display_name=%ff%fe%00&platform_name=%c3", content_type="application/x-www-form-urlencoded"
        )
        assert response.status_code < HTTPStatus.INTERNAL_SERVER_ERROR, url
    invariants_hold()
    # Undecodable names were refused, not stored half-decoded.
    assert ServiceAccount.objects.count() == accounts_before
    assert not ServiceAccount.objects.filter(display_name__contains="\ufffd").exists()
