"""/healthz (alive) and /readyz (database, shared cache, migrations), as the balancer sees them.

The same paths with the production settings, over plain HTTP: tests/test_production_headers.py.
"""

from __future__ import annotations

import socket
from http import HTTPStatus

import pytest
from django.db import DatabaseError
from django.db.backends.utils import CursorWrapper
from django.db.migrations.executor import MigrationExecutor
from django.test import Client

pytestmark = pytest.mark.django_db

PROBES = ("/healthz", "/readyz")


def closed_port() -> int:
    """A loopback port nothing listens on (bound, then let go)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def redis_down(settings) -> None:
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": f"redis://127.0.0.1:{closed_port()}/10",
        }
    }


@pytest.fixture
def database_down(monkeypatch) -> None:
    def broken(self, sql, params=None):
        raise DatabaseError("connection refused")

    monkeypatch.setattr(CursorWrapper, "execute", broken)


def test_healthz_answers_without_asking_anything(client, database_down, redis_down):
    response = client.get("/healthz")
    assert response.status_code == HTTPStatus.OK
    assert response.json() == {"status": "ok"}


def test_readyz_ok_when_every_dependency_is(client):
    response = client.get("/readyz")
    assert response.status_code == HTTPStatus.OK
    assert response.json() == {"status": "ok", "database": "ok", "cache": "ok", "migrations": "ok"}


def test_readyz_503_when_the_database_is_unreachable(client, database_down, caplog):
    response = client.get("/readyz")
    assert response.status_code == HTTPStatus.SERVICE_UNAVAILABLE
    assert response.json() == {
        "status": "unavailable",
        "database": "unreachable",
        "cache": "ok",
        "migrations": "unknown",
    }
    # Why goes to the operator's log, not to whoever asked.
    assert "connection refused" not in response.content.decode()
    assert "the database is unreachable (DatabaseError: connection refused)" in caplog.text


def test_readyz_503_when_the_shared_cache_is_unreachable(client, redis_down):
    response = client.get("/readyz")
    assert response.status_code == HTTPStatus.SERVICE_UNAVAILABLE
    assert response.json() == {
        "status": "unavailable",
        "database": "ok",
        "cache": "unreachable",
        "migrations": "ok",
    }


def test_readyz_503_while_a_migration_is_not_applied(client, monkeypatch):
    real_plan = MigrationExecutor.migration_plan

    def one_behind(self, targets, clean_start=False):
        plan = real_plan(self, targets, clean_start=clean_start)
        assert plan == []  # everything is applied in the test database
        return [(self.loader.graph.nodes[("credentials", "0001_initial")], False)]

    monkeypatch.setattr(MigrationExecutor, "migration_plan", one_behind)
    response = client.get("/readyz")
    assert response.status_code == HTTPStatus.SERVICE_UNAVAILABLE
    assert response.json() == {
        "status": "unavailable",
        "database": "ok",
        "cache": "ok",
        "migrations": "1 unapplied",
    }


@pytest.mark.parametrize("path", PROBES)
def test_probes_are_never_cached_and_set_no_cookie(path, manager):
    # A balancer sends no cookie and gets none, nor a Vary: Cookie; a request that carries
    # a session does not get its cookie back either.
    for client in (Client(), Client()):
        response = client.get(path)
        assert response.status_code == HTTPStatus.OK
        assert "no-store" in response["Cache-Control"]
        assert "max-age=0" in response["Cache-Control"]
        assert not response.cookies
        assert "Set-Cookie" not in response.headers
        assert "Cookie" not in response.get("Vary", "")
    signed_in = Client()
    signed_in.force_login(manager)
    response = signed_in.get(path)
    assert response.status_code == HTTPStatus.OK
    assert not response.cookies


@pytest.mark.parametrize("path", PROBES)
def test_probes_answer_get_only(client, path):
    assert client.post(path).status_code == HTTPStatus.METHOD_NOT_ALLOWED
