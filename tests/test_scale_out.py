"""Scale-out, proven: two gunicorn servers on one PostgreSQL and one Redis keep every rule.

Each server is `gunicorn tango_portal.wsgi` with 2 sync workers and the production
settings (debug off), on loopback; the test drives both at once with a bounded number of
concurrent requests, each with a timeout, and expects exact outcomes: the once-a-day
rule, the two-active-credentials limit, the token-failure throttle and the DPoP `jti`
replay check hold across the two as they do in one process.
"""

from __future__ import annotations

import functools
import http.client
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from email.message import Message
from http import HTTPStatus
from http.cookies import SimpleCookie
from urllib.parse import urlencode

import pytest

from credentials import services
from credentials.models import AccessToken, CredentialHistory, CredentialType, OAuthClient
from tests.concurrency import run_concurrently
from tests.factories import PASSWORD
from tests.oauth.conftest import (  # noqa: F401  (fixtures these tests use)
    REQUEST_SECONDS,
    collected_static,
    in_one_failure_window,
    make_credentials,
    shared_redis,
    start_gunicorn_servers,
)
from tests.oauth.dpop_keys import new_key, proof

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

LIMIT = 6
# Behind a balancer every server answers to one host name: the one DPoP proofs name.
HOST = "localhost"
TOKEN_URI = f"http://{HOST}/oauth/token"


@dataclass
class Answer:
    status: int
    headers: Message
    body: bytes

    def json(self) -> dict:
        return json.loads(self.body or b"{}")


def send(
    port: int,
    method: str,
    path: str,
    *,
    form: dict[str, str] | None = None,
    headers: dict[str, str] | None = None,
    source: str = "127.0.0.1",
) -> Answer:
    """One request to the server at `port`, over its own connection, within REQUEST_SECONDS."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=REQUEST_SECONDS, source_address=(source, 0))
    sent = {"Host": HOST, **(headers or {})}
    if form is not None:
        sent["Content-Type"] = "application/x-www-form-urlencoded"
    try:
        conn.request(method, path, body=urlencode(form) if form is not None else None, headers=sent)
        response = conn.getresponse()
        return Answer(response.status, response.headers, response.read())
    finally:
        conn.close()


def token(port: int, data: dict[str, str], **headers: str) -> Answer:
    return send(port, "POST", "/oauth/token", form=data, headers=headers)


@dataclass
class Browser:
    """A signed-in user's browser: its cookies (the servers' `__Host-` ones, which a real
    browser would send over the balancer's HTTPS) go to whichever server it reaches."""

    cookies: dict[str, str] = field(default_factory=dict)

    def send(self, port: int, method: str, path: str, form: dict[str, str] | None = None) -> Answer:
        cookie = "; ".join(f"{name}={value}" for name, value in self.cookies.items())
        answer = send(port, method, path, form=form, headers={"Cookie": cookie} if cookie else {})
        for header in answer.headers.get_all("Set-Cookie") or []:
            jar = SimpleCookie()
            jar.load(header)
            self.cookies.update({name: morsel.value for name, morsel in jar.items()})
        return answer

    def tab(self) -> Browser:
        """Another tab: the same cookies, sent on its own (tabs in threads share no dict)."""
        return Browser(dict(self.cookies))

    def form_page(self, port: int, path: str) -> dict[str, str]:
        """The hidden fields of the form at `path`: its CSRF token (and one-time key)."""
        page = self.send(port, "GET", path)
        assert page.status == HTTPStatus.OK, (path, page.status)
        html = page.body.decode()
        return dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', html))


def sign_in(port: int, email: str, password: str) -> Browser:
    browser = Browser()
    hidden = browser.form_page(port, "/accounts/login/")
    signed_in = browser.send(
        port, "POST", "/accounts/login/", {**hidden, "username": email, "password": password}
    )
    assert signed_in.status == HTTPStatus.FOUND, signed_in.body[:500]
    return browser


@pytest.fixture
def servers(request) -> tuple[int, int]:
    start = request.getfixturevalue("start_gunicorn_servers")
    first, second = start({"TOKEN_FAILURE_LIMIT": str(LIMIT)})
    # Each answers (its workers have booted) before the load starts.
    for port in (first, second):
        assert send(port, "GET", "/api/v2/whoami").status == HTTPStatus.UNAUTHORIZED
    return first, second


@pytest.fixture
def argon2_user(manager):
    """The manager, with the password hashed as production hashes it: the suite's fast
    hasher is not one the servers' settings know."""
    from django.contrib.auth.hashers import make_password

    manager.password = make_password(PASSWORD, hasher="argon2")
    manager.save(update_fields=["password"])
    return manager


def concurrently(jobs: list[Callable[[], Answer]]) -> list[Answer]:
    """Every job's answer, the jobs started at once (tests.concurrency, bounded)."""
    results = run_concurrently(jobs)
    answers = [result for result in results if isinstance(result, Answer)]
    assert len(answers) == len(jobs), results
    return answers


def split(servers: tuple[int, int], count: int) -> list[int]:
    """`count` requests' ports, alternating between the two servers."""
    return [servers[n % 2] for n in range(count)]


def test_once_a_day_one_token_of_twenty_racing_requests(servers, manager, team):
    creds = make_credentials(manager, team)

    answers = concurrently([lambda port=port: token(port, creds.form()) for port in split(servers, 20)])

    statuses = sorted(answer.status for answer in answers)
    assert statuses == [HTTPStatus.OK] + [HTTPStatus.TOO_MANY_REQUESTS] * 19
    assert {a.json()["error"] for a in answers if a.status != HTTPStatus.OK} == {"too_many_requests"}
    assert AccessToken.objects.filter(client=creds.client, service_account=creds.account).count() == 1


def test_two_active_client_credentials_when_both_servers_generate_at_once(servers, argon2_user, team):
    browser = sign_in(servers[0], argon2_user.email, PASSWORD)
    path = "/team/api-credentials/clients/generate/"
    # Six tabs, each with the form from one server or the other (its own one-time key):
    # the session made on the first server is the same session on the second.
    forms = [(port, browser.form_page(port, path)) for port in split(servers, 6)]
    assert all(hidden["create_key"] for _, hidden in forms)

    answers = concurrently(
        [
            functools.partial(browser.tab().send, port, "POST", path, {**hidden, "display_name": "Rotation"})
            for port, hidden in forms
        ]
    )

    statuses = sorted(answer.status for answer in answers)
    assert statuses == [HTTPStatus.SEE_OTHER] * 2 + [HTTPStatus.CONFLICT] * 4
    assert OAuthClient.objects.filter(team=team, deactivated_at__isnull=True).count() == 2
    created = CredentialHistory.objects.filter(
        team=team, credential_type=CredentialType.OAUTH_CLIENT, action=CredentialHistory.Action.CREATED
    )
    assert created.count() == 2


def test_the_failure_throttle_counts_across_both_servers(servers, manager, team):
    creds = make_credentials(manager, team)

    def failures_then_retries(attempt: int):
        failing, password = services.service_account_create(actor=manager, team=team)
        other, other_password = services.service_account_create(actor=manager, team=team)
        wrong = creds.form(username=failing.username, password="tng_sbx_sap_wrong")
        racing = concurrently([lambda port=port: token(port, wrong) for port in split(servers, 3 * LIMIT)])
        right = creds.form(username=failing.username, password=password)
        locked = [token(port, right) for port in servers]
        # Only the failing key is throttled: the client's other service account still works.
        elsewhere = token(servers[1], creds.form(username=other.username, password=other_password))
        return racing, locked, elsewhere

    racing, locked, elsewhere = in_one_failure_window(failures_then_retries)

    errors = sorted(answer.json()["error"] for answer in racing)
    # However the attempts interleave on the two servers, exactly LIMIT were checked.
    assert errors == ["invalid_grant"] * LIMIT + ["too_many_attempts"] * (2 * LIMIT)
    # The (LIMIT + 1)-th is refused on either server, even with the right password.
    assert [(a.status, a.json()["error"]) for a in locked] == [
        (HTTPStatus.TOO_MANY_REQUESTS, "too_many_attempts")
    ] * 2
    assert 0 < int(locked[0].headers["Retry-After"]) <= 15 * 60
    assert elsewhere.status == HTTPStatus.OK


def test_one_dpop_proof_sent_to_both_servers_is_accepted_once(servers, manager, team):
    creds = make_credentials(manager, team)
    key = new_key()
    value = proof(key, uri=TOKEN_URI)

    answers = concurrently(
        [lambda port=port: token(port, creds.form(), DPoP=value) for port in split(servers, 6)]
    )

    accepted = [answer for answer in answers if answer.status == HTTPStatus.OK]
    refused = [answer.json() for answer in answers if answer.status != HTTPStatus.OK]
    assert [answer.json()["token_type"] for answer in accepted] == ["DPoP"]
    assert [body["error"] for body in refused] == ["invalid_dpop_proof"] * 5
    assert all("already used" in body["error_description"] for body in refused)
    assert AccessToken.objects.get(client=creds.client).jkt == key.thumbprint()
