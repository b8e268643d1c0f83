"""Streamed CSV and JSON exports of credential history.

An export is exactly what the history filter selects, every page, in the table's order,
with the user's visible columns. Rows are read `CHUNK_SIZE` at a time and written out as
they come, so memory stays flat however many rows there are (no tablib: it would hold
them all). Every value is plain text, and the file ends with the team's chain head and,
when a signing key is configured, a checkpoint of that head signed at export time
(`chain.sign_head`), which `verify_history --checkpoints FILE` checks with the public key.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any, Literal

from django.db import connection, transaction
from django.db.models import QuerySet
from django.http import StreamingHttpResponse
from django.utils.cache import patch_cache_control
from django.utils.http import content_disposition_header
from django.utils.text import slugify

from credentials.history import COLUMNS
from credentials.models import CredentialHistory, CredentialType
from tango_portal.core import chain

Format = Literal["csv", "json"]
FORMATS: tuple[Format, ...] = ("csv", "json")
CHUNK_SIZE = 2000
# Flush the CSV buffer to the client about every this many characters.
FLUSH_AT = 64 * 1024
CHAIN_HEAD_HEADER = "X-History-Chain-Head"
CHECKPOINT_HEADER = "X-History-Checkpoint"

# Spreadsheets run a cell that starts with one of these as a formula (CSV injection), and
# one set to a semicolon or comma locale splits a cell there first: each part counts.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_FORMULA_AT = re.compile(r"(^|[;,])(?=[=+\-@\t\r])")

# How each filter reads in a filename: ...-type-service_account-name-payroll.csv
FILENAME_LABELS = {
    "credential_type": "type",
    "name": "name",
    "action": "action",
    "user": "user",
    "date_from": "from",
    "date_to": "to",
}

_ACTIONS = dict(CredentialHistory.Action.choices)
_TYPES = dict(CredentialType.choices)


def parse_format(value: str) -> Format | None:
    """The export format named by `?_export=`, or None if it is not one we write."""
    if value == "csv":
        return "csv"
    if value == "json":
        return "json"
    return None


def _text(value: Any) -> str:
    return "" if value is None else str(value)


def _utc(value: datetime) -> str:
    # isoformat() is several times faster than strftime(), which shows at a million rows.
    return value.astimezone(UTC).isoformat(timespec="seconds")[:19] + "Z"


@dataclass(frozen=True)
class ExportColumn:
    name: str
    heading: str
    field: str
    text: Callable[[Any], str]


_FIELDS: dict[str, tuple[str, Callable[[Any], str]]] = {
    "action": ("action", lambda value: _ACTIONS.get(value, _text(value))),
    "credential_name": ("credential_name", _text),
    "date": ("occurred_at", _utc),
    "actor_name": ("actor_name", _text),
    "actor_email": ("actor_email", _text),
    "credential_identifier": ("credential_identifier", _text),
    "credential_type": ("credential_type", lambda value: _TYPES.get(value, _text(value))),
}


def export_columns(names: Iterable[str]) -> list[ExportColumn]:
    """The export's columns for these table column names, in table order."""
    wanted = set(names)
    return [ExportColumn(name, heading, *_FIELDS[name]) for name, heading in COLUMNS if name in wanted]


def export_filename(*, team_slug: str, filters: Mapping[str, str], fmt: Format, today: date) -> str:
    """Team, date and filter, e.g. acme-credential-history-2026-11-28-type-service_account.csv."""
    parts = [team_slug, "credential-history", today.isoformat()]
    for key, value in filters.items():
        label = FILENAME_LABELS.get(key)
        if label:
            parts += [label, slugify(value)[:40] or "x"]
    return f"{'-'.join(parts)[:200]}.{fmt}"


def neutralise_formula(value: str) -> str:
    """Make a spreadsheet show `value` as text rather than run it as a formula: a `'` before
    the value, and before every part after a `;` or `,`, that starts like a formula."""
    return _FORMULA_AT.sub(r"\1'", value)


def export_rows(
    queryset: QuerySet[CredentialHistory], columns: Sequence[ExportColumn]
) -> Iterator[list[str]]:
    """The rows as lists of text, read from the database CHUNK_SIZE at a time."""
    fields = [column.field for column in columns]
    with _read_snapshot():
        for values in queryset.values_list(*fields).iterator(chunk_size=CHUNK_SIZE):
            yield [column.text(value) for column, value in zip(columns, values, strict=True)]


@contextlib.contextmanager
def _read_snapshot() -> Iterator[None]:
    """On PostgreSQL, read inside a transaction so that `iterator()` streams from a plain
    server-side cursor; in autocommit mode Django would open it WITH HOLD, which makes
    PostgreSQL materialise the whole result before the first row is sent. SQLite reads one
    statement in WAL mode already, and a transaction there would take the write lock.
    """
    if connection.vendor == "postgresql" and not connection.in_atomic_block:
        with transaction.atomic():
            yield
    else:
        yield


def stream_csv(
    rows: Iterable[list[str]],
    columns: Sequence[ExportColumn],
    chain_head: str,
    checkpoint: Mapping[str, Any] | None = None,
) -> Iterator[str]:
    buffer = io.StringIO()
    # Every cell quoted, so that only the closing "#" lines start unquoted.
    writer = csv.writer(buffer, quoting=csv.QUOTE_ALL)
    writer.writerow([column.heading for column in columns])
    for row in rows:
        writer.writerow([neutralise_formula(value) for value in row])
        if buffer.tell() >= FLUSH_AT:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    buffer.write(f"# chain_head={chain_head}\r\n")
    if checkpoint:
        buffer.write(f"# checkpoint={_compact(checkpoint)}\r\n")
    yield buffer.getvalue()


def _compact(checkpoint: Mapping[str, Any]) -> str:
    return json.dumps(checkpoint, sort_keys=True, separators=(",", ":"))


def stream_json(
    rows: Iterable[list[str]],
    columns: Sequence[ExportColumn],
    chain_head: str,
    meta: Mapping[str, Any],
    checkpoint: Mapping[str, Any] | None = None,
) -> Iterator[str]:
    names = [column.name for column in columns]
    head = json.dumps({**meta, "checkpoint": checkpoint, "columns": names}, ensure_ascii=False)
    # The object is written by hand around the rows so that it can stream; "chain_head" is last.
    yield head[:-1] + ', "rows": ['
    chunk: list[str] = []
    first = True
    for row in rows:
        item = json.dumps(dict(zip(names, row, strict=True)), ensure_ascii=False)
        chunk.append(("\n" if first else ",\n") + item)
        first = False
        if len(chunk) >= CHUNK_SIZE:
            yield "".join(chunk)
            chunk = []
    chunk.append(f'\n], "chain_head": {json.dumps(chain_head)}}}\n')
    yield "".join(chunk)


def export_checkpoint(chain_head: tuple[int, str] | None) -> dict[str, Any] | None:
    """The signed checkpoint of the exported head, or None when history is empty or no
    signing key is configured (a development set-up; production sets one). A key that is
    set but malformed raises ImproperlyConfigured: better no export than an unsigned one."""
    if chain_head is None:
        return None
    team_id = CredentialHistory.objects.filter(pk=chain_head[0]).values_list("team_id", flat=True).first()
    if team_id is None:
        return None
    try:
        signed = chain.sign_head(CredentialHistory, team_id, chain_head)
    except chain.SigningKeyMissing:
        return None
    return signed.as_json() if signed else None


def export_response(
    *,
    queryset: QuerySet[CredentialHistory],
    column_names: Sequence[str],
    fmt: Format,
    filename: str,
    chain_head: tuple[int, str] | None,
    meta: Mapping[str, Any],
) -> StreamingHttpResponse:
    """Stream `queryset` (already scoped to the team and filtered) as a download.

    Only rows up to the chain head are written, so the file and the hash it carries
    describe the same moment even if history grows while it downloads. That head is
    signed (a stored checkpoint) and the file carries the checkpoint too.
    """
    head_id, head_hash = chain_head if chain_head else (0, "")
    checkpoint = export_checkpoint(chain_head)
    columns = export_columns(column_names)
    rows = export_rows(queryset.filter(id__lte=head_id), columns)
    if fmt == "csv":
        content: Iterator[str] = stream_csv(rows, columns, head_hash, checkpoint)
        content_type = "text/csv; charset=utf-8"
    else:
        content = stream_json(rows, columns, head_hash, meta, checkpoint)
        content_type = "application/json; charset=utf-8"
    response = StreamingHttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = content_disposition_header(as_attachment=True, filename=filename)
    response[CHAIN_HEAD_HEADER] = head_hash
    if checkpoint:
        response[CHECKPOINT_HEADER] = _compact(checkpoint)
    patch_cache_control(response, private=True, no_store=True)
    return response
