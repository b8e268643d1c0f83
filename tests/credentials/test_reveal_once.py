"""The create POST redirects to a one-time reveal page: shown once, to its creator, then 410."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import timedelta
from http import HTTPStatus

import pytest
from django.contrib.sessions.models import Session
from django.db import connection
from django.utils import timezone

from credentials import secrets as credential_secrets
from credentials import services
from credentials.models import ApiKey, CredentialHistory, OAuthClient, PendingReveal, ServiceAccount
from tango_portal.accounts import teams
from tests.conftest import client_for, no_store, revealed
from tests.factories import MembershipFactory

pytestmark = pytest.mark.django_db

BASE = "/team/api-credentials"
COOKIE = "reveal_key"
REVEAL = re.compile(
    r"^/team/api-credentials/(?P<app>[a-z-]+)/(?P<pk>\d+)/reveal/(?P<token>[A-Za-z0-9_-]{22})/$"
)
SHOWN_ONCE = "This secret was shown once and cannot be shown again"


@dataclass(frozen=True)
class Kind:
    name: str
    create_url: str
    data: dict[str, str]
    model: type
    secret_id: str
    detail_url: str  # with {pk}

    def secret_in(self, response) -> str:
        match = re.search(rf'<code id="{self.secret_id}">([^<]+)</code>', response.content.decode())
        assert match, "the reveal page shows the secret"
        return match.group(1)

    def verifies(self, credential, secret: str) -> bool:
        if isinstance(credential, ServiceAccount):
            return services.service_account_check_password(credential, secret)
        if isinstance(credential, OAuthClient):
            return credential_secrets.digest_matches(secret, credential.secret_digest)
        return credential_secrets.digest_matches(secret, credential.digest)


KINDS = [
    Kind(
        "service_account",
        f"{BASE}/service-accounts/create/",
        {"display_name": "Order server"},
        ServiceAccount,
        "sa-new-password",
        f"{BASE}/service-accounts/{{pk}}/",
    ),
    Kind(
        "client",
        f"{BASE}/clients/generate/",
        {"display_name": "Order server"},
        OAuthClient,
        "new-client-secret",
        f"{BASE}/clients/{{pk}}/",
    ),
    Kind(
        "api_key",
        f"{BASE}/api-keys/generate/",
        {"platform_name": "Order server"},
        ApiKey,
        "new-api-key",
        f"{BASE}/api-keys/{{pk}}/",
    ),
]


@pytest.fixture(params=KINDS, ids=[kind.name for kind in KINDS])
def kind(request) -> Kind:
    return request.param


def create(client, kind: Kind, htmx: bool = False):
    """POST the create form; return the response and the reveal URL it sends the browser to."""
    headers = {"HX-Request": "true"} if htmx else {}
    response = client.post(kind.create_url, kind.data, headers=headers)
    if htmx:
        assert response.status_code == HTTPStatus.OK
        url = response["HX-Redirect"]
        assert "Location" not in response
    else:
        assert response.status_code == HTTPStatus.SEE_OTHER
        url = response["Location"]
    assert REVEAL.match(url), url
    return response, url


def pending_rows_as_text() -> str:
    """Every column of every PendingReveal row, as the database holds it."""
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT * FROM {PendingReveal._meta.db_table}")
        return repr(cursor.fetchall())


@pytest.mark.parametrize("htmx", [False, True], ids=["plain", "htmx"])
def test_create_redirects_to_a_one_time_page_that_shows_the_secret_once(
    manager_client, manager, team, kind, htmx, caplog
):
    caplog.set_level(logging.DEBUG)
    history_before = CredentialHistory.objects.count()
    posted, url = create(manager_client, kind, htmx=htmx)
    stored = pending_rows_as_text()
    key = posted.cookies[COOKIE].value

    revealed = manager_client.get(url)

    assert revealed.status_code == HTTPStatus.OK
    assert no_store(revealed)
    credential = kind.model.objects.get(team=team)
    secret = kind.secret_in(revealed)
    assert kind.verifies(credential, secret)
    assert int(REVEAL.match(url)["pk"]) == credential.pk
    # The POST's answer carries nothing of the secret: body, headers, URL, cookies.
    assert no_store(posted)
    assert secret not in posted.content.decode()
    assert secret not in repr(posted.items())
    assert secret not in url
    assert secret not in str(posted.cookies)
    # The database held only ciphertext, and never the key.
    assert secret not in stored
    assert key not in stored
    assert not PendingReveal.objects.exists()
    # The reveal page deletes the key cookie.
    assert revealed.cookies[COOKIE].value == ""
    assert revealed.cookies[COOKIE]["max-age"] == 0
    assert revealed.cookies[COOKIE]["path"] == url
    # One "created" row, as before; nothing logged, kept in a session or in history.
    assert CredentialHistory.objects.count() == history_before + 1
    assert secret not in repr(list(CredentialHistory.objects.values()))
    assert secret not in caplog.text
    for session in Session.objects.all():
        assert secret not in repr(session.get_decoded())

    again = manager_client.get(url)

    assert again.status_code == HTTPStatus.GONE
    body = again.content.decode()
    assert secret not in body
    assert SHOWN_ONCE in body
    assert f'href="{kind.detail_url.format(pk=credential.pk)}"' in body
    assert no_store(again)


def test_the_key_cookie_is_http_only_strict_short_lived_and_for_that_page_only(manager_client, kind):
    posted, url = create(manager_client, kind)

    cookie = posted.cookies[COOKIE]
    assert cookie["httponly"] is True
    assert cookie["samesite"] == "Strict"
    assert cookie["path"] == url
    assert cookie["max-age"] == 300
    assert not cookie["secure"]
    assert len(cookie.value) == 43


def test_the_key_cookie_is_secure_over_https(manager_client, kind):
    posted = manager_client.post(kind.create_url, kind.data, secure=True)

    assert posted.status_code == HTTPStatus.SEE_OTHER
    assert posted.cookies[COOKIE]["secure"] is True


def test_another_tab_with_the_same_key_gets_410(manager_client, kind):
    posted, url = create(manager_client, kind)
    key = posted.cookies[COOKIE].value
    secret = kind.secret_in(manager_client.get(url))

    manager_client.cookies[COOKIE] = key
    again = manager_client.get(url)

    assert again.status_code == HTTPStatus.GONE
    assert secret not in again.content.decode()
    assert SHOWN_ONCE in again.content.decode()


@pytest.mark.parametrize("htmx", [False, True], ids=["plain", "htmx"])
def test_another_user_of_the_team_gets_404_and_consumes_nothing(
    manager_client, admin_user, kind, htmx, htmx_headers
):
    posted, url = create(manager_client, kind)
    other = client_for(admin_user)
    other.cookies[COOKIE] = posted.cookies[COOKIE].value

    refused = other.get(url, headers=htmx_headers if htmx else {})

    assert refused.status_code == HTTPStatus.NOT_FOUND
    assert not re.search(r"tng_sbx_(?:sap|cs|ak)_", refused.content.decode())
    assert PendingReveal.objects.count() == 1
    assert manager_client.get(url).status_code == HTTPStatus.OK


def test_a_user_of_another_team_gets_404_and_consumes_nothing(manager_client, outsider_client, kind):
    posted, url = create(manager_client, kind)
    outsider_client.cookies[COOKIE] = posted.cookies[COOKIE].value

    for headers in ({}, {"HX-Request": "true"}):
        assert outsider_client.get(url, headers=headers).status_code == HTTPStatus.NOT_FOUND

    assert PendingReveal.objects.count() == 1
    assert manager_client.get(url).status_code == HTTPStatus.OK


def test_a_user_who_switched_to_another_team_gets_404(manager_client, manager, other_team, kind):
    _, url = create(manager_client, kind)
    MembershipFactory(team=other_team, user=manager, role="admin", api_keys_permission="manage")
    session = manager_client.session
    session[teams.SESSION_KEY] = other_team.pk
    session.save()

    assert manager_client.get(url).status_code == HTTPStatus.NOT_FOUND
    assert PendingReveal.objects.count() == 1


def test_without_the_cookie_it_is_gone_for_good(manager_client, kind):
    posted, url = create(manager_client, kind)
    key = posted.cookies[COOKIE].value
    del manager_client.cookies[COOKIE]

    refused = manager_client.get(url)

    assert refused.status_code == HTTPStatus.GONE
    assert SHOWN_ONCE in refused.content.decode()
    # It could never be decrypted now, so it is gone: the key no longer helps.
    assert not PendingReveal.objects.exists()
    manager_client.cookies[COOKIE] = key
    assert manager_client.get(url).status_code == HTTPStatus.GONE


def test_a_wrong_key_is_gone(manager_client, kind):
    _, url = create(manager_client, kind)
    manager_client.cookies[COOKIE] = credential_secrets.seal("something else")[1]

    assert manager_client.get(url).status_code == HTTPStatus.GONE
    assert not PendingReveal.objects.exists()


def test_after_five_minutes_it_is_gone(manager_client, kind):
    _, url = create(manager_client, kind)
    PendingReveal.objects.update(created_at=timezone.now() - timedelta(minutes=5, seconds=1))

    refused = manager_client.get(url)

    assert refused.status_code == HTTPStatus.GONE
    assert SHOWN_ONCE in refused.content.decode()
    assert not PendingReveal.objects.exists()


def test_expired_holds_are_purged_by_the_next_create(manager_client, kind):
    create(manager_client, kind)
    PendingReveal.objects.update(created_at=timezone.now() - timedelta(minutes=6))
    stale = PendingReveal.objects.get().pk

    create(manager_client, KINDS[2])

    assert list(PendingReveal.objects.values_list("pk", flat=True)) != [stale]
    assert not PendingReveal.objects.filter(pk=stale).exists()


def test_an_unknown_token_is_gone_not_an_error(manager_client, kind):
    _, url = create(manager_client, kind)
    other = url.replace(REVEAL.match(url)["token"], "A" * 22)

    assert manager_client.get(other).status_code == HTTPStatus.GONE
    assert PendingReveal.objects.count() == 1


def test_reveal_page_refuses_post(manager_client, kind):
    _, url = create(manager_client, kind)

    assert manager_client.post(url).status_code == HTTPStatus.METHOD_NOT_ALLOWED
    assert PendingReveal.objects.count() == 1


def test_two_requests_that_both_read_the_hold_reveal_it_once(manager, team):
    """The race of two workers: both read the row before either deletes it."""
    account, password = services.service_account_create(actor=manager, team=team)
    pending, key = services.pending_reveal_create(
        actor=manager, team=team, credential=account, secret=password
    )
    first_read = PendingReveal.objects.get(pk=pending.pk)
    second_read = PendingReveal.objects.get(pk=pending.pk)

    shown = [
        services.pending_reveal_take(pending=first_read, key=key),
        services.pending_reveal_take(pending=second_read, key=key),
    ]

    assert shown == [password, None]


CREATE_KEY = re.compile(r'name="create_key" value="([0-9a-f]{32})"')


@pytest.mark.parametrize("kind", KINDS, ids=lambda kind: kind.name)
@pytest.mark.parametrize("htmx", [False, True], ids=["plain", "htmx"])
def test_resubmitting_a_create_form_makes_nothing_and_opens_what_it_made(manager_client, team, kind, htmx):
    key = CREATE_KEY.search(manager_client.get(kind.create_url).content.decode()).group(1)
    _, url = create(manager_client, kind)  # a form without a key is its own credential
    headers = {"HX-Request": "true"} if htmx else {}
    posted = manager_client.post(kind.create_url, {**kind.data, "create_key": key}, headers=headers)
    page = revealed(manager_client, posted)
    secret = kind.secret_in(page)
    made = kind.model.objects.get(pk=int(REVEAL.match(page.request["PATH_INFO"])["pk"]))
    again = manager_client.post(kind.create_url, {**kind.data, "create_key": key}, headers=headers)

    target = again["HX-Redirect"] if htmx else again["Location"]
    assert target == kind.detail_url.format(pk=made.pk)
    opened = manager_client.get(target)
    assert secret not in opened.content.decode()
    assert "This form was already sent, so nothing new was made" in opened.content.decode()
    assert "cannot be shown again" in opened.content.decode()
    assert kind.model.objects.filter(team=team).count() == 2
    created = CredentialHistory.objects.filter(action=CredentialHistory.Action.CREATED)
    assert created.count() == 2
    assert PendingReveal.objects.count() == 1  # the keyless one's, never opened
    assert url != target


def test_a_key_of_another_kind_of_credential_makes_a_new_one(manager_client, team):
    key = CREATE_KEY.search(manager_client.get(KINDS[1].create_url).content.decode()).group(1)
    manager_client.post(KINDS[1].create_url, {**KINDS[1].data, "create_key": key})

    posted = manager_client.post(KINDS[2].create_url, {**KINDS[2].data, "create_key": key})

    assert "/reveal/" in posted["Location"]
    assert ApiKey.objects.filter(team=team).count() == 1


def test_a_failure_to_hold_the_secret_creates_no_credential(kind, manager, manager_client, monkeypatch):
    # If the one hold of the secret cannot be stored, nobody could ever see the secret:
    # the credential and its history row must not be left behind either.
    from django.db import OperationalError

    def boom(*args, **kwargs):
        raise OperationalError("server closed the connection unexpectedly")

    monkeypatch.setattr(services, "pending_reveal_create", boom)
    before = (kind.model.objects.count(), CredentialHistory.objects.count())
    manager_client.raise_request_exception = False
    response = manager_client.post(kind.create_url, kind.data)
    assert response.status_code == HTTPStatus.INTERNAL_SERVER_ERROR
    assert (kind.model.objects.count(), CredentialHistory.objects.count()) == before
