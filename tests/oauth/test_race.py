"""Token requests racing deletions and each other, on PostgreSQL's row locks (threads)."""

import threading
import time
from contextlib import contextmanager
from http import HTTPStatus

import psycopg
import pytest
from django.db import connection, connections
from django.test import Client

from credentials import secrets as credential_secrets
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


ISSUED_TOKEN = "sandbox-at-" + "r" * 64  # the value the token endpoint is made to generate


@contextmanager
def insert_held_open(creds):
    """Another session inserts a row with the digest of the token about to be issued and
    keeps its transaction open: the token request's INSERT waits on that unique key,
    holding its client and service-account row locks, until this session rolls back."""
    params = connection.get_connection_params()
    with psycopg.connect(**params) as blocker:
        blocker.execute(
            "INSERT INTO credentials_accesstoken (token_digest, client_id, service_account_id, audience, "
            "scope, issued_at, expires_at, jkt) VALUES (%s, %s, %s, %s, 'raas.all', now(), now(), '')",
            [credential_secrets.digest(ISSUED_TOKEN), creds.client.pk, creds.account.pk, "elsewhere"],
        )
        try:
            yield blocker
        finally:
            blocker.rollback()


def wait_for_lock_waits(count: int) -> None:
    """Until `count` sessions of this database wait for a row or transaction lock."""
    params = connection.get_connection_params()
    with psycopg.connect(**params, autocommit=True) as observer:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            (waiting,) = observer.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                "AND wait_event_type = 'Lock'"
            ).fetchone()
            if waiting >= count:
                return
            time.sleep(0.02)
    raise AssertionError(f"fewer than {count} sessions ever waited for a lock")


def issue_while_revocation_waits(creds, monkeypatch, revoke) -> dict:
    """A token request that holds its row locks when `revoke` starts; `revoke` must wait
    for its commit, then revoke what it issued."""
    original_generate = credential_secrets.generate

    def generate(kind):
        return ISSUED_TOKEN if kind == credential_secrets.Kind.ACCESS_TOKEN else original_generate(kind)

    monkeypatch.setattr(credential_secrets, "generate", generate)
    results: dict = {}
    with insert_held_open(creds):
        token_thread = in_thread(lambda: request_token(Client(), creds.form()), results, "token")
        wait_for_lock_waits(1)  # the token request, at its INSERT, locks held
        revoke_thread = in_thread(revoke, results, "revoke")
        wait_for_lock_waits(2)  # the revocation, waiting for the token request's row lock
        assert "revoke" not in results
    for thread in (token_thread, revoke_thread):
        thread.join(timeout=60)
    assert not isinstance(results["revoke"], Exception), results["revoke"]
    return results


def test_token_issued_while_deletion_waits_is_revoked_by_it(creds, manager, team, monkeypatch):
    """The token request holds the account row; the deletion waits, then revokes its token."""
    results = issue_while_revocation_waits(
        creds,
        monkeypatch,
        lambda: services.service_account_delete(actor=manager, team=team, account=creds.account),
    )
    response = results["token"]
    assert response.status_code == HTTPStatus.OK
    assert response.json()["access_token"] == ISSUED_TOKEN
    assert whoami_status(ISSUED_TOKEN) == HTTPStatus.UNAUTHORIZED
    assert AccessToken.objects.filter(revoked_at__isnull=True).count() == 0
    assert AccessToken.objects.get().revoked_at is not None


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
    results = issue_while_revocation_waits(
        creds,
        monkeypatch,
        lambda: services.oauth_client_deactivate(actor=manager, team=team, client=creds.client),
    )
    assert results["token"].status_code == HTTPStatus.OK
    assert whoami_status(ISSUED_TOKEN) == HTTPStatus.UNAUTHORIZED
    assert AccessToken.objects.filter(revoked_at__isnull=True).count() == 0
    assert AccessToken.objects.get().revoked_at is not None


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
