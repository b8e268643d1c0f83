"""Django's PostgreSQL backend with two additions for the API's per-request lookup.

**A health check that costs no round trip.** With CONN_HEALTH_CHECKS on, Django
checks a reused connection at the start of every request that touches the database
by sending `SELECT 1` and waiting for the answer. That is one more database round
trip on every API call, as long as the lookup the call exists for (bench/token.py
measures it).

An idle connection that the server closed, restarted or terminated has something
to read on its socket: the server's FATAL message, or end of file. One that is
healthy has nothing. So a reused, idle connection whose socket has nothing to read
is taken as usable without asking the server; anything else (data waiting, a
connection not idle, an error in the previous request) gets Django's full
`SELECT 1` check. A connection lost without the server saying so (a network cut) is
not detected by either check until its query fails, exactly as before.

**Prepared statements**, made once per database session (`prepare`).

**A statement sent ahead.** `send_ahead` starts a prepared statement and returns at
once; `collect_ahead` later waits for its rows. In between, the database runs the
statement while Django goes on with the request (its middleware, URL resolution),
so the round trip costs the request little or nothing. Only one statement is ahead
at a time. Anything else that uses the connection first (a cursor, a commit or
rollback, a change of autocommit, a health check, closing) receives its rows and
keeps them (or the statement's error) for `collect_ahead`, so the connection is never
asked two things at once. A statement sent inside a transaction that has not yet sent
its first query runs in a transaction of its own, as a read-only lookup may. No health
check runs before it is sent, as its answer is one: if the server has ended the
session, `collect_ahead` closes the connection and answers that nothing was sent, and
the caller runs the statement on a new connection.
"""

from __future__ import annotations

import select
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.db import DatabaseError
from django.db.backends.postgresql import base
from psycopg import abc, errors, pq
from psycopg.adapt import Transformer
from psycopg.pq import TransactionStatus

Row = tuple[Any, ...]
# What collect_ahead answers when that statement was not sent ahead on this connection.
NOT_SENT: Any = object()


# A statement may be sent ahead outside a transaction or in one that has not failed.
_CAN_SEND_AHEAD = frozenset({TransactionStatus.IDLE, TransactionStatus.INTRANS})


@dataclass(slots=True)
class _Prepared:
    raw: Any  # the psycopg connection it was prepared on
    # Its row loader, made with its first rows sent ahead: a prepared statement's
    # columns do not change, so each column's loader is found once.
    loader: abc.Transformer | None = None


@dataclass(slots=True)
class _SentAhead:
    name: str
    params: tuple[str | None, ...]
    raw: Any  # the psycopg connection it was sent on
    started: float
    rows: list[Row] | None = None
    error: Exception | None = None
    received: bool = False
    lost: bool = False  # the session ended: nothing to collect


class DatabaseWrapper(base.DatabaseWrapper):
    _ahead: _SentAhead | None = None

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Statement name -> the connection it was prepared on, and its row loader.
        self._prepared_on: dict[str, _Prepared] = {}

    # --- Prepared statements ------------------------------------------------------

    def prepare(self, name: str, sql: str) -> None:
        """PREPARE `sql` (parameters $1, $2, ...) as `name`, once per database session.

        A prepared statement belongs to the session and outlives transactions (a
        rollback does not remove it), so it is made again only on a new connection;
        one left by an earlier use of the same session is replaced.
        """
        # A connection the server has closed is replaced first, as before any query.
        self.close_if_health_check_failed()
        if self.connection is not None and self._prepared_in_session(name):
            return
        with self.cursor() as cursor:
            cursor.execute("SELECT 1 FROM pg_prepared_statements WHERE name = %s", [name])
            if cursor.fetchone() is not None:
                cursor.execute(f"DEALLOCATE {name}")
            cursor.execute(f"PREPARE {name} AS {sql}")
        self._prepared_on[name] = _Prepared(raw=self.connection)

    def _prepared_in_session(self, name: str) -> _Prepared | None:
        prepared = self._prepared_on.get(name)
        return prepared if prepared is not None and prepared.raw is self.connection else None

    # --- Health check -------------------------------------------------------------

    def is_usable(self) -> bool:
        self._receive_ahead()
        raw = self.connection
        if raw is None or raw.closed or raw.broken:
            return False
        pgconn = raw.pgconn
        if self.errors_occurred or pgconn.transaction_status != TransactionStatus.IDLE:
            return bool(super().is_usable())
        if _has_input(pgconn.socket):
            return bool(super().is_usable())
        return True

    # --- A statement sent ahead ---------------------------------------------------

    def send_ahead(self, name: str, params: Sequence[str | None]) -> bool:
        """Start the prepared statement `name` with text `params`; do not wait for it.

        Answers whether it was sent: not when the statement is not prepared (`prepare`)
        on this connection, nor when the connection is in a failed transaction or busy;
        the caller then simply runs the statement when it needs it.

        No health check first: the statement is one. If the server has closed the
        session, `collect_ahead` finds it out, closes the connection and answers
        NOT_SENT, so the caller runs the statement on a new one, just as when Django's
        health check finds a connection unusable.
        """
        if self._ahead is not None:
            self.discard_ahead()
        raw = self.connection
        if raw is None:
            return False
        pgconn = raw.pgconn
        if self._prepared_in_session(name) is None:
            return False
        if pgconn.transaction_status not in _CAN_SEND_AHEAD:
            return False
        encoded = [None if value is None else value.encode() for value in params]
        with self.wrap_database_errors:
            # Rows in binary: a timestamp is read from eight bytes rather than parsed from text.
            pgconn.send_query_prepared(name.encode(), encoded, result_format=pq.Format.BINARY)
            self._ahead = _SentAhead(name=name, params=tuple(params), raw=raw, started=time.monotonic())
            while pgconn.flush():
                _wait(pgconn.socket, writable=True)
        return True

    def collect_ahead(self, name: str, params: Sequence[str | None]) -> list[Row] | Any:
        """The rows of the statement sent ahead, if it was this one with these parameters
        on this connection; otherwise NOT_SENT (and whatever was ahead is discarded).

        If the statement failed on the server, its error is raised here, and only here.
        If the session was lost (the server ended it before answering), the connection
        is closed and the answer is NOT_SENT.
        """
        ahead = self._ahead
        if ahead is None:
            return NOT_SENT
        self._receive_ahead()
        self._ahead = None
        if ahead.lost:
            self.close()
            return NOT_SENT
        if ahead.name != name or ahead.params != tuple(params) or ahead.raw is not self.connection:
            return NOT_SENT
        if ahead.error is not None:
            raise ahead.error
        return ahead.rows

    def discard_ahead(self) -> None:
        """Receive and drop the statement sent ahead, if any (the request did not need
        it); a failure of that statement is dropped with it."""
        if self._ahead is not None:
            self._receive_ahead()
            self._ahead = None

    def _receive_ahead(self) -> None:
        """Wait for the statement ahead and keep its rows, or its error, for collect_ahead."""
        ahead = self._ahead
        if ahead is None or ahead.received:
            return
        ahead.received = True
        if ahead.raw is not self.connection or ahead.raw.closed:
            self._ahead = None
            return
        pgconn = ahead.raw.pgconn
        try:
            with self.wrap_database_errors:
                pgconn.consume_input()
                while pgconn.is_busy():
                    _wait(pgconn.socket, writable=False)
                    pgconn.consume_input()
                result = pgconn.get_result()
                while pgconn.get_result() is not None:
                    pass
                if result is None or result.status != pq.ExecStatus.TUPLES_OK:
                    raise _error(result, ahead.raw.info.encoding)
                loader = self._loader_for(ahead.name, result)
                ahead.rows = loader.load_rows(0, result.ntuples, tuple)
                loader.set_pgresult(None, set_loaders=False)
        except DatabaseError as exc:
            # A session the server ended answers with its FATAL message, then end of file.
            if pgconn.status == pq.ConnStatus.BAD:
                ahead.lost = True
            else:
                ahead.error = exc
        finally:
            if self.queries_logged:
                self.queries_log.append(
                    {
                        "sql": f"EXECUTE {ahead.name}(...) -- sent ahead",
                        "time": f"{time.monotonic() - ahead.started:.3f}",
                    }
                )

    def _loader_for(self, name: str, result: pq.abc.PGresult) -> abc.Transformer:
        """The row loader of statement `name`, set to read `result`. Making one, and
        finding each column's loader, cost more than the rest of receiving the rows."""
        prepared = self._prepared_on[name]
        if prepared.loader is None:
            prepared.loader = Transformer(prepared.raw)
            prepared.loader.set_pgresult(result)
        else:
            prepared.loader.set_pgresult(result, set_loaders=False)
        return prepared.loader

    # Everything else that uses the connection receives the statement ahead first.

    def _cursor(self, name: str | None = None) -> Any:
        self._receive_ahead()
        return super()._cursor(name)  # type: ignore[misc]  # not in django-stubs

    def _commit(self) -> None:
        self._receive_ahead()
        super()._commit()  # type: ignore[misc]  # not in django-stubs

    def _rollback(self) -> None:
        self._receive_ahead()
        super()._rollback()  # type: ignore[misc]  # not in django-stubs

    def _set_autocommit(self, autocommit: bool) -> None:
        self._receive_ahead()
        super()._set_autocommit(autocommit)  # type: ignore[misc]  # not in django-stubs

    def _close(self) -> None:
        self._ahead = None
        super()._close()  # type: ignore[misc]  # not in django-stubs


def _error(result: pq.abc.PGresult | None, encoding: str) -> Exception:
    if result is None:
        return errors.OperationalError("the statement sent ahead returned no result")
    if result.status == pq.ExecStatus.FATAL_ERROR:
        return errors.error_from_result(result, encoding=encoding)
    status = pq.ExecStatus(result.status).name
    return errors.ProgrammingError(f"the statement sent ahead returned {status}, not rows")


def _wait(fd: int, *, writable: bool) -> None:
    if writable:
        select.select([], [fd], [])
    else:
        select.select([fd], [], [])


def _has_input(fd: int) -> bool:
    """Whether the socket has data or end of file waiting, without waiting for either."""
    poller = select.poll()
    poller.register(fd, select.POLLIN | select.POLLPRI)
    try:
        return bool(poller.poll(0))
    except OSError:
        return True
