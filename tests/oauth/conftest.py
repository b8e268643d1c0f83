from __future__ import annotations

import base64
import os
import re
import secrets
import subprocess
import sys
import time
import uuid
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
from credentials.oauth import throttle as throttle_module

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

# Bounds on every app-server process a test starts: to come up, to answer, to stop.
SERVER_START_SECONDS = 60
SERVER_STOP_SECONDS = 15
REQUEST_SECONDS = 30


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


@dataclass(frozen=True)
class SharedRedis:
    """The Redis that app servers share, and a key prefix that is this test's alone."""

    url: str
    prefix: str

    @property
    def environment(self) -> dict[str, str]:
        return {"REDIS_URL": self.url, "REDIS_KEY_PREFIX": self.prefix}


@pytest.fixture
def shared_redis() -> Iterator[SharedRedis]:
    """The run's Redis (REDIS_URL, else db 14) under a key prefix of this test's own.

    Nothing is flushed: other tests and other runs using the same Redis keep their keys
    (a FLUSHDB here would empty another run's counters in the middle of its test), and
    this test's keys are removed when it ends.
    """
    url = os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/14"
    client = redis.Redis.from_url(url, socket_timeout=2)
    try:
        client.ping()
    except redis.RedisError as error:
        client.close()
        if os.environ.get("CI"):
            pytest.fail(f"Redis at {url} is needed in CI: {error}")
        pytest.skip(f"Sharing counters across processes needs a Redis server ({url}): {error}")
    shared = SharedRedis(url=url, prefix=f"tests-{uuid.uuid4().hex}")
    try:
        yield shared
    finally:
        for key in client.scan_iter(f"{shared.prefix}:*"):
            client.delete(key)
        client.close()


class _Processes:
    """App-server processes started by one test, each with its output in a file."""

    def __init__(self, tmp_path: Path) -> None:
        self.tmp_path = tmp_path
        self.started: list[tuple[subprocess.Popen[bytes], Path]] = []

    def start(self, command: list[str], env: dict[str, str], ready: re.Pattern[str]) -> int:
        """Start `command`; its port, once its output matches `ready` (group 1: the port)."""
        log = self.tmp_path / f"server-{len(self.started)}.log"
        with log.open("wb") as output:
            process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=output, stderr=subprocess.STDOUT)
        self.started.append((process, log))
        deadline = time.monotonic() + SERVER_START_SECONDS
        while time.monotonic() < deadline:
            output = log.read_text(errors="replace")
            # The port is read only once the process printed it, which it does once it
            # listens: a connection made after that waits in the backlog, never refused.
            if match := ready.search(output):
                return int(match.group(1))
            if process.poll() is not None:
                pytest.fail(f"app server exited with {process.returncode}:\n{output}")
            time.sleep(0.05)
        pytest.fail(
            f"app server not listening after {SERVER_START_SECONDS}s:\n{log.read_text(errors='replace')}"
        )

    def stop(self) -> None:
        for process, _log in self.started:
            if process.poll() is None:
                process.terminate()
        for process, log in self.started:
            try:
                process.wait(timeout=SERVER_STOP_SECONDS)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=SERVER_STOP_SECONDS)
            # Shown with a failing test's captured output.
            print(f"--- {log.name} ---\n{log.read_text(errors='replace')[-4000:]}")


def _redis_environment(request: pytest.FixtureRequest, extra: dict[str, str]) -> dict[str, str]:
    # A test that sets REDIS_URL itself (a Redis that is down) needs no real one.
    if "REDIS_URL" in extra:
        return {}
    shared: SharedRedis = request.getfixturevalue("shared_redis")
    return shared.environment


@pytest.fixture
def start_app_servers(transactional_db, tmp_path, request) -> Iterator[Callable[[dict[str, str]], list[int]]]:
    """Start two app-server processes (tests/oauth/wsgi_server.py) on one database and one
    Redis, with extra environment; their ports. They stop with the test."""
    processes = _Processes(tmp_path)

    def start(extra: dict[str, str]) -> list[int]:
        env = {
            **os.environ,
            "DJANGO_DEBUG": "1",
            "DATABASE_URL": _database_url_for_servers(tmp_path),
            **_redis_environment(request, extra),
            **extra,
        }
        command = [sys.executable, "-m", "tests.oauth.wsgi_server"]
        return [processes.start(command, env, re.compile(r"^(\d+)$", re.MULTILINE)) for _ in range(2)]

    try:
        yield start
    finally:
        processes.stop()


@pytest.fixture(scope="session")
def collected_static(tmp_path_factory) -> Path:
    """Static files collected as a deployment does (WhiteNoise's manifest, debug off)."""
    root = tmp_path_factory.mktemp("static")
    subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput", "-v0"],
        cwd=ROOT,
        env={
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "tango_portal.settings",
            "DJANGO_DEBUG": "0",
            "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
            "DJANGO_STATIC_ROOT": str(root),
        },
        check=True,
        timeout=120,
    )
    return root


GUNICORN_READY = re.compile(r"Listening at: http://127\.0\.0\.1:(\d+)")


@pytest.fixture
def start_gunicorn_servers(
    transactional_db, tmp_path, request, collected_static
) -> Iterator[Callable[..., list[int]]]:
    """Start app servers as production runs them: `gunicorn tango_portal.wsgi`, 2 sync
    workers each, with the production settings (debug off; plain HTTP on loopback, as
    behind a TLS-terminating balancer). All share one database, one Redis and one
    throwaway secret key (a session or CSRF cookie from one works on the others). Call
    it with extra environment; their ports. They stop with the test."""
    processes = _Processes(tmp_path)
    # This test's own gunicorn configuration (none), not a gunicorn.conf.py of the checkout.
    config = tmp_path / "gunicorn.conf.py"
    config.write_text("# The command line says it all.\n")
    secret_key = secrets.token_urlsafe(50)

    def start(extra: dict[str, str], count: int = 2) -> list[int]:
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "tango_portal.settings",
            "DJANGO_DEBUG": "0",
            "DJANGO_SECURE_SSL_REDIRECT": "0",
            "DJANGO_SECRET_KEY": secret_key,
            "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
            "DJANGO_STATIC_ROOT": str(collected_static),
            "DATABASE_URL": _database_url_for_servers(tmp_path),
            **_redis_environment(request, extra),
            **extra,
        }
        command = [
            sys.executable,
            "-m",
            "gunicorn",
            "tango_portal.wsgi",
            "--config",
            str(config),
            # Two servers on one machine: no control socket at one shared default path.
            "--no-control-socket",
            "--workers",
            "2",
            "--worker-class",
            "sync",
            "--bind",
            "127.0.0.1:0",
            "--timeout",
            str(REQUEST_SECONDS),
            "--graceful-timeout",
            "5",
        ]
        return [processes.start(command, env, GUNICORN_READY) for _ in range(count)]

    try:
        yield start
    finally:
        processes.stop()


# --- The throttle's fixed windows --------------------------------------------------


@dataclass
class ThrottleClock:
    """The token throttle's clock in this process, held still until a test moves it."""

    now: float

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def throttle_clock(monkeypatch) -> ThrottleClock:
    """Hold this process's throttle clock in the middle of a failure window, so that no test
    straddles a window's end (where its counters would start afresh, by design)."""
    length = throttle_module._window_seconds()
    clock = ThrottleClock(now=(time.time() // length + 0.5) * length)
    monkeypatch.setattr(throttle_module, "_now", lambda: clock.now)
    return clock


def in_one_failure_window[T](scenario: Callable[[int], T]) -> T:
    """What `scenario(attempt)` returns, from a run that began and ended in one throttle window.

    App-server processes count failures in fixed windows of TOKEN_FAILURE_WINDOW on their
    own clocks, which a test cannot hold still, and a run that straddles a window's end
    starts fresh counters halfway through, by design. Such a run is discarded and the
    scenario runs once more (`attempt` 1, so that it can use keys of its own): a second
    straddle would need it to last a whole window.
    """
    length = throttle_module._window_seconds()
    for attempt in range(2):
        window = time.time() // length
        result = scenario(attempt)
        if time.time() // length == window:
            return result
    raise AssertionError("two runs in a row straddled a throttle window")
