"""`make serve`: the production configuration under gunicorn (gunicorn.conf.py) on loopback.

One run of the real target on a free port, with a database and a static folder of its own:
`check --deploy`, collectstatic, migrate, then gunicorn with two workers. Bounded: the
server is waited for, asked, and stopped within fixed limits, and killed if it hangs.
"""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.test_settings import ROOT, _production_env

START_SECONDS = 240  # check --deploy, collectstatic, migrate and gunicorn's boot
STOP_SECONDS = 30
WORKERS = 2


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: str


def get(port: int, path: str, **headers: str) -> Answer:
    request = urllib.request.Request(f"http://127.0.0.1:{port}{path}", headers=headers)
    opener = urllib.request.build_opener(NoRedirect)
    try:
        with opener.open(request, timeout=10) as response:
            return Answer(response.status, dict(response.headers), response.read().decode())
    except urllib.error.HTTPError as error:
        return Answer(error.code, dict(error.headers), error.read().decode())


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


@dataclass
class Served:
    port: int
    process: subprocess.Popen
    log: Path

    def output(self) -> str:
        return self.log.read_text(errors="replace")


@pytest.fixture(scope="module")
def served(tmp_path_factory) -> Iterator[Served]:
    work = tmp_path_factory.mktemp("serve")
    env = _production_env()
    for name in ("DJANGO_SECRET_KEY", "DJANGO_ALLOWED_HOSTS", "DJANGO_SECURE_SSL_REDIRECT", "MAKEFLAGS"):
        env.pop(name, None)
    env.update(
        {
            "DATABASE_URL": f"sqlite:///{work / 'serve.sqlite3'}",
            "DJANGO_STATIC_ROOT": str(work / "static"),
            "WEB_CONCURRENCY": str(WORKERS),
        }
    )
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    port = free_port()
    log = work / "serve.log"
    with log.open("w") as out:
        # -o: the virtualenv is this one, already installed; never reinstall from a test.
        process = subprocess.Popen(
            [
                "make",
                "--no-print-directory",
                "-o",
                ".venv/.installed",
                "serve",
                f"PORT={port}",
                "HOST=127.0.0.1",
            ],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    server = Served(port=port, process=process, log=log)
    try:
        deadline = time.monotonic() + START_SECONDS
        while True:
            if process.poll() is not None:
                pytest.fail(f"make serve exited with {process.returncode}:\n{server.output()}")
            try:
                if get(port, "/readyz").status == 200:
                    break
            except OSError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"make serve was not ready within {START_SECONDS} s:\n{server.output()}")
            time.sleep(0.5)
        yield server
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=STOP_SECONDS)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=STOP_SECONDS)


def test_it_checks_the_deployment_first_with_a_throwaway_key(served):
    output = served.output()
    assert "warning: DJANGO_SECRET_KEY is unset: using a throwaway key" in output
    assert "System check identified no issues" in output
    assert output.index("System check identified no issues") < output.index("Listening at")


def test_health_and_readiness(served):
    ready = get(served.port, "/readyz")
    assert json.loads(ready.body) == {"status": "ok", "database": "ok", "cache": "ok", "migrations": "ok"}
    alive = get(served.port, "/healthz")
    assert alive.status == 200
    assert json.loads(alive.body) == {"status": "ok"}
    assert "Set-Cookie" not in alive.headers
    assert re.fullmatch(r"[0-9a-f]{32}", alive.headers["X-Request-ID"])


def test_a_page_and_its_static_files_with_debug_off(served):
    page = get(served.port, "/accounts/login/")
    assert page.status == 200
    # Plain HTTP here (no redirect to HTTPS), the production headers all the same.
    assert "nonce-" in page.headers["Content-Security-Policy"]
    assert page.headers["X-Frame-Options"] == "DENY"
    # WhiteNoise serves collectstatic's hashed names, cached for ever.
    (stylesheet,) = re.findall(r'href="(/static/css/portal\.[0-9a-f]{12}\.css)"', page.body)
    css = get(served.port, stylesheet)
    assert css.status == 200
    assert "max-age=315360000" in css.headers["Cache-Control"]
    # Debug is off: an unknown address is the plain 404 page, not Django's debug page.
    missing = get(served.port, "/no-such-page")
    assert missing.status == 404
    assert "Using the URLconf" not in missing.body


def test_metrics_add_up_every_worker(served):
    before = healthz_count(get(served.port, "/metrics").body)
    for _ in range(10):
        assert get(served.port, "/healthz").status == 200
    # Whichever workers answered, the scrape (answered by one of them) counts all ten.
    assert healthz_count(get(served.port, "/metrics").body) == before + 10


def healthz_count(metrics: str) -> float:
    series = (
        'django_http_responses_total_by_status_view_method_total{method="GET",status="200",view="healthz"}'
    )
    match = re.search(rf"^{re.escape(series)} (\S+)$", metrics, re.MULTILINE)
    return float(match.group(1)) if match else 0.0


def test_every_log_line_is_json_and_requests_have_theirs(served):
    answer = get(served.port, "/healthz?token=query-secret-value")
    served_lines = served.output().split("Listening at", 1)[1].splitlines()[1:]
    parsed = [json.loads(line) for line in served_lines if line.startswith("{")]
    # Everything gunicorn and the app wrote once serving, bar the make's own echo, is JSON.
    assert len(parsed) == len([line for line in served_lines if line.strip()])
    (line,) = [line for line in parsed if line.get("request_id") == answer.headers["X-Request-ID"]]
    assert (line["logger"], line["path"], line["status"]) == ("tango_portal.request", "/healthz", 200)
    assert "query-secret-value" not in served.output()
