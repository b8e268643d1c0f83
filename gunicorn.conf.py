"""gunicorn's settings for the portal: `gunicorn -c gunicorn.conf.py tango_portal.wsgi`.

`make serve` runs it on this machine; a deployment runs the same behind its proxy (README,
Deployment). Everything a deployment may change comes from the environment.
"""

from __future__ import annotations

import glob
import os
import shutil
import tempfile
from typing import Any

# Loopback unless told otherwise: the app speaks plain HTTP and belongs behind a proxy that
# holds TLS. Set explicitly, since gunicorn would otherwise bind 0.0.0.0 when PORT is set.
bind = os.environ.get("GUNICORN_BIND") or "127.0.0.1:8000"


def _cpus() -> int:
    try:
        return len(os.sched_getaffinity(0))  # the CPUs this process may use (containers)
    except AttributeError:
        return os.cpu_count() or 1


# Sync workers: a token request is CPU-bound (argon2) and every worker holds one database
# connection, so the classic 2 x CPUs + 1, capped to keep PostgreSQL's connections in hand.
workers = int(os.environ.get("WEB_CONCURRENCY") or min(2 * _cpus() + 1, 12))
worker_class = "sync"
timeout = int(os.environ.get("GUNICORN_TIMEOUT") or "30")
# On SIGTERM (a deploy, a scale-in) workers finish the requests they hold, and write the
# usage counts they keep (credentials.usage), for up to this long before they are killed.
graceful_timeout = int(os.environ.get("GUNICORN_GRACEFUL_TIMEOUT") or "30")

# No control socket ($HOME/.gunicorn/gunicorn.ctl): nothing here uses gunicornc, and two
# servers on one machine would share its one path.
control_socket_disable = True

# The addresses whose X-Forwarded-Proto gunicorn believes (the proxy in front); Django
# reads the header itself (SECURE_PROXY_SSL_HEADER) and the client's address through
# DJANGO_TRUSTED_PROXY_COUNT.
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS") or "127.0.0.1,::1"

# No access log: the app writes one JSON line per request itself (tango_portal.core.request_log),
# without the query string, which gunicorn's access log would write, secrets and all.
accesslog = None
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOG_LEVEL") or "info"
# gunicorn's own lines (workers booting, timeouts) as JSON too, like the app's.
logconfig_dict: dict[str, Any] = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "json": {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "fmt": "%(levelname)s %(name)s %(message)s",
            "rename_fields": {"levelname": "level", "name": "logger"},
            "timestamp": "time",
        }
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "json", "stream": "ext://sys.stderr"}
    },
    "root": {"level": "WARNING", "handlers": ["console"]},
    "loggers": {
        "gunicorn.error": {"level": loglevel.upper(), "handlers": ["console"], "propagate": False},
        "gunicorn.access": {"level": "INFO", "handlers": [], "propagate": False},
    },
}

# Prometheus: each worker counts in files of one directory, which /metrics (answered by
# any worker) adds up. Set before the workers import prometheus_client; emptied at start,
# as prometheus_client asks, and removed at exit when it is ours.
_OWN_METRICS_DIR = not os.environ.get("PROMETHEUS_MULTIPROC_DIR")
if _OWN_METRICS_DIR:
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="tango-portal-metrics-")


def on_starting(server: Any) -> None:
    directory = os.environ["PROMETHEUS_MULTIPROC_DIR"]
    os.makedirs(directory, exist_ok=True)
    for stale in glob.glob(os.path.join(directory, "*.db")):
        os.remove(stale)


def child_exit(server: Any, worker: Any) -> None:
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)


def on_exit(server: Any) -> None:
    if _OWN_METRICS_DIR:
        shutil.rmtree(os.environ["PROMETHEUS_MULTIPROC_DIR"], ignore_errors=True)
