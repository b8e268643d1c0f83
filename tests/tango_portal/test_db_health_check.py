"""The PostgreSQL backend's health check: no round trip for a quiet connection, a real
check (and a reconnect) for one the server has closed."""

from __future__ import annotations

import pytest
from django.db import connection
from django.db.backends.postgresql.base import DatabaseWrapper as DjangoPostgreSQL

from tests.pg_sessions import terminate_backend

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.postgres]


@pytest.fixture
def health_checked():
    """The default connection, reused as by a new request with health checks on."""
    connection.ensure_connection()
    enabled = connection.health_check_enabled
    connection.health_check_enabled = True
    yield connection
    connection.health_check_enabled = enabled


def new_request(conn) -> None:
    # What Django does when a request starts with a reused connection.
    conn.health_check_done = False
    conn.close_if_health_check_failed()


def test_a_quiet_connection_is_reused_without_asking_the_server(health_checked, monkeypatch):
    full_checks = []
    monkeypatch.setattr(DjangoPostgreSQL, "is_usable", lambda self: full_checks.append(self) or True)
    raw = health_checked.connection
    new_request(health_checked)
    assert health_checked.health_check_done  # the check ran, and answered without the server
    assert health_checked.connection is raw
    assert full_checks == []


def test_a_connection_the_server_terminated_is_replaced_before_the_request_uses_it(health_checked):
    raw = health_checked.connection
    pid = raw.info.backend_pid
    terminate_backend(pid)
    new_request(health_checked)
    with health_checked.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        (new_pid,) = cursor.fetchone()
    assert health_checked.connection is not raw
    assert new_pid != pid


def test_after_an_error_the_full_check_runs(health_checked, monkeypatch):
    full_checks = []
    monkeypatch.setattr(DjangoPostgreSQL, "is_usable", lambda self: full_checks.append(self) or True)
    health_checked.errors_occurred = True
    health_checked.close_if_unusable_or_obsolete()
    assert full_checks == [health_checked]
