"""The per-team hash chains of append-only records: their one writer, head and check.

Credential history (credentials/history.py) and team activity (members/activity.py) are
both `ChainedRecord`s. Each row stores the hash of the team's previous row and its own hash
over its record's `CHAINED_FIELDS`, so a changed row no longer matches its hash and a
removed row leaves its successor pointing at a hash that is not its predecessor's.

A chain stays a chain only if one team's rows are appended one after another. `append`
therefore takes the `LockedTeam` that `lock_team` returns: the service that writes locks
the team once, first in its transaction, and every row it appends links to the head read
under that lock.

A chain alone proves nothing to someone who can rewrite every row and recompute every hash
(plain SHA-256 needs no key). So the heads are signed: a `ChainCheckpoint` is (record,
team, head id, head hash, signed at) signed with an Ed25519 key that is held outside the
database (`HISTORY_SIGNING_KEY` or `HISTORY_SIGNING_KEY_FILE`). `verify` checks each
checkpoint with the public key only (`HISTORY_VERIFY_KEY` or `HISTORY_VERIFY_KEY_FILE`) and
that the chain still passes through the head it signed, so an auditor can check without
being able to forge, and a rewritten chain no longer matches what was signed before.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, ClassVar, Protocol, cast

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from django.apps import apps
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
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


# --- Signed checkpoints of the heads -----------------------------------------------

# Signed with every checkpoint, so that a signature over these bytes means nothing elsewhere.
CHECKPOINT_CONTEXT = "tango-portal chain checkpoint v1"
CHECKPOINT_FIELDS = ("context", "record", "team_id", "head_id", "head_hash", "signed_at", "key_id")


class SigningKeyMissing(ImproperlyConfigured):
    """The key a signature needs (private to sign, public to verify) is not configured."""


def _key_text(setting: str) -> bytes | None:
    """The key named by `setting` (the value itself) or `setting`_FILE (a file holding it)."""
    value = str(getattr(settings, setting, "") or "").strip()
    path = str(getattr(settings, f"{setting}_FILE", "") or "").strip()
    if value and path:
        raise ImproperlyConfigured(f"Set {setting} or {setting}_FILE, not both.")
    if path:
        try:
            return Path(path).read_bytes().strip()
        except OSError as error:
            raise ImproperlyConfigured(f"{setting}_FILE cannot be read: {error.strerror}.") from None
    return value.encode() if value else None


def _raw_or_pem(setting: str, text: bytes) -> bytes | None:
    """The 32 raw key bytes if `text` is base64 of them, None if it is PEM."""
    if text.startswith(b"-----BEGIN"):
        return None
    try:
        raw = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raw = b""
    if len(raw) != 32:
        # Never echo the value: it may be a private key.
        raise ImproperlyConfigured(f"{setting} must be a PEM Ed25519 key or base64 of its 32 raw bytes.")
    return raw


def signing_key() -> Ed25519PrivateKey:
    """The Ed25519 private key that signs checkpoints; SigningKeyMissing if none is set."""
    text = _key_text("HISTORY_SIGNING_KEY")
    if text is None:
        raise SigningKeyMissing(
            "No history signing key: set HISTORY_SIGNING_KEY or HISTORY_SIGNING_KEY_FILE."
        )
    raw = _raw_or_pem("HISTORY_SIGNING_KEY", text)
    if raw is not None:
        return Ed25519PrivateKey.from_private_bytes(raw)
    try:
        key = serialization.load_pem_private_key(text, password=None)
    except (ValueError, TypeError):
        key = None
    if not isinstance(key, Ed25519PrivateKey):
        raise ImproperlyConfigured("HISTORY_SIGNING_KEY is not an unencrypted Ed25519 private key.")
    return key


def verify_key() -> Ed25519PublicKey:
    """The Ed25519 public key that checks checkpoints; SigningKeyMissing if none is set.

    Only the public key: whoever verifies cannot sign, so an auditor given it cannot forge.
    """
    text = _key_text("HISTORY_VERIFY_KEY")
    if text is None:
        raise SigningKeyMissing(
            "No history verify key: set HISTORY_VERIFY_KEY or HISTORY_VERIFY_KEY_FILE "
            "(the public half of the signing key)."
        )
    raw = _raw_or_pem("HISTORY_VERIFY_KEY", text)
    if raw is not None:
        return Ed25519PublicKey.from_public_bytes(raw)
    try:
        key = serialization.load_pem_public_key(text)
    except (ValueError, TypeError):
        key = None
    if not isinstance(key, Ed25519PublicKey):
        raise ImproperlyConfigured("HISTORY_VERIFY_KEY is not an Ed25519 public key.")
    return key


def key_id(public: Ed25519PublicKey) -> str:
    """A short name for a public key: the start of the SHA-256 of its raw bytes."""
    raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:16]


def record_label(record: type[ChainedRecord]) -> str:
    """How a checkpoint names its record: the model's label, e.g. credentials.credentialhistory."""
    return record._meta.label_lower


def chained_records() -> list[type[ChainedRecord]]:
    """Every concrete record that is a chain (credential history, team activity), by label."""
    found = [model for model in apps.get_models() if issubclass(model, ChainedRecord)]
    return sorted(found, key=record_label)


@dataclass(frozen=True)
class SignedHead:
    """A checkpoint as data: what was signed, the signature, and where it was read from.

    The same whether it comes from the database or from a file an auditor kept (an
    export, the daily signing job's log), so both are checked by the one `verify`.
    """

    record: str
    team_id: int
    head_id: int
    head_hash: str
    signed_at: datetime
    key_id: str
    signature: str
    source: str = ""

    def message(self) -> bytes:
        """The bytes the signature covers."""
        return canonical(
            {
                "context": CHECKPOINT_CONTEXT,
                "record": self.record,
                "team_id": self.team_id,
                "head_id": self.head_id,
                "head_hash": self.head_hash,
                "signed_at": self.signed_at,
                "key_id": self.key_id,
            },
            CHECKPOINT_FIELDS,
        )

    def as_json(self) -> dict[str, Any]:
        """The checkpoint as an export or a log carries it (ASCII-safe JSON values)."""
        return {
            "record": self.record,
            "team_id": self.team_id,
            "head_id": self.head_id,
            "head_hash": self.head_hash,
            "signed_at": self.signed_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
            "key_id": self.key_id,
            "signature": self.signature,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any], *, source: str) -> SignedHead:
        """Read one back; ValueError if it is not a checkpoint."""
        try:
            signed_at = datetime.strptime(str(data["signed_at"]), "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)
            return cls(
                record=str(data["record"]),
                team_id=int(data["team_id"]),
                head_id=int(data["head_id"]),
                head_hash=str(data["head_hash"]),
                signed_at=signed_at,
                key_id=str(data["key_id"]),
                signature=str(data["signature"]),
                source=source,
            )
        except (KeyError, TypeError, ValueError) as error:
            raise ValueError(f"{source}: not a history checkpoint ({error}).") from None

    def misfit(self, public: Ed25519PublicKey) -> str:
        """Why the signature does not hold for `public`; "" if it does."""
        expected = key_id(public)
        if self.key_id != expected:
            return f"it names signing key {self.key_id}, not the verify key {expected}"
        try:
            public.verify(base64.b64decode(self.signature, validate=True), self.message())
        except (InvalidSignature, binascii.Error, ValueError):
            return "its signature does not verify (it was forged or changed)"
        return ""


class SignedCheckpoint(AppendOnlyModel):
    """A stored `SignedHead`: append-only, like the records whose heads it signs.

    Abstract here, so that the core imports no app; the identity app's ChainCheckpoint is
    the one table (looked up by name in `_checkpoint_model`).
    """

    record = models.CharField(max_length=100)
    team = models.ForeignKey("tango_portal.Team", on_delete=models.PROTECT, related_name="+")
    head_id = models.BigIntegerField()
    head_hash = models.CharField(max_length=64)
    signed_at = models.DateTimeField()
    key_id = models.CharField(max_length=16)
    signature = models.CharField(max_length=100)

    class Meta:
        abstract = True

    def as_signed(self) -> SignedHead:
        return SignedHead(
            record=self.record,
            team_id=int(self.team_id),
            head_id=self.head_id,
            head_hash=self.head_hash,
            signed_at=self.signed_at,
            key_id=self.key_id,
            signature=self.signature,
            source=f"checkpoint id {self.pk}",
        )


def _checkpoint_model() -> type[SignedCheckpoint]:
    return cast(type[SignedCheckpoint], apps.get_model("tango_portal", "ChainCheckpoint"))


def head_row(record: type[ChainedRecord], team_id: int) -> tuple[int, str] | None:
    """The id and hash of the team's newest row of `record`, or None if it has none."""
    newest = (
        record._default_manager.filter(team_id=team_id).order_by("-id").values_list("pk", "row_hash").first()
    )
    return (int(newest[0]), str(newest[1])) if newest else None


def sign_head(
    record: type[ChainedRecord], team_id: int, head: tuple[int, str] | None = None
) -> SignedHead | None:
    """Sign the team's head of `record` (or `head`, a row id and hash read earlier), and keep it.

    None if the chain is empty: there is nothing to vouch for. If the newest checkpoint
    already signs that head it is returned rather than signing again, so exporting often
    adds no rows. SigningKeyMissing if no signing key is configured. No lock is needed:
    rows are only ever appended, so a head that was in the chain stays in it.
    """
    key = signing_key()
    head = head or head_row(record, team_id)
    if head is None:
        return None
    head_id, head_hash = head
    label = record_label(record)
    model = _checkpoint_model()
    public = key.public_key()
    latest = model._default_manager.filter(record=label, team_id=team_id).order_by("-id").first()
    if latest is not None and (latest.head_id, latest.head_hash) == (head_id, head_hash):
        signed = latest.as_signed()
        if not signed.misfit(public):
            return signed
    unsigned = SignedHead(label, team_id, head_id, head_hash, timezone.now(), key_id(public), "")
    signature = base64.b64encode(key.sign(unsigned.message())).decode()
    row = model(
        record=label,
        team_id=team_id,
        head_id=head_id,
        head_hash=head_hash,
        signed_at=unsigned.signed_at,
        key_id=unsigned.key_id,
        signature=signature,
    )
    row.save()
    return row.as_signed()


@dataclass(frozen=True)
class ChainReport:
    record: str
    team_id: int
    rows: int
    head: str
    broken_row_id: int | None = None
    reason: str = ""
    # The signed checkpoints checked (None: not checked, no verify key), and the first bad one.
    checkpoints: int | None = None
    signed_up_to: int | None = None
    broken_checkpoint: str = ""

    @property
    def ok(self) -> bool:
        return self.broken_row_id is None and not self.broken_checkpoint


def _misfit(row: Mapping[str, Any], previous: str, names: tuple[str, ...]) -> str:
    """Why `row` does not belong after a row whose hash is `previous`; "" if it does."""
    if row["prev_hash"] != previous:
        return "its previous-row hash does not match the row before it (a row was removed or reordered)"
    if hash_of(row, names) != row["row_hash"]:
        return "its content does not match its hash (it was changed)"
    return ""


def checkpoints_of(record: type[ChainedRecord], team_id: int) -> list[SignedHead]:
    """The team's stored checkpoints of `record`, oldest first."""
    rows = _checkpoint_model()._default_manager.filter(record=record_label(record), team_id=team_id)
    return [row.as_signed() for row in rows.order_by("id")]


def verify(
    record: type[ChainedRecord],
    team_id: int,
    *,
    public_key: Ed25519PublicKey | None = None,
    kept: Iterable[SignedHead] = (),
) -> ChainReport:
    """Walk one team's rows of `record` in insertion order; stop at the first that does not fit.

    A changed row no longer matches its own hash; a removed row leaves its successor
    pointing at a hash that is not its predecessor's. With `public_key`, every signed
    checkpoint (stored ones and those `kept` outside the database) must carry a valid
    signature and the chain must pass through the row id and hash it signed: a chain
    rewritten and rehashed without the signing key fails at the first checkpoint after
    the first changed row. Without it only the hashes are checked (`checkpoints` is None).
    """
    names = record.CHAINED_FIELDS
    label = str(record._meta.verbose_name_plural)
    signed: list[SignedHead] = []
    if public_key is not None:
        signed = [*checkpoints_of(record, team_id), *kept]
        signed = [one for one in signed if one.record == record_label(record) and one.team_id == team_id]
        signed.sort(key=lambda one: one.head_id)
    pending = iter(signed)
    upcoming = next(pending, None)
    signed_up_to: int | None = None
    previous = GENESIS
    count = 0

    def report(**problem: Any) -> ChainReport:
        checked = None if public_key is None else len(signed)
        return ChainReport(
            label, team_id, count, previous, checkpoints=checked, signed_up_to=signed_up_to, **problem
        )

    def bad_checkpoint(checkpoint: SignedHead, why: str) -> ChainReport:
        return report(broken_checkpoint=f"{checkpoint.source} (head row id {checkpoint.head_id}): {why}")

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
            return report(broken_row_id=row["id"], reason=reason)
        previous = row["row_hash"]
        while public_key is not None and upcoming is not None and upcoming.head_id <= row["id"]:
            why = upcoming.misfit(public_key)
            if not why and upcoming.head_id < row["id"]:
                why = "the row it signed is no longer in the chain (it was removed)"
            if not why and upcoming.head_hash != row["row_hash"]:
                why = (
                    "the chain no longer passes through the head it signed "
                    "(rows up to it were changed and their hashes recomputed)"
                )
            if why:
                return bad_checkpoint(upcoming, why)
            signed_up_to = row["id"]
            upcoming = next(pending, None)
    if public_key is not None and upcoming is not None:
        why = (
            upcoming.misfit(public_key)
            or "the row it signed is no longer in the chain (the newest rows were removed)"
        )
        return bad_checkpoint(upcoming, why)
    return report()
