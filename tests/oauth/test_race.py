"""Token requests racing deletions and each other, on PostgreSQL's row locks (threads)."""

import threading
from http import HTTPStatus

import pytest
from django.db import connections
from django.test import Client

from credentials import services
from credentials.models import AccessToken
from tests.oauth.conftest import request_token

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.postgres]


def in_thread(target, results: dict, name: str) -> threading.Thread:
    def run() -> None:
        try:
            results[name] = target()
        except Exception as exc:  # surfaced by the assertions below
            results[name] = exc
        finally:
            connections.close_all()

    thread = threading.Thread(target=run, name=name)
    thread.start()
    return thread


def whoami_status(token: str) -> int:
    return Client().get("/api/v2/whoami", HTTP_AUTHORIZATION=f"Bearer {token}").status_code


def test_token_issued_while_deletion_waits_is_revoked_by_it(creds, manager, team, monkeypatch):
    """The token transaction holds the account row; the deletion waits, then revokes it."""
    issuing = threading.Event()
    deletion_finished = threading.Event()
    original = services.access_token_renewal_opens_at

    def paused(**kwargs):
        issuing.set()
        # With the row lock held, the deletion cannot finish in this second; without
        # it, the deletion would commit here and miss the token about to be inserted.
        deletion_finished.wait(timeout=1.0)
        return original(**kwargs)

    monkeypatch.setattr(services, "access_token_renewal_opens_at", paused)

    def delete():
        assert issuing.wait(timeout=30)
        try:
            return services.service_account_delete(actor=manager, team=team, account=creds.account)
        finally:
            deletion_finished.set()

    results: dict = {}
    threads = [
        in_thread(lambda: request_token(Client(), creds.form()), results, "token"),
        in_thread(delete, results, "delete"),
    ]
    for thread in threads:
        thread.join(timeout=60)

    assert not isinstance(results["delete"], Exception), results["delete"]
    response = results["token"]
    assert response.status_code == HTTPStatus.OK
    assert whoami_status(response.json()["access_token"]) == HTTPStatus.UNAUTHORIZED
    assert AccessToken.objects.filter(revoked_at__isnull=True).count() == 0


def test_deletion_committed_after_password_check_refuses_the_token(creds, manager, team, monkeypatch):
    """The password was right a moment ago; the account is gone when the token is stored."""
    deleted = threading.Event()
    original = services.service_account_check_password

    def check_then_wait(account, password):
        ok = original(account, password)
        assert deleted.wait(timeout=30)
        return ok

    monkeypatch.setattr(services, "service_account_check_password", check_then_wait)

    def delete():
        try:
            return services.service_account_delete(actor=manager, team=team, account=creds.account)
        finally:
            deleted.set()

    results: dict = {}
    token_thread = in_thread(lambda: request_token(Client(), creds.form()), results, "token")
    delete_thread = in_thread(delete, results, "delete")
    for thread in (token_thread, delete_thread):
        thread.join(timeout=60)

    response = results["token"]
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert response.json()["error"] == "invalid_grant"
    assert not AccessToken.objects.exists()


def test_client_deactivation_racing_a_token_request_leaves_no_live_token(creds, manager, team, monkeypatch):
    issuing = threading.Event()
    deactivation_finished = threading.Event()
    original = services.access_token_renewal_opens_at

    def paused(**kwargs):
        issuing.set()
        deactivation_finished.wait(timeout=1.0)
        return original(**kwargs)

    monkeypatch.setattr(services, "access_token_renewal_opens_at", paused)

    def deactivate():
        assert issuing.wait(timeout=30)
        try:
            return services.oauth_client_deactivate(actor=manager, team=team, client=creds.client)
        finally:
            deactivation_finished.set()

    results: dict = {}
    threads = [
        in_thread(lambda: request_token(Client(), creds.form()), results, "token"),
        in_thread(deactivate, results, "deactivate"),
    ]
    for thread in threads:
        thread.join(timeout=60)

    assert not isinstance(results["deactivate"], Exception), results["deactivate"]
    assert results["token"].status_code == HTTPStatus.OK
    assert whoami_status(results["token"].json()["access_token"]) == HTTPStatus.UNAUTHORIZED
    assert AccessToken.objects.filter(revoked_at__isnull=True).count() == 0


def test_concurrent_requests_for_one_account_yield_one_token(creds):
    barrier = threading.Barrier(4)

    def request():
        barrier.wait(timeout=30)
        return request_token(Client(), creds.form()).status_code

    results: dict = {}
    threads = [in_thread(request, results, f"request-{n}") for n in range(4)]
    for thread in threads:
        thread.join(timeout=60)

    statuses = sorted(results.values())
    assert statuses == [HTTPStatus.OK] + [HTTPStatus.TOO_MANY_REQUESTS] * 3
    assert AccessToken.objects.count() == 1
