"""Django's PostgreSQL backend with a health check that costs no round trip.

With CONN_HEALTH_CHECKS on, Django checks a reused connection at the start of every
request that touches the database by sending `SELECT 1` and waiting for the answer.
That is one more database round trip on every API call, as long as the lookup the
call exists for (bench/token.py measures it).

An idle connection that the server closed, restarted or terminated has something
to read on its socket: the server's FATAL message, or end of file. One that is
healthy has nothing. So a reused, idle connection whose socket has nothing to read
is taken as usable without asking the server; anything else (data waiting, a
connection not idle, an error in the previous request) gets Django's full
`SELECT 1` check. A connection lost without the server saying so (a network cut) is
not detected by either check until its query fails, exactly as before.
"""

from __future__ import annotations

import select

from django.db.backends.postgresql import base
from psycopg.pq import TransactionStatus


class DatabaseWrapper(base.DatabaseWrapper):
    def is_usable(self) -> bool:
        raw = self.connection
        if raw is None or raw.closed or raw.broken:
            return False
        if self.errors_occurred or raw.info.transaction_status != TransactionStatus.IDLE:
            return bool(super().is_usable())
        if _has_input(raw.fileno()):
            return bool(super().is_usable())
        return True


def _has_input(fd: int) -> bool:
    """Whether the socket has data or end of file waiting, without waiting for either."""
    poller = select.poll()
    poller.register(fd, select.POLLIN | select.POLLPRI)
    try:
        return bool(poller.poll(0))
    except OSError:
        return True
