"""Pages served with the production settings carry every security header; the balancer's
health checks and the metrics scraper are answered over plain HTTP, not redirected."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.test_settings import ROOT, _production_env

PROBE = r"""
import json, os
os.environ["DJANGO_SETTINGS_MODULE"] = "tango_portal.settings"
import django
django.setup()
from django.test import Client
from django.test.utils import setup_test_environment
setup_test_environment()
client = Client(HTTP_HOST="portal.example.com")
plain = client.get("/accounts/login/")
secure = client.get("/accounts/login/", secure=True)
cookies = {name: {"secure": bool(m["secure"]), "httponly": bool(m["httponly"]), "samesite": m["samesite"]}
           for name, m in secure.cookies.items()}
# As a balancer or a scraper asks: plain HTTP, no cookie, straight from 127.0.0.1.
probes = {}
for path in ("/healthz", "/readyz", "/metrics"):
    answer = client.get(path)
    probes[path] = {
        "status": answer.status_code,
        "location": answer.get("Location"),
        "cookies": sorted(answer.cookies),
        "vary": answer.get("Vary", ""),
        "cache_control": answer.get("Cache-Control", ""),
        "request_id": answer.get("X-Request-ID"),
        "body": answer.content.decode(),
    }
probes["/metrics from elsewhere"] = {"status": client.get("/metrics", REMOTE_ADDR="203.0.113.9").status_code}
print(json.dumps({
    "probes": probes,
    "plain_status": plain.status_code,
    "plain_location": plain.get("Location"),
    "status": secure.status_code,
    "headers": dict(secure.headers),
    "cookies": cookies,
    "body_has_nonce": "nonce=" in secure.content.decode(),
}))
"""


@pytest.fixture(scope="module")
def probe(tmp_path_factory) -> dict:
    env = _production_env()
    # Production serves collected, hashed files through WhiteNoise: collect them as a deploy
    # does, and migrate a database of its own, so that /readyz can say ready.
    env["DJANGO_STATIC_ROOT"] = str(tmp_path_factory.mktemp("static"))
    env["DATABASE_URL"] = f"sqlite:///{tmp_path_factory.mktemp('db') / 'probe.sqlite3'}"
    for command in (["collectstatic", "--noinput", "-v0"], ["migrate", "--noinput", "-v0"]):
        done = subprocess.run(
            [sys.executable, "manage.py", *command],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert done.returncode == 0, done.stderr
    result = subprocess.run(
        [sys.executable, "-c", PROBE], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    return {**json.loads(result.stdout.strip().splitlines()[-1]), "stderr": result.stderr}


def test_production_pages_carry_security_headers(probe):
    assert probe["plain_status"] == 301
    assert probe["plain_location"] == "https://portal.example.com/accounts/login/"
    assert probe["status"] == 200
    headers = probe["headers"]
    assert headers["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains; preload"
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "same-origin"
    assert headers["Cross-Origin-Opener-Policy"] == "same-origin"
    csp = headers["Content-Security-Policy"]
    assert "'unsafe-inline'" not in csp
    assert "script-src 'self' 'nonce-" in csp
    for directive in ("frame-ancestors 'none'", "object-src 'none'", "base-uri 'none'", "default-src 'self'"):
        assert directive in csp
    assert probe["body_has_nonce"]


def test_production_cookies_are_host_prefixed_and_secure(probe):
    cookies = probe["cookies"]
    assert "__Host-csrftoken" in cookies
    assert cookies["__Host-csrftoken"]["secure"]
    assert cookies["__Host-csrftoken"]["httponly"]
    assert cookies["__Host-csrftoken"]["samesite"] == "Lax"


@pytest.mark.parametrize("path", ["/healthz", "/readyz", "/metrics"])
def test_probes_answer_plain_http_without_redirect_or_cookie(probe, path):
    answer = probe["probes"][path]
    assert answer["status"] == 200, answer
    assert answer["location"] is None
    assert answer["cookies"] == []
    assert "Cookie" not in answer["vary"]
    assert "no-store" in answer["cache_control"]
    assert answer["request_id"]


def test_probes_say_what_they_checked(probe):
    assert json.loads(probe["probes"]["/healthz"]["body"]) == {"status": "ok"}
    assert json.loads(probe["probes"]["/readyz"]["body"]) == {
        "status": "ok",
        "database": "ok",
        "cache": "ok",
        "migrations": "ok",
    }
    assert "django_http_requests_total_by_method" in probe["probes"]["/metrics"]["body"]
    assert probe["probes"]["/metrics from elsewhere"]["status"] == 404


def test_production_logs_one_json_line_per_request_with_its_id(probe):
    lines = [json.loads(line) for line in probe["stderr"].splitlines() if line.strip()]
    requests = {line["request_id"]: line for line in lines if line["logger"] == "tango_portal.request"}
    for path in ("/healthz", "/readyz", "/metrics"):
        line = requests[probe["probes"][path]["request_id"]]
        assert (line["method"], line["path"], line["status"]) == ("GET", path, 200)
        assert line["client_ip"] == "127.0.0.1"
        assert isinstance(line["duration_ms"], float)
        assert line["level"] == "INFO"
        assert line["time"].endswith("+00:00")
    # The plain request to a page got its redirect to HTTPS, and a line of its own.
    assert any(line.get("path") == "/accounts/login/" and line.get("status") == 301 for line in lines)
