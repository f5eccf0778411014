"""Set-based writes for the import, on SQLite and PostgreSQL: a staging table, then one upsert per batch.

Rows arrive as a Polars frame whose columns are table columns. They are copied into a temporary staging
table (COPY on PostgreSQL, executemany on SQLite), then one `INSERT ... SELECT ... ON CONFLICT DO UPDATE
... WHERE <something differs> RETURNING id` lands them: new rows are inserted, changed rows updated,
identical rows left untouched (so a re-import writes nothing). Lookups of the retailer's ids are bulk
`IN` queries.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import polars as pl
import psycopg
from sqlalchemy import Connection
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

#: Bound parameters per `IN (...)` lookup; well under SQLite's limit of 32766.
LOOKUP_CHUNK = 5000
_SQLITE_DATETIME = "%Y-%m-%d %H:%M:%S.%6f"
#: Pages of write-ahead log between SQLite checkpoints during an import (default 1000).
SQLITE_CHECKPOINT_PAGES = 16_000
#: SQLite page cache during an import, in KiB (the store's default is 64 MiB).
SQLITE_CACHE_KIB = 512 * 1024


#: What a failing store raises: through SQLAlchemy, or from the driver's own cursor (the bulk paths).
STORE_ERRORS: tuple[type[Exception], ...] = (SQLAlchemyError, sqlite3.Error, psycopg.Error)


@dataclass(frozen=True)
class TableWrite:
    """How one kind's rows land in its table."""

    table: str
    #: Columns identifying a row (unique constraint used by ON CONFLICT).
    key: tuple[str, ...]
    #: Columns written on insert, in staging order (key columns included).
    columns: tuple[str, ...]
    #: Columns written on insert only, never on update (e.g. created_at of an employee).
    insert_only: tuple[str, ...] = ()
    #: Columns written on update but not compared (stamps such as updated_at).
    not_compared: tuple[str, ...] = ()
    #: Column -> SQL for its value on update, in place of `excluded.column`.
    update_expr: dict[str, str] = field(default_factory=dict)
    #: Rows only update existing ones (matched on `key`), never insert (the HR facts of known employees).
    update_only: bool = False
    #: Told apart from other writes to the same table in staging-table names.
    label: str = ""

    @property
    def stage(self) -> str:
        return f"_ombud_stage_{self.table}" + (f"_{self.label}" if self.label else "")

    @property
    def compared(self) -> tuple[str, ...]:
        skip = set(self.key) | set(self.insert_only) | set(self.not_compared) | set(self.update_expr)
        return tuple(c for c in self.columns if c not in skip)

    @property
    def updated(self) -> tuple[str, ...]:
        skip = set(self.key) | set(self.insert_only)
        return tuple(c for c in self.columns if c not in skip)


@dataclass
class Landed:
    """What one upsert did: ids of rows inserted and of rows changed; the rest were identical."""

    inserted: list[int]
    updated: list[int]
    unchanged: int


class Store:
    """Bulk reads and writes on one session's connection, in its transaction."""

    def __init__(self, session: Session) -> None:
        self.session = session

    @property
    def connection(self) -> Connection:
        # Asked afresh each time: after a commit the session may hold another pooled connection.
        return self.session.connection()

    @property
    def is_postgres(self) -> bool:
        return self.connection.dialect.name == "postgresql"

    # --- lookups -----------------------------------------------------------------------------------------

    def select_in(self, table: str, match: str, values: Iterable[str | None],
                  columns: Mapping[str, pl.DataType]) -> pl.DataFrame:
        """Rows of `table` whose text column `match` is one of `values`: a frame of `match` plus `columns`."""
        wanted = list({v for v in values if v is not None})
        names = ", ".join([match, *columns])
        found: list[tuple[Any, ...]] = []
        raw = self.connection.connection.driver_connection
        assert raw is not None
        cursor = raw.cursor()
        try:
            for start in range(0, len(wanted), LOOKUP_CHUNK):
                part = wanted[start : start + LOOKUP_CHUNK]
                # The driver's own cursor: bulk lookups skip SQLAlchemy's per-parameter work.
                if self.is_postgres:
                    cursor.execute(f"SELECT {names} FROM {table} WHERE {match} = ANY(%s)", (part,))
                else:
                    marks = ", ".join("?" * len(part))
                    cursor.execute(f"SELECT {names} FROM {table} WHERE {match} IN ({marks})", part)
                found.extend(cursor.fetchall())
        finally:
            cursor.close()
        return pl.DataFrame(found, schema={match: pl.String, **columns}, orient="row")

    def is_empty(self, table: str) -> bool:
        """True when `table` holds no row."""
        return self.connection.exec_driver_sql(f"SELECT 1 FROM {table} LIMIT 1").first() is None

    def row_estimate(self, table: str) -> int:
        """About how many rows `table` holds (its largest id: cheap, and exact after a first import)."""
        return int(self.connection.exec_driver_sql(f"SELECT max(id) FROM {table}").scalar() or 0)

    def load_map(self, table: str, columns: Mapping[str, pl.DataType]) -> pl.DataFrame:
        """Every row's external_id plus `columns`, read in one pass (COPY on PostgreSQL)."""
        names = ", ".join(["external_id", *columns])
        schema = {"external_id": pl.String, **columns}
        raw = self.connection.connection.driver_connection
        assert raw is not None
        if self.is_postgres:
            query = f"COPY (SELECT {names} FROM {table}) TO STDOUT (FORMAT csv)"
            with raw.cursor() as cursor, cursor.copy(query) as copy:
                data = b"".join(bytes(block) for block in copy)
            if not data:
                return pl.DataFrame(schema=schema)
            return pl.read_csv(data, has_header=False, new_columns=list(schema), schema=schema)
        cursor = raw.cursor()
        try:
            rows = cursor.execute(f"SELECT {names} FROM {table}").fetchall()
        finally:
            cursor.close()
        return pl.DataFrame(rows, schema=schema, orient="row")

    # --- writes ------------------------------------------------------------------------------------------

    def tune_for_import(self) -> None:
        """SQLite: a write-ahead log checkpointed less often and a bigger page cache, for this connection."""
        if not self.is_postgres:
            # Checkpoint the write-ahead log every ~64 MB rather than every 4 MB: index pages touched by many
            # batches are then written (and synced) once per checkpoint instead of once per batch.
            self.connection.exec_driver_sql(f"PRAGMA wal_autocheckpoint={SQLITE_CHECKPOINT_PAGES}")
            # A larger page cache keeps the indexes of big tables in memory while they grow in random order.
            self.connection.exec_driver_sql(f"PRAGMA cache_size=-{SQLITE_CACHE_KIB}")

    def _stage(self, spec: TableWrite, columns: Sequence[str], rows: pl.DataFrame,
               encoded: list[tuple[Any, ...]] | None = None) -> str:
        """Fill a temporary staging table with `rows` (anything left in it removed); its name."""
        stage = spec.stage + ("" if tuple(columns) == spec.columns else "_" + "_".join(columns))
        self.connection.exec_driver_sql(
            f"CREATE TEMPORARY TABLE IF NOT EXISTS {stage} AS SELECT {', '.join(columns)} FROM {spec.table} LIMIT 0"
        )
        self._empty(stage)
        self.tune_for_import()
        frame = rows.select(columns)
        if self.is_postgres:
            self._copy(stage, frame)
        else:
            marks = ", ".join("?" for _ in columns)
            self.connection.exec_driver_sql(f"INSERT INTO {stage} VALUES ({marks})",
                                            encoded if encoded is not None else sqlite_rows(frame))
        return stage

    def _empty(self, stage: str) -> None:
        # PostgreSQL: TRUNCATE, as deleted rows of a temporary table are never vacuumed and would pile up.
        self.connection.exec_driver_sql(f"{'TRUNCATE' if self.is_postgres else 'DELETE FROM'} {stage}")

    def _copy(self, stage: str, frame: pl.DataFrame) -> None:
        data = _postgres_csv(frame)
        raw = self.connection.connection.driver_connection
        assert raw is not None
        with raw.cursor() as cursor, cursor.copy(
            f"COPY {stage} ({', '.join(frame.columns)}) FROM STDIN (FORMAT csv)"
        ) as copy:
            copy.write(data)

    def insert_new(self, spec: TableWrite, rows: pl.DataFrame, encoded: list[tuple[Any, ...]] | None = None
                   ) -> list[int]:
        """Insert rows none of whose keys is in the table yet, straight into it; their new ids, in row order.

        `encoded`: the rows as `sqlite_rows` gives them, when the caller made them already (SQLite only).

        For a table that was empty when the file began (a first import): no staging table, no conflict
        handling, no RETURNING. Should a key be there after all, the store refuses the batch (unique key).
        """
        if rows.is_empty():
            return []
        frame = rows.select(spec.columns)
        raw = self.connection.connection.driver_connection
        assert raw is not None
        if self.is_postgres:
            # Ids drawn from the table's own sequence, so COPY can write the rows with their ids directly.
            with raw.cursor() as cursor:
                cursor.execute("SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)",
                               (spec.table, frame.height))
                ids = [r[0] for r in cursor.fetchall()]
            frame = frame.insert_column(0, pl.Series("id", ids, dtype=pl.Int64))
            self._copy(spec.table, frame)
            return ids
        self.tune_for_import()
        marks = ", ".join("?" for _ in spec.columns)
        cursor = raw.cursor()
        try:
            cursor.executemany(f"INSERT INTO {spec.table} ({', '.join(spec.columns)}) VALUES ({marks})",
                               encoded if encoded is not None else sqlite_rows(frame))
            # SQLite gives each new row the largest id plus one, and this transaction holds the write lock: the
            # rows just inserted are the last `height` ids.
            last = cursor.execute(f"SELECT max(id) FROM {spec.table}").fetchone()[0]
        finally:
            cursor.close()
        return list(range(last - frame.height + 1, last + 1))

    def upsert(self, spec: TableWrite, rows: pl.DataFrame, encoded: list[tuple[Any, ...]] | None = None) -> Landed:
        """Insert new rows, update changed ones, leave identical ones; one statement for the whole frame."""
        if rows.is_empty():
            return Landed([], [], 0)
        stage = self._stage(spec, spec.columns, rows, encoded)
        cols = ", ".join(spec.columns)
        sets = ", ".join(f"{c} = {spec.update_expr.get(c, f'excluded.{c}')}" for c in spec.updated)
        differs = " OR ".join(f"{spec.table}.{c} IS DISTINCT FROM excluded.{c}" for c in spec.compared)
        upsert = (
            f"INSERT INTO {spec.table} ({cols}) SELECT {cols} FROM {stage} WHERE true "
            f"ON CONFLICT ({', '.join(spec.key)}) DO UPDATE SET {sets} WHERE {differs} "
        )
        if self.is_postgres:
            # xmax is 0 on a row version this statement inserted (and not on one it updated).
            returned = self.connection.exec_driver_sql(upsert + "RETURNING id, xmax = 0").fetchall()
            inserted = [r[0] for r in returned if r[1]]
            updated = [r[0] for r in returned if not r[1]]
        else:
            # SQLite gives a new row the largest id plus one, so an id above the largest before is an insert.
            before = self.row_estimate(spec.table)
            changed = [r[0] for r in self.connection.exec_driver_sql(upsert + "RETURNING id").fetchall()]
            inserted = [i for i in changed if i > before]
            updated = [i for i in changed if i <= before]
        self._empty(stage)
        return Landed(inserted, updated, rows.height - len(inserted) - len(updated))

    def analyze(self, table: str) -> None:
        """Refresh the planner's statistics of a table that just grew (PostgreSQL), so lookups use its indexes."""
        if self.is_postgres:
            self.connection.exec_driver_sql(f"ANALYZE {table}")

    def update_existing(self, spec: TableWrite, rows: pl.DataFrame) -> Landed:
        """Update rows matched on the key where any column differs (nothing inserted); what changed."""
        columns = [c for c in spec.columns if c not in spec.key]
        changed = self.update_where_different(spec, columns, rows)
        return Landed([], changed, rows.height - len(changed))

    def update_where_different(self, spec: TableWrite, columns: Sequence[str], rows: pl.DataFrame) -> list[int]:
        """Set `columns` of existing rows (matched on the key) where they differ; the ids of rows changed."""
        if rows.is_empty():
            return []
        staged = (*spec.key, *columns)
        stage = self._stage(spec, staged, rows)
        match = " AND ".join(f"{spec.table}.{k} = s.{k}" for k in spec.key)
        sets = ", ".join(f"{c} = s.{c}" for c in columns)
        differs = " OR ".join(f"{spec.table}.{c} IS DISTINCT FROM s.{c}" for c in columns)
        sql = (f"UPDATE {spec.table} SET {sets} FROM {stage} s WHERE {match} AND ({differs}) "
               f"RETURNING {spec.table}.id")
        changed = [r[0] for r in self.connection.exec_driver_sql(sql)]
        self._empty(stage)
        return changed


def sqlite_rows(frame: pl.DataFrame) -> list[tuple[Any, ...]]:
    """Rows in the forms SQLAlchemy's SQLite types store (datetimes as text, booleans as 0/1), for executemany."""
    exprs = []
    for name, dtype in frame.schema.items():
        column = pl.col(name)
        if isinstance(dtype, pl.Datetime):
            exprs.append(column.dt.convert_time_zone("UTC").dt.strftime(_SQLITE_DATETIME))
        elif dtype == pl.Date:
            exprs.append(column.dt.strftime("%Y-%m-%d"))
        elif dtype == pl.Boolean:
            exprs.append(column.cast(pl.Int64))
        else:
            exprs.append(column)
    return frame.select(exprs).rows()


def _postgres_csv(frame: pl.DataFrame) -> bytes:
    """The frame as CSV that PostgreSQL's COPY reads: empty unquoted is NULL, bytea as hex."""
    exprs = []
    for name, dtype in frame.schema.items():
        column = pl.col(name)
        if isinstance(dtype, pl.Datetime):
            exprs.append(column.dt.convert_time_zone("UTC").dt.strftime("%Y-%m-%d %H:%M:%S.%6f+00"))
        elif dtype == pl.Binary:
            exprs.append(pl.lit("\\x") + column.bin.encode("hex"))
        else:
            exprs.append(column)
    return frame.select(exprs).write_csv(include_header=False).encode()
