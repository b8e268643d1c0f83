"""Pages served with the production settings carry every security header."""

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
print(json.dumps({
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
    # Production serves collected, hashed files through WhiteNoise: collect them as a deploy does.
    env["DJANGO_STATIC_ROOT"] = str(tmp_path_factory.mktemp("static"))
    collected = subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput", "-v0"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert collected.returncode == 0, collected.stderr
    result = subprocess.run(
        [sys.executable, "-c", PROBE], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


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
