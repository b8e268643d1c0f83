"""What the benchmarks in bench/ share: a Django set up on a bench database, timing, a table.

A bench never touches the development database or the test databases: it points
DATABASE_URL at its own (a SQLite file under bench/, or a PostgreSQL database named
after the bench) before Django starts.
"""

from __future__ import annotations

import os
import platform
import secrets
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
POSTGRES_SERVER = os.environ.get("BENCH_POSTGRES_SERVER", "postgres://postgres@127.0.0.1:5432")


def database_url(vendor: str, name: str) -> str:
    if vendor == "sqlite":
        return f"sqlite:///{ROOT / 'bench' / f'{name}.sqlite3'}"
    return f"{POSTGRES_SERVER}/{name}"


def sqlite_path(name: str) -> Path:
    return ROOT / "bench" / f"{name}.sqlite3"


def drop_database(vendor: str, name: str) -> None:
    """Remove a bench database entirely (SQLite file, or DROP DATABASE on the server)."""
    if vendor == "sqlite":
        for suffix in ("", "-wal", "-shm"):
            Path(f"{sqlite_path(name)}{suffix}").unlink(missing_ok=True)
        return
    import psycopg

    with psycopg.connect(f"{POSTGRES_SERVER}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def ensure_database(vendor: str, name: str) -> None:
    if vendor == "sqlite":
        return
    import psycopg

    with psycopg.connect(f"{POSTGRES_SERVER}/postgres", autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{name}"')


def setup_django(vendor: str, name: str) -> None:
    """Start Django on the bench database, in production mode (DEBUG off), and migrate it."""
    ensure_database(vendor, name)
    sys.path.insert(0, str(ROOT))
    os.environ["DATABASE_URL"] = database_url(vendor, name)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tango_portal.settings")
    os.environ["DJANGO_DEBUG"] = "0"
    os.environ["DJANGO_SECRET_KEY"] = secrets.token_urlsafe(50)
    os.environ["DJANGO_SECURE_SSL_REDIRECT"] = "0"
    os.environ["DJANGO_ALLOWED_HOSTS"] = "testserver"
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.test.utils import override_settings

    # Production serves hashed static names from collectstatic's manifest; a bench has
    # not collected, and the lookup costs the same either way.
    storages = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    override_settings(STORAGES=storages).enable()

    call_command("migrate", verbosity=0)


def median_ms(action: Callable[[], object], runs: int, warmup: int = 1) -> float:
    """Median wall time of `action` in milliseconds, after `warmup` untimed runs."""
    for _ in range(warmup):
        action()
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        action()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = ""
    try:
        kib = int(Path("/proc/meminfo").read_text().split()[1])
        memory = f", {kib / 1024 / 1024:.0f} GiB RAM"
    except (OSError, ValueError, IndexError):
        pass
    system = f"{platform.system()} {platform.release()}"
    return f"{cpu}, {os.cpu_count()} CPUs{memory}; {system}; Python {platform.python_version()}"


def table(headings: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """A plain-text table: first column left-aligned, the others right-aligned."""
    widths = [max(len(str(row[i])) for row in [headings, *rows]) for i in range(len(headings))]

    def line(cells: Sequence[str]) -> str:
        first, *rest = (str(cell) for cell in cells)
        return "  ".join(
            [first.ljust(widths[0]), *(c.rjust(w) for c, w in zip(rest, widths[1:], strict=True))]
        )

    rule = "  ".join("-" * width for width in widths)
    return "\n".join([line(headings), rule, *(line(row) for row in rows)])
