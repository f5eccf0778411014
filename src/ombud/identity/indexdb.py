"""Bulk reads and writes of the identity index and the retail rows it is built from, on SQLite and PostgreSQL.

Everything here runs on the driver's own cursor inside the session's transaction (no ORM rows, no
statement compiled per id list): the index is written in batches of thousands of rows, and the ORM's
per-row work would cost more than the normalising. Ids are sent as a range when they are dense (an
import inserts consecutive ids), else as one array (PostgreSQL) or in chunks (SQLite).
"""

from __future__ import annotations

import gc
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy.orm import Session

#: Ids per statement on SQLite (well under its limit of 32,766 variables).
_SQLITE_IDS = 5000


def dumps(payload: dict[str, Any]) -> str:
    """A payload as compact JSON text."""
    return orjson.dumps(payload).decode()


class IndexDB:
    """The driver connection of a session, with the few statement shapes the index needs."""

    def __init__(self, session: Session) -> None:
        conn = session.connection()
        self.postgres = conn.dialect.name == "postgresql"
        self.raw: Any = conn.connection.driver_connection

    # --- generic ------------------------------------------------------------------------------------------

    def rows(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """Run SQL written with `?` placeholders; its rows."""
        if self.postgres:
            sql = sql.replace("?", "%s")
        cursor = self.raw.cursor()
        try:
            cursor.execute(sql, tuple(params))
            return cursor.fetchall() if cursor.description else []
        finally:
            cursor.close()

    def execute_many(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        if not rows:
            return
        if self.postgres:
            sql = sql.replace("?", "%s")
        cursor = self.raw.cursor()
        try:
            cursor.executemany(sql, rows)
        finally:
            cursor.close()

    def by_ids(self, sql: str, column: str, ids: Iterable[int]) -> list[tuple[Any, ...]]:
        """Rows of `sql` (with a `{where}` slot) whose `column` is one of `ids`; the first selected column is
        `column` itself, so rows of a dense range can be filtered here."""
        wanted = sorted(set(ids))
        if not wanted:
            return []
        lo, hi = wanted[0], wanted[-1]
        if hi - lo + 1 <= 2 * len(wanted) + 64:  # dense: one range scan, then keep the wanted ones
            found = self.rows(sql.format(where=f"{column} BETWEEN ? AND ?"), (lo, hi))
            if hi - lo + 1 == len(wanted):
                return found
            keep = set(wanted)
            return [row for row in found if row[0] in keep]
        if self.postgres:
            return self.rows(sql.format(where=f"{column} = ANY(?)"), (wanted,))
        out: list[tuple[Any, ...]] = []
        for start in range(0, len(wanted), _SQLITE_IDS):
            chunk = wanted[start : start + _SQLITE_IDS]
            out.extend(self.rows(sql.format(where=f"{column} IN ({', '.join('?' * len(chunk))})"), chunk))
        return out

    # --- the index tables ---------------------------------------------------------------------------------

    def records(self, owner: str, owner_ids: Iterable[int]) -> dict[int, tuple[int, dict[str, Any]]]:
        """owner id -> (record id, payload) of the records these accounts or applications have."""
        out = {}
        for oid, rid, payload in self.by_ids(
            f"SELECT {owner}, id, payload FROM identity_record WHERE {{where}}", owner, owner_ids
        ):
            out[oid] = (rid, orjson.loads(payload) if isinstance(payload, str | bytes) else payload)
        return out

    def _stamp(self, now: datetime) -> Any:
        # As UTCDateTime stores it: naive UTC text on SQLite, an aware timestamp on PostgreSQL.
        return now if self.postgres else now.replace(tzinfo=None).strftime("%Y-%m-%d %H:%M:%S.%f")

    def next_record_ids(self, n: int) -> list[int]:
        """`n` fresh record ids (the caller writes them in this transaction)."""
        if n <= 0:
            return []
        if self.postgres:
            found = self.rows("SELECT nextval(pg_get_serial_sequence('identity_record', 'id')) "
                              "FROM generate_series(1, ?)", (n,))
            return sorted(r[0] for r in found)
        # SQLite has one writer at a time and this transaction already writes: max(id) cannot move under us.
        top = self.rows("SELECT coalesce(max(id), 0) FROM identity_record")[0][0]
        return list(range(top + 1, top + 1 + n))

    def insert_records(self, owner: str, rows: Sequence[tuple[int, int, str]], now: datetime) -> None:
        """Insert (record id, owner id, payload JSON) rows."""
        if not rows:
            return
        stamp = self._stamp(now)
        columns = f"id, {owner}, payload, updated_at"
        if self.postgres:
            with self.raw.cursor() as cursor, cursor.copy(f"COPY identity_record ({columns}) FROM STDIN") as copy:
                for rid, oid, payload in rows:
                    copy.write_row((rid, oid, payload, stamp))
            return
        self.execute_many(f"INSERT INTO identity_record ({columns}) VALUES (?, ?, ?, ?)",
                          [(rid, oid, payload, stamp) for rid, oid, payload in rows])

    def update_records(self, rows: Sequence[tuple[int, str]], now: datetime) -> None:
        """Replace the payloads of (record id, payload JSON)."""
        if not rows:
            return
        stamp = self._stamp(now)
        if self.postgres:
            self.rows("UPDATE identity_record r SET payload = u.payload::jsonb, updated_at = ? "
                      "FROM unnest(?::bigint[], ?::text[]) AS u(id, payload) WHERE r.id = u.id",
                      (stamp, [r[0] for r in rows], [r[1] for r in rows]))
            return
        self.execute_many("UPDATE identity_record SET payload = ?, updated_at = ? WHERE id = ?",
                          [(payload, stamp, rid) for rid, payload in rows])

    def delete_records(self, record_ids: Sequence[int]) -> None:
        """Delete records (their keys go with them)."""
        if not record_ids:
            return
        if self.postgres:
            self.rows("DELETE FROM identity_block_key WHERE record_id = ANY(?)", (list(record_ids),))
            self.rows("DELETE FROM identity_record WHERE id = ANY(?)", (list(record_ids),))
            return
        self.execute_many("DELETE FROM identity_block_key WHERE record_id = ?", [(r,) for r in record_ids])
        self.execute_many("DELETE FROM identity_record WHERE id = ?", [(r,) for r in record_ids])

    def insert_keys(self, rows: list[tuple[int, int, int]]) -> None:
        """Insert (key, record id, kind) rows, in key order (B-tree pages are then filled in order)."""
        if not rows:
            return
        rows.sort()
        if self.postgres:
            # COPY is several times faster than batched INSERTs for millions of narrow rows.
            with self.raw.cursor() as cursor, cursor.copy(
                "COPY identity_block_key (key, record_id, kind) FROM STDIN"
            ) as copy:
                for row in rows:
                    copy.write_row(row)
            return
        self.execute_many("INSERT INTO identity_block_key (key, record_id, kind) VALUES (?, ?, ?)", rows)

    def delete_keys(self, pairs: list[tuple[int, int]]) -> None:
        """Delete (key, record id) rows."""
        if not pairs:
            return
        pairs.sort()
        if self.postgres:
            self.rows("DELETE FROM identity_block_key k USING unnest(?::bigint[], ?::bigint[]) AS d(key, record_id) "
                      "WHERE k.key = d.key AND k.record_id = d.record_id",
                      ([p[0] for p in pairs], [p[1] for p in pairs]))
            return
        self.execute_many("DELETE FROM identity_block_key WHERE key = ? AND record_id = ?", pairs)


def chunks(items: Sequence[Any], size: int) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


@contextmanager
def gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector during bulk work.

    Building the index allocates millions of small objects, most of them kept (the normalisers' caches);
    each full collection then walks all of them, which measured as much as half the CPU time of a
    rebuild. The index's objects hold no reference cycles, so reference counting frees them anyway.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
