"""Deployment settings: check --deploy is clean, argon2 first, CSP with nonces."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth.hashers import check_password, identify_hasher, make_password

ROOT = Path(__file__).resolve().parents[1]


def _production_env() -> dict[str, str]:
    # What a deployment has: none of the test run's own switches.
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"PYTEST_VERSION", "DJANGO_ALLOW_ASYNC_UNSAFE", "DJANGO_SETTINGS_MODULE"}
    }
    env.update(
        {
            "DJANGO_DEBUG": "0",
            "DJANGO_SECRET_KEY": "k" * 20 + "Zx9!q@L#v$2%w^8&e*3(r)7_t+1=y-5" + "p" * 20,
            "DJANGO_ALLOWED_HOSTS": "portal.example.com",
            "PORTAL_ENVIRONMENT": "production",
        }
    )
    return env


def test_check_deploy_reports_no_issues():
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=_production_env(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_production_settings_refuse_to_start_without_a_secret_key():
    env = _production_env()
    del env["DJANGO_SECRET_KEY"]
    result = subprocess.run(
        [sys.executable, "manage.py", "check"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY" in result.stderr


def test_production_settings_values():
    script = (
        "import django,os;os.environ['DJANGO_SETTINGS_MODULE']='tango_portal.settings';django.setup();"
        "from django.conf import settings as s;"
        "print(s.DEBUG, s.SECURE_SSL_REDIRECT, s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE,"
        " s.SECURE_HSTS_SECONDS, s.SESSION_COOKIE_NAME, s.CSRF_COOKIE_NAME)"
    )
    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        env=_production_env(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.stdout.split() == [
        "False",
        "True",
        "True",
        "True",
        "31536000",
        "__Host-sessionid",
        "__Host-csrftoken",
    ]


def test_csp_uses_nonces_and_no_unsafe_inline():
    policy = settings.SECURE_CSP
    flat = " ".join(" ".join(v) for v in policy.values())
    assert "unsafe-inline" not in flat
    assert "<CSP_NONCE_SENTINEL>" in policy["script-src"]
    assert policy["frame-ancestors"] == ["'none'"]
    assert policy["object-src"] == ["'none'"]
    assert policy["base-uri"] == ["'none'"]


@pytest.mark.django_db
def test_pages_carry_the_csp_header_with_a_nonce_used_by_scripts(client):
    response = client.get("/accounts/login/")
    header = response["Content-Security-Policy"]
    nonce = header.split("'nonce-")[1].split("'")[0]
    assert f'nonce="{nonce}"' in response.content.decode()
    assert "unsafe-inline" not in header


def test_argon2_is_the_first_hasher_in_settings():
    from tango_portal import settings as project_settings

    assert project_settings.PASSWORD_HASHERS[0] == "tango_portal.accounts.hashers.PortalArgon2PasswordHasher"


def test_argon2id_hash_meets_owasp_minimum(settings):
    settings.PASSWORD_HASHERS = ["tango_portal.accounts.hashers.PortalArgon2PasswordHasher"]
    encoded = make_password("a long and correct password")
    assert encoded.startswith("argon2$argon2id$")
    params = identify_hasher(encoded).decode(encoded)
    assert params["memory_cost"] >= 19 * 1024
    assert params["time_cost"] >= 2
    assert check_password("a long and correct password", encoded)
    assert not check_password("another password", encoded)


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("DJANGO_METRICS_ALLOWED_NETWORKS", "10.0.0.0/8,not-a-network", "'not-a-network' is not a network"),
        ("DJANGO_METRICS_BEARER_SECRET", "short-secret", "at least 32 characters"),
    ],
)
def test_production_settings_refuse_bad_metrics_access(variable, value, message):
    result = subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=ROOT,
        env={**_production_env(), variable: value},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode != 0
    assert variable in result.stderr
    assert message in result.stderr


def test_metrics_access_from_the_environment():
    script = (
        "import django,os;os.environ['DJANGO_SETTINGS_MODULE']='tango_portal.settings';django.setup();"
        "from django.conf import settings as s;import json;"
        "print(json.dumps([s.METRICS_ALLOWED_NETWORKS, s.METRICS_BEARER_SECRET, s.REQUEST_ID_FROM_PROXY]))"
    )
    secret = "m" * 40

    def read(**env: str) -> list:
        result = subprocess.run(
            [sys.executable, "-c", script],
            cwd=ROOT,
            env={**_production_env(), **env},
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert result.returncode == 0, result.stderr
        return json.loads(result.stdout.strip().splitlines()[-1])

    assert read() == [["127.0.0.1/32", "::1/128"], "", False]
    assert read(
        DJANGO_METRICS_ALLOWED_NETWORKS=" 10.0.0.0/8 , fd00::/8 ",
        DJANGO_METRICS_BEARER_SECRET=secret,
        DJANGO_REQUEST_ID_FROM_PROXY="1",
    ) == [["10.0.0.0/8", "fd00::/8"], secret, True]
