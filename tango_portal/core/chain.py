"""Verifying the per-team hash chains of append-only records."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from django.db.models import Model

GENESIS = ""


def canonical(fields: Mapping[str, Any], names: tuple[str, ...]) -> bytes:
    """The bytes a row's hash covers: the named fields as canonical JSON, times in UTC."""
    values: dict[str, Any] = {}
    for name in names:
        value = fields[name]
        if isinstance(value, datetime):
            value = value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        values[name] = value
    return json.dumps(values, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def hash_of(fields: Mapping[str, Any], names: tuple[str, ...]) -> str:
    return hashlib.sha256(canonical(fields, names)).hexdigest()


def hash_of_row(row: object, names: tuple[str, ...]) -> str:
    return hash_of({name: getattr(row, name) for name in names}, names)


def head(model: type[Model], team_id: int) -> str:
    """The hash of the team's newest row, which the next row links to (GENESIS if none)."""
    newest = (
        model._default_manager.filter(team_id=team_id)
        .order_by("-id")
        .values_list("row_hash", flat=True)
        .first()
    )
    return newest or GENESIS


@dataclass(frozen=True)
class ChainReport:
    record: str
    team_id: int
    rows: int
    head: str
    broken_row_id: int | None = None
    reason: str = ""

    @property
    def ok(self) -> bool:
        return self.broken_row_id is None


def verify_chain(
    *,
    model: type[Model],
    team_id: int,
    fields: tuple[str, ...],
    record: str,
) -> ChainReport:
    """Walk one team's rows in insertion order; stop at the first row that does not fit.

    A changed row no longer matches its own hash; a removed row leaves its successor
    pointing at a hash that is not its predecessor's.
    """
    previous = GENESIS
    count = 0
    rows: Iterator[dict[str, Any]] = (
        model._default_manager.filter(team_id=team_id)
        .order_by("id")
        .values("id", "row_hash", *fields)
        .iterator(chunk_size=5000)
    )
    for row in rows:
        count += 1
        if row["prev_hash"] != previous:
            return ChainReport(
                record,
                team_id,
                count,
                previous,
                row["id"],
                "its previous-row hash does not match the row before it (a row was removed or reordered)",
            )
        if hash_of(row, fields) != row["row_hash"]:
            return ChainReport(
                record,
                team_id,
                count,
                previous,
                row["id"],
                "its content does not match its hash (it was changed)",
            )
        previous = row["row_hash"]
    return ChainReport(record, team_id, count, previous)
