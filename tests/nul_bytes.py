"""Make every database refuse NUL in query parameters, as PostgreSQL does (DataError)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.db import DataError, connection


def _holds_nul(params: object) -> bool:
    if isinstance(params, str):
        return "\x00" in params
    if isinstance(params, dict):
        return any(_holds_nul(value) for value in params.values())
    if isinstance(params, list | tuple):
        return any(_holds_nul(value) for value in params)
    return False


def _refuse_nul(execute, sql, params, many, context):  # type: ignore[no-untyped-def]
    if _holds_nul(params):
        raise DataError("PostgreSQL text fields cannot contain NUL (0x00) bytes")
    return execute(sql, params, many, context)


@pytest.fixture
def database_refuses_nul() -> Iterator[None]:
    """SQLite stores NUL happily; with this, a NUL that reaches a query fails there too."""
    with connection.execute_wrapper(_refuse_nul):
        yield
