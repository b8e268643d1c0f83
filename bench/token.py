"""Token endpoint benchmark: `python bench/token.py` (or `make bench`).

Prints
- token requests per second through POST /oauth/token (in-process Django test client,
  full middleware stack, production settings) against bare argon2id verifications per
  second with the same parameters: the ratio is the endpoint's cost beyond hashing
  (target under 1.25x);
- memory per concurrent token request: N requests at once in N threads, the Python
  heap peak per request (tracemalloc) plus argon2's native working memory;
- GET /api/v2/whoami latency against a trivial JSON view on the same server, same
  middleware, both first in the URL patterns (target under 1.3x): over HTTP from a
  gunicorn worker (the production server), which is the latency an API client sees,
  timed in blocks of interleaved pairs (the ratio is the median of the blocks' ratios,
  all of them printed), and in-process for reference. Beside them, the trivial view
  plus one `SELECT 1` run in the view, timed in a pair of its own: what one database
  round trip costs a request. whoami must read the database on every call (a revoked
  token fails at once, so no cache), but on PostgreSQL its lookup is sent ahead by the
  first middleware and overlaps the rest of the request (credentials/oauth/middleware.py).

The bench database is its own (bench/bench_token.sqlite3, or a PostgreSQL database
named bench_token when DATABASE_URL points at PostgreSQL) and is dropped afterwards.
"""

from __future__ import annotations

import sys
from pathlib import Path

# `python bench/token.py` puts bench/ first on sys.path, where this file would shadow
# the standard library's `token` module (imported by tokenize, inspect, ...).
_BENCH_DIR = Path(__file__).resolve().parent
sys.path[:] = [entry for entry in sys.path if Path(entry or ".").resolve() != _BENCH_DIR]
sys.path.insert(0, str(_BENCH_DIR.parent))

import http.client  # noqa: E402
import os  # noqa: E402
import socket  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import threading  # noqa: E402
import time  # noqa: E402
import tracemalloc  # noqa: E402
import warnings  # noqa: E402
from datetime import timedelta  # noqa: E402
from typing import Any  # noqa: E402
from urllib.parse import urlencode  # noqa: E402

from bench._common import drop_database, machine, setup_django  # noqa: E402

NAME = "bench_token"
TOKEN_RUNS = int(os.environ.get("BENCH_TOKEN_RUNS", "80"))
CONCURRENCY = int(os.environ.get("BENCH_TOKEN_CONCURRENCY", "8"))
LATENCY_RUNS = int(os.environ.get("BENCH_LATENCY_RUNS", "3000"))
HTTP_RUNS = int(os.environ.get("BENCH_HTTP_RUNS", "1000"))
# whoami against the trivial view over HTTP is timed in this many blocks, each of
# HTTP_RUNS interleaved pairs; the blocks' ratios show how much the machine drifts.
HTTP_BLOCKS = int(os.environ.get("BENCH_HTTP_BLOCKS", "5"))
TOKEN_TARGET = 1.25
WHOAMI_TARGET = 1.3

urlpatterns: list[Any] = []


def trivial(request: Any) -> Any:
    """The floor: a JSON answer through the same middleware, no authentication, no query."""
    from django.http import JsonResponse

    return JsonResponse({"ok": True})


def one_query(request: Any) -> Any:
    """What one database round trip made in the view costs: the trivial view plus `SELECT 1`."""
    from django.db import connection
    from django.http import JsonResponse

    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    return JsonResponse({"ok": True})


def _install_urls() -> None:
    # This module becomes the URLconf: the portal's URLs plus the trivial view.
    from django.conf import settings
    from django.urls import clear_url_caches, path

    from tango_portal.urls import urlpatterns as portal_urls

    # First, so that URL resolution costs the floor no more than it costs the API.
    urlpatterns[:] = [path("bench/trivial", trivial), path("bench/one-query", one_query), *portal_urls]
    settings.ROOT_URLCONF = __name__
    clear_url_caches()


def wsgi_application() -> Any:
    """gunicorn's entry point ("bench.token:wsgi_application()"): the portal plus the trivial view."""
    import django

    django.setup()
    _install_urls()
    from django.core.wsgi import get_wsgi_application

    return get_wsgi_application()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class _Gunicorn:
    """One gunicorn sync worker serving this bench's database, as in production."""

    def __init__(self) -> None:
        self.port = _free_port()
        self.process = subprocess.Popen(
            [
                str(Path(sys.executable).with_name("gunicorn")),
                "--workers=1",
                f"--bind=127.0.0.1:{self.port}",
                "--log-level=warning",
                "bench.token:wsgi_application()",
            ],
            cwd=_BENCH_DIR.parent,
            env={**os.environ, "PYTHONWARNINGS": STATIC_WARNING},
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                self.get("/healthz")
                return
            except OSError:
                time.sleep(0.2)
        self.stop()
        raise SystemExit("gunicorn did not start")

    def get(self, path: str, headers: dict[str, str] | None = None) -> int:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        try:
            conn.request("GET", path, headers={"Host": "testserver", **(headers or {})})
            response = conn.getresponse()
            response.read()
            return response.status
        finally:
            conn.close()

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=30)


def _fixtures() -> tuple[Any, str, Any, str]:
    from credentials import services
    from tango_portal.models import Membership, Team, User

    team = Team.objects.create(name="Bench team", slug="bench-team", oauth_enabled=True)
    user = User.objects.create_user("bench@example.com", full_name="Bench Runner")
    Membership.objects.create(
        user=user,
        team=team,
        role=Membership.Role.ADMIN,
        api_keys_permission=Membership.ApiKeysPermission.MANAGE,
    )
    client, secret = services.oauth_client_create(actor=user, team=team)
    account, password = services.service_account_create(actor=user, team=team)
    return client, secret, account, password


def _form(client: Any, secret: str, account: Any, password: str) -> str:
    return urlencode(
        {
            "grant_type": "password",
            "client_id": client.client_id,
            "client_secret": secret,
            "username": account.username,
            "password": password,
            "scope": "raas.all",
            "audience": "https://api.tangocard.com/",
        }
    )


def _interleaved_medians(*actions: Any, runs: int, warmup: int = 50) -> list[float]:
    """Median seconds of each action, timed in turn, so drift and neighbours affect all alike."""
    for _ in range(warmup):
        for action in actions:
            action()
    times: list[list[float]] = [[] for _ in actions]
    for _ in range(runs):
        for action, samples in zip(actions, times, strict=True):
            start = time.perf_counter()
            action()
            samples.append(time.perf_counter() - start)
    return [statistics.median(samples) for samples in times]


# Production settings serve collected static files; this bench never collects them.
STATIC_WARNING = "ignore:No directory at:UserWarning"


def main() -> None:
    warnings.filterwarnings("ignore", message="No directory at", category=UserWarning)
    vendor = "postgresql" if os.environ.get("DATABASE_URL", "").startswith("postgres") else "sqlite"
    drop_database(vendor, NAME)
    setup_django(vendor, NAME)
    try:
        run(vendor)
    finally:
        from django.db import connections

        connections.close_all()
        drop_database(vendor, NAME)


def run(vendor: str) -> None:
    from django.conf import settings
    from django.db import connections
    from django.test import Client

    from credentials import services

    # Every request must take the full issuing path, not be refused by the once-a-day
    # rule: a renewal window longer than the token's life lets each one through.
    settings.TOKEN_RENEWAL_WINDOW = timedelta(hours=25)
    _install_urls()
    client, secret, account, password = _fixtures()
    body = _form(client, secret, account, password)
    http = Client()

    def token_request() -> None:
        response = http.post("/oauth/token", body, content_type="application/x-www-form-urlencoded")
        assert response.status_code == 200, response.content

    hasher = services.service_account_password_hasher()
    account.refresh_from_db()

    def bare_verify() -> None:
        assert hasher.verify(password, account.password_hash)

    token, argon = _interleaved_medians(token_request, bare_verify, runs=TOKEN_RUNS, warmup=3)
    token_ratio = token / argon

    # Memory: N token requests at once, one thread each.
    barrier = threading.Barrier(CONCURRENCY)
    failures: list[str] = []

    def concurrent_request() -> None:
        try:
            barrier.wait(timeout=60)
            response = Client().post("/oauth/token", body, content_type="application/x-www-form-urlencoded")
            if response.status_code != 200:
                failures.append(response.content.decode())
        finally:
            connections.close_all()

    token_request()  # warm every lazy import and cache outside the measurement
    tracemalloc.start()
    baseline, _ = tracemalloc.get_traced_memory()
    tracemalloc.reset_peak()
    threads = [threading.Thread(target=concurrent_request) for _ in range(CONCURRENCY)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    if failures:
        raise SystemExit(f"concurrent token requests failed: {failures[:1]}")
    heap_per_request = (peak - baseline) / CONCURRENCY
    argon_native = hasher.memory_cost * 1024 * hasher.parallelism

    # Latency: whoami with a bearer token against the trivial view.
    access_token = http.post("/oauth/token", body, content_type="application/x-www-form-urlencoded").json()[
        "access_token"
    ]
    auth = {"Authorization": f"Bearer {access_token}"}

    def whoami() -> None:
        response = http.get("/api/v2/whoami", headers=auth)
        assert response.status_code == 200, response.content

    def floor() -> None:
        response = http.get("/bench/trivial")
        assert response.status_code == 200

    def one_query() -> None:
        response = http.get("/bench/one-query")
        assert response.status_code == 200

    whoami_s, trivial_s, one_query_s = _interleaved_medians(whoami, floor, one_query, runs=LATENCY_RUNS)
    whoami_ratio = whoami_s / trivial_s

    server = _Gunicorn()
    try:

        def whoami_http() -> None:
            assert server.get("/api/v2/whoami", {"Authorization": f"Bearer {access_token}"}) == 200

        def floor_http() -> None:
            assert server.get("/bench/trivial") == 200

        def one_query_http() -> None:
            assert server.get("/bench/one-query") == 200

        # Each ratio from its own interleaved pair, so that one endpoint's database round
        # trip does not fall just before the other's turn.
        blocks = [_interleaved_medians(whoami_http, floor_http, runs=HTTP_RUNS) for _ in range(HTTP_BLOCKS)]
        one_query_http_s, floor_beside_query_s = _interleaved_medians(
            one_query_http, floor_http, runs=HTTP_RUNS
        )
    finally:
        server.stop()
    block_ratios = [whoami_block / trivial_block for whoami_block, trivial_block in blocks]
    whoami_http_ratio = statistics.median(block_ratios)
    whoami_http_s = statistics.median(whoami_block for whoami_block, _ in blocks)
    trivial_http_s = statistics.median(trivial_block for _, trivial_block in blocks)

    def verdict(ratio: float, target: float) -> str:
        return "OK" if ratio < target else "ABOVE TARGET"

    print(f"Token endpoint benchmark ({vendor}, {settings.PORTAL_ENVIRONMENT}, DEBUG={settings.DEBUG})")
    print(f"Machine: {machine()}")
    print(
        f"argon2id parameters: memory {hasher.memory_cost} KiB, time cost {hasher.time_cost}, "
        f"parallelism {hasher.parallelism}"
    )
    print()
    print(f"bare argon2 verification       {argon * 1000:8.2f} ms   {1 / argon:7.1f} /s")
    print(f"POST /oauth/token (password)   {token * 1000:8.2f} ms   {1 / token:7.1f} requests/s")
    print(
        f"token request / argon2         {token_ratio:8.3f}x  (target < {TOKEN_TARGET}x: "
        f"{verdict(token_ratio, TOKEN_TARGET)}; overhead beyond hashing {(token - argon) * 1000:.2f} ms)"
    )
    print()
    print(
        f"memory per concurrent token request ({CONCURRENCY} at once): "
        f"{heap_per_request / 1024:.1f} KiB Python heap (tracemalloc peak / {CONCURRENCY}) "
        f"+ {argon_native / 1024 / 1024:.1f} MiB argon2 working memory (native, by its parameters)"
    )
    print()
    print(
        f"latency over HTTP, one gunicorn sync worker (new connection each; {HTTP_BLOCKS} blocks "
        f"of {HTTP_RUNS} interleaved pairs, medians):"
    )
    print(f"  GET /api/v2/whoami (Bearer)  {whoami_http_s * 1e6:8.1f} µs")
    print(f"  GET trivial JSON view        {trivial_http_s * 1e6:8.1f} µs")
    print(
        f"  whoami / trivial             {whoami_http_ratio:8.3f}x  (target < {WHOAMI_TARGET}x: "
        f"{verdict(whoami_http_ratio, WHOAMI_TARGET)}; median of the blocks: "
        f"{', '.join(f'{ratio:.3f}' for ratio in block_ratios)})"
    )
    print(
        f"  trivial view + one query     {one_query_http_s * 1e6:8.1f} µs   "
        f"({one_query_http_s / floor_beside_query_s:.3f}x trivial, its own pair: one database round "
        f"trip made in the view)"
    )
    print(f"server time in-process, Django test client (median of {LATENCY_RUNS}; no HTTP, for reference):")
    print(f"  GET /api/v2/whoami (Bearer)  {whoami_s * 1e6:8.1f} µs")
    print(f"  GET trivial JSON view        {trivial_s * 1e6:8.1f} µs")
    print(f"  whoami / trivial             {whoami_ratio:8.3f}x")
    print(
        f"  trivial view + one query     {one_query_s * 1e6:8.1f} µs   "
        f"({one_query_s / trivial_s:.3f}x trivial)"
    )


if __name__ == "__main__":
    main()
