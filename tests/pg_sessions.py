"""PostgreSQL sessions seen from outside, for tests that end one as the server would."""

from __future__ import annotations

import time

import psycopg
from django.db import connection


def terminate_backend(pid: int) -> None:
    """End the server session `pid` (pg_terminate_backend) and wait until it is gone."""
    with psycopg.connect(**connection.get_connection_params(), autocommit=True) as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", [pid])
        deadline = time.monotonic() + 10
        while admin.execute("SELECT 1 FROM pg_stat_activity WHERE pid = %s", [pid]).fetchone():
            assert time.monotonic() < deadline, f"session {pid} did not end"
            time.sleep(0.02)
