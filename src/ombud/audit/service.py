"""Appending to the audit log and reading it back; functions take the caller's session, flush, never commit.

The append path is the hot path of every brokered read, so it talks to the DB-API connection under the
session directly (same connection, same transaction): one statement takes the sequence row's lock and
allocates the leaf indexes, one inserts the events. The row lock (PostgreSQL) or the writer lock
(SQLite) is held until the caller's transaction ends, so committed indexes are gapless and in order;
a rollback takes the events and the allocation back together.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, select
from sqlalchemy.orm import Session

from ombud import clock
from ombud.audit.batch import prepare_many, prepare_one
from ombud.audit.events import AuditEvent, AuditRecord, PreparedEvent
from ombud.audit.models import AuditEntry, AuditSequence
from ombud.errors import InvalidInput, NotFound

_sha256 = hashlib.sha256

_LOCK_SEQUENCE = "UPDATE audit_sequence SET next_index = next_index + ? WHERE id = 1 RETURNING next_index"
_UNDO_SEQUENCE = "UPDATE audit_sequence SET next_index = next_index - ? WHERE id = 1"
_CREATE_SEQUENCE = (
    "INSERT INTO audit_sequence (id, next_index) SELECT 1, COALESCE(MAX(idx) + 1, 0) FROM audit_event WHERE true "
    "ON CONFLICT DO NOTHING"
)
_INSERT_EVENT = (
    "INSERT INTO audit_event (idx, at, action, actor_type, actor_id, customer_id, subject_type, subject_id, "
    "fields, purpose, decision, detail, leaf_hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)


@dataclass(frozen=True)
class Dialect:
    """How to talk to one kind of driver: its parameter style and how it wants timestamps."""

    name: str
    lock_sequence: str
    undo_sequence: str
    create_sequence: str
    insert_event: str

    @property
    def is_sqlite(self) -> bool:
        return self.name == "sqlite"


def _for_format_style(sql: str) -> str:
    return sql.replace("?", "%s")


_SQLITE = Dialect("sqlite", _LOCK_SEQUENCE, _UNDO_SEQUENCE, _CREATE_SEQUENCE, _INSERT_EVENT)
_POSTGRES = Dialect(
    "postgresql",
    _for_format_style(_LOCK_SEQUENCE),
    _for_format_style(_UNDO_SEQUENCE),
    _for_format_style(_CREATE_SEQUENCE),
    _for_format_style(_INSERT_EVENT),
)


_RAW_KEY = "ombud.audit.raw_connection"


def raw_connection(session: Session) -> tuple[Any, Dialect]:
    """The DB-API connection under the session's current transaction, and how to talk to it.

    Kept in the session's info for the rest of the innermost transaction (its connection does not change within
    one; the transaction object is held, so a later one can never be mistaken for it). A savepoint begun since
    is another transaction: asking the session for its connection is what emits the SAVEPOINT.
    """
    transaction = session.get_nested_transaction() or session.get_transaction()
    kept = session.info.get(_RAW_KEY)
    if kept is not None and transaction is not None and kept[0] is transaction:
        return kept[1], kept[2]
    dbapi, dialect = _raw_connection(session)
    session.info[_RAW_KEY] = (session.get_nested_transaction() or session.get_transaction(), dbapi, dialect)
    return dbapi, dialect


def _raw_connection(session: Session) -> tuple[Any, Dialect]:
    conn: Connection = session.connection()
    name = conn.dialect.name
    if name == "sqlite":
        dialect = _SQLITE
    elif name == "postgresql":
        dialect = _POSTGRES
    else:  # pragma: no cover - Ombud supports these two stores
        raise InvalidInput(f"the audit log does not support the {name} store")
    return conn.connection.dbapi_connection, dialect


_last_time: tuple[datetime | None, str] = (None, "")


def sqlite_time(at: datetime) -> str:
    """A UTC time in the text form SQLAlchemy stores on SQLite (so ORM reads and sorting agree).

    The last time converted is kept: a brokered read stores its one time three times (its count's day aside).
    """
    global _last_time
    last = _last_time
    if last[0] is at:  # the same (immutable) object, kept alive here, so never another one at its address
        return last[1]
    text = at.replace(tzinfo=None).isoformat(sep=" ", timespec="microseconds")
    _last_time = (at, text)
    return text


def _allocate(cursor: Any, dialect: Dialect, count: int) -> int:
    """Lock the sequence row and take `count` indexes; returns the first."""
    cursor.execute(dialect.lock_sequence, (count,))
    row = cursor.fetchone()
    if row is None:  # a store built without the migration: start the sequence where the events end
        cursor.execute(dialect.create_sequence)
        cursor.execute(dialect.lock_sequence, (count,))
        row = cursor.fetchone()
    return int(row[0]) - count


def _row(index: int, event: PreparedEvent, sqlite: bool) -> tuple[Any, ...]:
    data = event.leaf_data(index)
    return (
        index,
        sqlite_time(event.at) if sqlite else event.at,
        event.action,
        event.actor_type,
        event.actor_id,
        event.customer_id,
        event.subject_type,
        event.subject_id,
        event.fields_json,
        event.purpose,
        event.decision,
        event.detail_json,
        _sha256(b"\x00" + data).digest(),
    )


def _insert(session: Session, prepared: Sequence[PreparedEvent]) -> int:
    dbapi, dialect = raw_connection(session)
    cursor = dbapi.cursor()
    try:
        first = _allocate(cursor, dialect, len(prepared))
        sqlite = dialect.is_sqlite
        try:
            if len(prepared) == 1:
                cursor.execute(dialect.insert_event, _row(first, prepared[0], sqlite))
            else:
                rows = [_row(first + offset, event, sqlite) for offset, event in enumerate(prepared)]
                cursor.executemany(dialect.insert_event, rows)
        except Exception:
            # Give the indexes back so a caller that catches the error and commits leaves no gap
            # (PostgreSQL has aborted the transaction anyway; SQLite has not).
            with contextlib.suppress(Exception):  # the original error is the one to report
                cursor.execute(dialect.undo_sequence, (len(prepared),))
            raise
        return first
    finally:
        cursor.close()


def append_event(session: Session, event: AuditEvent) -> int:
    """Append one event in the caller's transaction; returns its leaf index (gapless sequence)."""
    prepared = prepare_one(event, clock.now())
    return _insert(session, (prepared,))


def append_events(session: Session, events: Sequence[AuditEvent]) -> list[int]:
    """Append events in order in the caller's transaction; returns their leaf indexes.

    Every event is checked before anything is written (InvalidInput names the first bad one's field).
    """
    if not events:
        return []
    prepared = prepare_many(events, clock.now())
    first = _insert_batch(session, prepared) if len(prepared) > 1 else _insert(session, prepared)
    return list(range(first, first + len(prepared)))


# --- the batched path (append_events): the same rows as _row, built in one loop and written in bulk ----------

#: COPY in binary: the column types in the order of _COLUMNS (varchar travels as text).
_COPY_TYPES = ["bigint", "timestamptz", *["text"] * 10, "bytea"]
_COPY_EVENTS = (
    "COPY audit_event (idx, at, action, actor_type, actor_id, customer_id, subject_type, subject_id, fields, "
    "purpose, decision, detail, leaf_hash) FROM STDIN (FORMAT BINARY)"
)


def _batch_rows(first: int, prepared: Sequence[PreparedEvent], sqlite: bool) -> list[tuple[Any, ...]]:
    """The stored rows of events at first, first + 1, ...: what _row gives, with the time converted once per
    distinct time (a batch's events mostly share the time of the append)."""
    sha = _sha256
    rows: list[tuple[Any, ...]] = []
    append = rows.append
    last_at: datetime | None = None
    stored_at: Any = None
    for index, event in enumerate(prepared, first):
        at = event.at
        if at is not last_at:
            last_at, stored_at = at, sqlite_time(at) if sqlite else at
        append((
            index, stored_at, event.action, event.actor_type, event.actor_id, event.customer_id, event.subject_type,
            event.subject_id, event.fields_json, event.purpose, event.decision, event.detail_json,
            sha(b"\x00\x01" + index.to_bytes(8, "big") + event.tail).digest(),  # 0x00 || leaf data
        ))
    return rows


def _insert_batch(session: Session, prepared: Sequence[PreparedEvent]) -> int:
    """Allocate indexes for the events and write them: executemany on SQLite, a binary COPY on PostgreSQL."""
    dbapi, dialect = raw_connection(session)
    cursor = dbapi.cursor()
    try:
        first = _allocate(cursor, dialect, len(prepared))
        try:
            rows = _batch_rows(first, prepared, dialect.is_sqlite)
            if dialect.is_sqlite:
                cursor.executemany(dialect.insert_event, rows)
            else:
                with cursor.copy(_COPY_EVENTS) as copy:
                    copy.set_types(_COPY_TYPES)
                    write = copy.write_row
                    for row in rows:
                        write(row)
        except Exception:
            with contextlib.suppress(Exception):  # as in _insert: give the indexes back, report the first error
                cursor.execute(dialect.undo_sequence, (len(prepared),))
            raise
        return first
    finally:
        cursor.close()


def log_size(session: Session) -> int:
    """How many events the log holds, as this transaction sees it."""
    value = session.scalar(select(AuditSequence.next_index).where(AuditSequence.id == 1))
    if value is None:
        value = session.scalar(select(AuditEntry.idx).order_by(AuditEntry.idx.desc()).limit(1))
        return 0 if value is None else value + 1
    return int(value)


def to_record(entry: AuditEntry) -> AuditRecord:
    """The stored row as a record."""
    return AuditRecord(
        index=entry.idx,
        at=entry.at,
        action=entry.action,
        actor_type=entry.actor_type,
        actor_id=entry.actor_id,
        customer_id=entry.customer_id,
        subject_type=entry.subject_type,
        subject_id=entry.subject_id,
        fields=tuple(json.loads(entry.fields)),
        purpose=entry.purpose,
        decision=entry.decision,
        detail=json.loads(entry.detail),
        leaf_hash=entry.leaf_hash,
    )


def get_event(session: Session, index: int) -> AuditRecord:
    """The event at a leaf index; NotFound when there is none."""
    entry = session.get(AuditEntry, index)
    if entry is None:
        raise NotFound(f"no audit event at index {index}", field="index")
    return to_record(entry)


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def list_events(
    session: Session,
    *,
    customer_id: str | None = None,
    actor_id: str | None = None,
    action_prefix: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    after_index: int | None = None,
    before_index: int | None = None,
    limit: int = 100,
    newest_first: bool = False,
    one_more: bool = False,
) -> list[AuditRecord]:
    """Events matching every given filter, in log order (or newest first), at most `limit` (1-1000).

    `action_prefix` matches whole dotted segments ("access" finds "access.read", not "accessory");
    `since` is inclusive, `until` exclusive; `after_index`/`before_index` page by leaf index. `one_more` fetches
    one event beyond the limit, so a page can tell whether another follows (the limit itself stays 1-1000).
    """
    if not 1 <= limit <= 1000:
        raise InvalidInput("limit must be between 1 and 1000", field="limit")
    if one_more:
        limit += 1
    query = select(AuditEntry)
    if customer_id is not None:
        query = query.where(AuditEntry.customer_id == customer_id)
    if actor_id is not None:
        query = query.where(AuditEntry.actor_id == actor_id)
    if action_prefix:
        prefix = action_prefix.rstrip(".")
        query = query.where(
            (AuditEntry.action == prefix) | AuditEntry.action.like(_escape_like(prefix) + ".%", escape="\\")
        )
    if since is not None:
        query = query.where(AuditEntry.at >= since.astimezone(UTC))
    if until is not None:
        query = query.where(AuditEntry.at < until.astimezone(UTC))
    if after_index is not None:
        query = query.where(AuditEntry.idx > after_index)
    if before_index is not None:
        query = query.where(AuditEntry.idx < before_index)
    order = AuditEntry.idx.desc() if newest_first else AuditEntry.idx
    query = query.order_by(order).limit(limit)
    return [to_record(entry) for entry in session.scalars(query)]
