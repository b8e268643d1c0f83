from __future__ import annotations

import base64
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import quote, urlencode

import pytest
import redis
from django.db import connection

from credentials import services
from credentials.models import OAuthClient, ServiceAccount

ROOT = Path(__file__).resolve().parents[2]
TOKEN_URL = "/oauth/token"
AUDIENCE = "https://api.tangocard.com/"
FIVE_MINUTE_AUDIENCE = "https://api.bhn.com/fiveminute"
LEGACY_CREATED_AT = datetime(2025, 1, 15, tzinfo=UTC)


@dataclass
class Credentials:
    client: OAuthClient
    client_secret: str
    account: ServiceAccount
    password: str

    @property
    def client_id(self) -> str:
        return self.client.client_id

    @property
    def username(self) -> str:
        return self.account.username

    def form(self, **overrides: str | None) -> dict[str, str]:
        data = {
            "grant_type": "password",
            "client_id": self.client_id,
            "client_secret": self.client_secret,
            "username": self.username,
            "password": self.password,
            "scope": "raas.all",
            "audience": AUDIENCE,
        }
        data.update(overrides)  # type: ignore[arg-type]
        return {key: value for key, value in data.items() if value is not None}


def basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def make_credentials(actor, team, *, legacy: bool = False) -> Credentials:
    client, secret = services.oauth_client_create(
        actor=actor, team=team, created_at=LEGACY_CREATED_AT if legacy else None
    )
    account, password = services.service_account_create(actor=actor, team=team, display_name="Checkout")
    return Credentials(client=client, client_secret=secret, account=account, password=password)


@pytest.fixture
def creds(manager, team) -> Credentials:
    return make_credentials(manager, team)


@pytest.fixture
def legacy_creds(manager, team) -> Credentials:
    return make_credentials(manager, team, legacy=True)


@pytest.fixture
def other_creds(outsider, other_team) -> Credentials:
    return make_credentials(outsider, other_team)


def form_post(client, url: str, data, **extra):
    """POST a form body as a real client would (a dict, a list of pairs, or a raw string)."""
    body = data if isinstance(data, str) else urlencode(data)
    return client.post(url, data=body, content_type="application/x-www-form-urlencoded", **extra)


def request_token(client, data, **extra):
    return form_post(client, TOKEN_URL, data, **extra)


# --- Several app-server processes on one database and one Redis ----------------------


def _database_url_for_servers(tmp_path: Path) -> str:
    """A database both server processes (and this test) can reach."""
    settings_dict = connection.settings_dict
    if connection.vendor == "postgresql":
        user = quote(settings_dict.get("USER") or "postgres")
        password = f":{quote(settings_dict['PASSWORD'])}" if settings_dict.get("PASSWORD") else ""
        host = settings_dict.get("HOST") or "127.0.0.1"
        port = settings_dict.get("PORT") or 5432
        return f"postgres://{user}{password}@{host}:{port}/{settings_dict['NAME']}"
    # The SQLite test database lives in this process's memory: give the servers a file.
    url = f"sqlite:///{tmp_path / 'servers.sqlite3'}"
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput", "-v0"],
        cwd=ROOT,
        env={**os.environ, "DJANGO_DEBUG": "1", "DATABASE_URL": url},
        check=True,
        timeout=120,
    )
    return url


@pytest.fixture
def start_app_servers(transactional_db, tmp_path) -> Iterator[Callable[[dict[str, str]], list[int]]]:
    """Start two app-server processes (tests/oauth/wsgi_server.py) on one database and one
    Redis, with extra environment; their ports. They stop with the test."""
    processes: list[subprocess.Popen[str]] = []

    def start(extra: dict[str, str]) -> list[int]:
        return _start_servers(processes, tmp_path, extra)

    try:
        yield start
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait(timeout=10)
            if process.stdout:
                process.stdout.close()


def _start_servers(
    processes: list[subprocess.Popen[str]], tmp_path: Path, extra: dict[str, str]
) -> list[int]:
    # The servers share Redis even when this test process runs on its own memory cache.
    redis_url = os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/14"
    try:
        redis.Redis.from_url(redis_url, socket_timeout=2).flushdb()
    except redis.RedisError as error:
        if os.environ.get("CI"):
            pytest.fail(f"Redis at {redis_url} is needed in CI: {error}")
        pytest.skip(f"Sharing counters across processes needs a Redis server ({redis_url}): {error}")
    env = {
        **os.environ,
        "DJANGO_DEBUG": "1",
        "REDIS_URL": redis_url,
        "DATABASE_URL": _database_url_for_servers(tmp_path),
        **extra,
    }
    started = [
        subprocess.Popen(
            [sys.executable, "-m", "tests.oauth.wsgi_server"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    processes.extend(started)
    return [int(process.stdout.readline()) for process in started if process.stdout]
