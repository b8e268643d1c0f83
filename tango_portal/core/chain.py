"""The per-team hash chains of append-only records: their one writer, head and check.

Credential history (credentials/history.py) and team activity (members/activity.py) are
both `ChainedRecord`s. Each row stores the hash of the team's previous row and its own hash
over its record's `CHAINED_FIELDS`, so a changed row no longer matches its hash and a
removed row leaves its successor pointing at a hash that is not its predecessor's.

A chain stays a chain only if one team's rows are appended one after another. `append`
therefore takes the `LockedTeam` that `lock_team` returns: the service that writes locks
the team once, first in its transaction, and every row it appends links to the head read
under that lock.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, ClassVar, Protocol

from django.conf import settings
from django.db import models, transaction
from django.db.transaction import TransactionManagementError
from django.utils import timezone

from tango_portal.core.append_only import AppendOnlyModel

GENESIS = ""
NAME_MAX_LENGTH = 150
EMAIL_MAX_LENGTH = 254


# --- The team lock ------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class LockedTeam[T: models.Model]:
    """A team whose row the current transaction holds locked (SELECT ... FOR UPDATE).

    Made only by `lock_team`, and valid only while the `transaction.atomic()` block that
    took the lock is open (leaving it by a rollback releases the lock): keep it in the
    service that took it, never across transactions. Writers of the team's chains require
    one, so a caller that did not lock does not type-check, and one that kept a stale lock
    is refused when it writes.
    """

    team: T
    _block: object = field(repr=False, compare=False)

    @property
    def pk(self) -> int:
        return int(self.team.pk)

    def is_held(self) -> bool:
        """Whether the atomic block that took the lock is still open on this thread's connection."""
        return any(block is self._block for block in transaction.get_connection().atomic_blocks)


def lock_team[T: models.Model](team: T) -> LockedTeam[T]:
    """Lock the team's row until the current transaction ends; return it, re-read under the lock.

    Every write of a team takes this lock first, once, in its `transaction.atomic()` block:
    the limits on active credentials, "a team always keeps an admin" and the team's hash
    chains all rely on its writers running one after another. Taking it before any other
    row lock keeps the order the same for every writer (PostgreSQL; SQLite serialises all
    writers already). Outside a transaction a lock would end at once, so that is refused.
    """
    connection = transaction.get_connection()
    if not connection.in_atomic_block:
        raise TransactionManagementError(
            "lock_team() needs a transaction: call it inside transaction.atomic()."
        )
    locked = type(team)._default_manager.select_for_update().get(pk=team.pk)
    return LockedTeam(locked, connection.atomic_blocks[-1])


# --- The records ----------------------------------------------------------------------


def person_reference() -> models.ForeignKey[Any, Any]:
    """A row's reference to a user, without a database constraint: the row outlives the user."""
    return models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        null=True,
        blank=True,
        related_name="+",
    )


def name_snapshot(verbose_name: str) -> models.CharField[Any, Any]:
    """A copy of a user's name as it was when the row was written."""
    return models.CharField(verbose_name, max_length=NAME_MAX_LENGTH, blank=True)


def email_snapshot(verbose_name: str) -> models.CharField[Any, Any]:
    """A copy of a user's email as it was when the row was written."""
    return models.CharField(verbose_name, max_length=EMAIL_MAX_LENGTH, blank=True)


class ChainedRecord(AppendOnlyModel):
    """An append-only record whose rows form one hash chain per team.

    Rows are written only by `append`. Each record names the fields its hash covers in
    `CHAINED_FIELDS` (the hash ignores their order). Changing that list breaks every
    chain of the record: the rows already written were hashed over the old one.
    """

    CHAINED_FIELDS: ClassVar[tuple[str, ...]]

    # By name: the core imports no app, and Team is the identity app's.
    team = models.ForeignKey("tango_portal.Team", on_delete=models.PROTECT, related_name="+")
    occurred_at = models.DateTimeField(default=timezone.now)
    prev_hash = models.CharField(max_length=64, blank=True, editable=False)
    row_hash = models.CharField(max_length=64, editable=False)

    class Meta:
        abstract = True


class Person(Protocol):
    """Whom a row names: a user, of whom it keeps a copy of the name and email."""

    @property
    def full_name(self) -> str: ...

    @property
    def email(self) -> str: ...


def snapshot(role: str, person: Person | None) -> dict[str, Any]:
    """The row fields `<role>`, `<role>_name` and `<role>_email` for `person` as they are now,
    so that the row still says who it was after they are renamed or removed."""
    return {
        role: person,
        f"{role}_name": (person.full_name if person else "")[:NAME_MAX_LENGTH],
        f"{role}_email": (person.email if person else "")[:EMAIL_MAX_LENGTH],
    }


# --- Hashing, appending, reading the head, verifying -----------------------------------


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


def row_hash(row: ChainedRecord) -> str:
    """The hash a row of its record must carry, over its record's CHAINED_FIELDS."""
    names = type(row).CHAINED_FIELDS
    return hash_of({name: getattr(row, name) for name in names}, names)


def append[R: ChainedRecord](record: type[R], *, team: LockedTeam[Any], **fields: Any) -> R:
    """Add one row to the team's chain of `record`, inside the caller's transaction.

    `team` is the lock this transaction took (`lock_team`): while it is held nobody else
    appends to the team's chains, so the head read here is still the head when the row
    is inserted. The row happens now, links to that head and carries its own hash. A
    value outside its field's choices (an action the record does not know) is refused
    with ValueError before anything is written.
    """
    if not isinstance(team, LockedTeam):
        raise TypeError(
            f"Writing {record._meta.verbose_name_plural} needs the team locked: pass lock_team(team)."
        )
    if not team.is_held():
        raise TransactionManagementError(
            f"Writing {record._meta.verbose_name_plural} needs the team locked in this transaction: "
            "the block that locked it has ended."
        )
    for name, value in fields.items():
        column = record._meta.get_field(name)
        if isinstance(column, models.Field) and column.choices and value not in dict(column.flatchoices):
            raise ValueError(f"Unknown {record._meta.verbose_name_plural} {column.verbose_name} {value!r}.")
    row = record(
        team=team.team,
        # Microseconds are hashed as Python has them; both databases store them unchanged.
        occurred_at=timezone.now(),
        prev_hash=head(record, team.pk),
        **fields,
    )
    row.row_hash = row_hash(row)
    row.save()
    return row


def head(record: type[ChainedRecord], team_id: int) -> str:
    """The hash of the team's newest row, which the next row links to (GENESIS if none)."""
    newest = (
        record._default_manager.filter(team_id=team_id)
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


def _misfit(row: Mapping[str, Any], previous: str, names: tuple[str, ...]) -> str:
    """Why `row` does not belong after a row whose hash is `previous`; "" if it does."""
    if row["prev_hash"] != previous:
        return "its previous-row hash does not match the row before it (a row was removed or reordered)"
    if hash_of(row, names) != row["row_hash"]:
        return "its content does not match its hash (it was changed)"
    return ""


def verify(record: type[ChainedRecord], team_id: int) -> ChainReport:
    """Walk one team's rows of `record` in insertion order; stop at the first that does not fit.

    A changed row no longer matches its own hash; a removed row leaves its successor
    pointing at a hash that is not its predecessor's.
    """
    names = record.CHAINED_FIELDS
    label = str(record._meta.verbose_name_plural)
    previous = GENESIS
    count = 0
    rows: Iterator[dict[str, Any]] = (
        record._default_manager.filter(team_id=team_id)
        .order_by("id")
        .values("id", "row_hash", *names)
        .iterator(chunk_size=5000)
    )
    for row in rows:
        count += 1
        reason = _misfit(row, previous, names)
        if reason:
            return ChainReport(label, team_id, count, previous, row["id"], reason)
        previous = row["row_hash"]
    return ChainReport(label, team_id, count, previous)
