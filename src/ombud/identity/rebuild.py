"""The full rebuild of the identity index (`ombud identity reindex`): set-based, batched, optionally parallel.

Accounts (then stand-alone credit applications) are cut into id ranges. Each range is read with one
statement per retail table, normalised (each distinct string once: see `ombud.identity.parts`), and
turned into payloads and blocking keys. With `workers > 1` ranges are prepared in worker processes,
each with its own connection (they read the retail tables, which the rebuild does not change), while
the main process writes.

Writing is arranged for bulk: records are appended in id order; the keys table loses its secondary
index (and on PostgreSQL its primary key and foreign key) while it is filled, and gets them back at
the end, built once from sorted data rather than maintained row by row. On SQLite, whose key table
is clustered on (key, record id), the keys are held in compact arrays, sorted, and written in key
order: appending to a B-tree is several times faster than inserting at random places in it.
"""

from __future__ import annotations

import gc
import io
import multiprocessing
import time
from array import array
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import polars as pl
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session
from sqlalchemy.schema import AddConstraint, CreateIndex, CreateTable, DropIndex, DropTable

from ombud import clock
from ombud.db import make_engine
from ombud.identity import index as ix
from ombud.identity.blocking import KeyHasher, record_key_texts
from ombud.identity.indexdb import IndexDB, dumps, gc_paused
from ombud.identity.models import IdentityBlockKey, IdentityIndexRun
from ombud.identity.record import compose_sorted
from ombud.identity.sources import account_sources, standalone_applications
from ombud.keys import KeyRing

Progress = Callable[[int], None]

#: Key rows per statement when the sorted keys are written (SQLite).
_WRITE_ROWS = 250_000


@dataclass
class Prepared:
    """One range, ready to write: owners and payloads in order, keys by position in the range, terms."""

    owner: str  # "account_id" or "application_id"
    owners: array[int] = field(default_factory=lambda: array("q"))
    payloads: list[str] = field(default_factory=list)
    key_record: array[int] = field(default_factory=lambda: array("q"))  # position of the key's record
    key_hash: array[int] = field(default_factory=lambda: array("q"))
    key_kind: array[int] = field(default_factory=lambda: array("b"))
    terms: Counter[tuple[str, str]] = field(default_factory=Counter)

    @property
    def count(self) -> int:
        return len(self.owners)


@dataclass
class ReindexResult:
    records: int
    keys: int
    seconds: float


def prepare_range(session: Session, hasher: KeyHasher, owner: str, lo: int, hi: int) -> Prepared:
    """Read, normalise and key one id range of accounts or of stand-alone applications."""
    db = IndexDB(session)
    if owner == "account_id":
        sources = account_sources(db, between=(lo, hi))
        idents = {oid: compose_sorted(srcs) for oid, srcs in sources.items()}
    else:
        idents = {aid: compose_sorted([src]) for aid, src in standalone_applications(db, (lo, hi)).items()}
    prepared = Prepared(owner)
    ix.count_terms(prepared.terms, idents.values())
    texts: list[str] = []
    for position, (oid, ident) in enumerate(sorted(idents.items())):
        prepared.owners.append(oid)
        prepared.payloads.append(dumps(ident.to_payload()))
        found = record_key_texts(ident)
        texts.extend(found)
        prepared.key_kind.extend(found.values())
        prepared.key_record.extend([position] * len(found))
    prepared.key_hash.extend(hasher.many(texts))
    return prepared


_worker_state: dict[str, Any] = {}


def _worker_init(url: str, secret: bytes) -> None:
    gc.disable()  # see indexdb.gc_paused; this process only prepares ranges
    engine: Engine = make_engine(url)
    _worker_state["engine"] = engine
    _worker_state["hasher"] = KeyHasher(secret)


def _worker_prepare(owner: str, lo: int, hi: int) -> Prepared:
    with Session(_worker_state["engine"]) as session:
        return prepare_range(session, _worker_state["hasher"], owner, lo, hi)


def _ranges(db: IndexDB, batch_size: int) -> Iterator[tuple[str, int, int, int]]:
    """(owner, first id, last id, how many) of every batch: accounts, then stand-alone applications."""
    account_ids = [r[0] for r in db.rows("SELECT id FROM retail_account ORDER BY id")]
    for start in range(0, len(account_ids), batch_size):
        chunk = account_ids[start : start + batch_size]
        yield "account_id", chunk[0], chunk[-1], len(chunk)
    app_ids = [r[0] for r in db.rows(
        "SELECT id FROM retail_credit_application WHERE account_id IS NULL ORDER BY id")]
    for start in range(0, len(app_ids), batch_size):
        chunk = app_ids[start : start + batch_size]
        yield "application_id", chunk[0], chunk[-1], len(chunk)


class _KeyWriter:
    """Empties the key table and fills it again: its index (and on PostgreSQL its primary and foreign key) off
    while filling, built again at the end, once, from sorted data. Names and DDL come from the model, so the
    table ends exactly as the migration made it."""

    def __init__(self, session: Session, db: IndexDB) -> None:
        self.session = session
        self.db = db
        self.count = 0
        self.hashes: array[int] = array("q")
        self.records: array[int] = array("q")
        self.kinds: array[int] = array("b")
        table = IdentityBlockKey.__table__
        self.index = next(iter(table.indexes))
        self.foreign_key = next(iter(table.foreign_key_constraints))
        conn = session.connection()
        if db.postgres:
            conn.execute(text("TRUNCATE identity_block_key"))
            # By name, not with SQLAlchemy's DropConstraint: that marks the model's constraint as no longer part
            # of its table, and a later CREATE TABLE in this process would leave it out.
            for constraint in (self.foreign_key, table.primary_key):
                conn.execute(text(f"ALTER TABLE identity_block_key DROP CONSTRAINT {constraint.name}"))
            conn.execute(DropIndex(self.index))
        else:
            # Row by row, SQLite would spend seconds per million keys deleting them (and as long again in the
            # index); dropping the table frees its pages at once.
            conn.execute(DropTable(table))
            conn.execute(CreateTable(table, include_foreign_key_constraints=None))

    def add(self, prepared: Prepared, first_record_id: int) -> None:
        records = array("q", (first_record_id + p for p in prepared.key_record))
        self.count += len(records)
        if self.db.postgres:  # no index to keep up: stream the rows in as they come
            frame = pl.DataFrame({"key": prepared.key_hash, "record_id": records, "kind": prepared.key_kind},
                                 schema={"key": pl.Int64, "record_id": pl.Int64, "kind": pl.Int16})
            self._copy(frame)
            return
        self.hashes.extend(prepared.key_hash)
        self.records.extend(records)
        self.kinds.extend(prepared.key_kind)

    def _copy(self, frame: pl.DataFrame) -> None:
        data = io.BytesIO()
        frame.write_csv(data, include_header=False)
        with self.db.raw.cursor() as cursor, cursor.copy(
            "COPY identity_block_key (key, record_id, kind) FROM STDIN (FORMAT csv)"
        ) as copy:
            copy.write(data.getvalue())

    def finish(self) -> None:
        db, conn = self.db, self.session.connection()
        if db.postgres:
            # isolate_from_table=False: leave the model's constraints part of its table (see __init__).
            conn.execute(AddConstraint(IdentityBlockKey.__table__.primary_key, isolate_from_table=False))
            conn.execute(CreateIndex(self.index))
            conn.execute(AddConstraint(self.foreign_key, isolate_from_table=False))
            return
        frame = pl.DataFrame({"key": self.hashes, "record_id": self.records, "kind": self.kinds},
                             schema={"key": pl.Int64, "record_id": pl.Int64, "kind": pl.Int16})
        self.hashes, self.records, self.kinds = array("q"), array("q"), array("b")
        frame = frame.sort("key", "record_id")
        sql = "INSERT INTO identity_block_key (key, record_id, kind) VALUES (?, ?, ?)"
        for start in range(0, frame.height, _WRITE_ROWS):
            part = frame.slice(start, _WRITE_ROWS)
            db.execute_many(sql, list(zip(*(part.get_column(c).to_list() for c in part.columns), strict=True)))
        conn.execute(CreateIndex(self.index))


def reindex(
    session: Session, keys: KeyRing, progress: Progress | None = None, batch_size: int = 5000, workers: int = 1
) -> ReindexResult:
    """Rebuild the whole index (records, keys, term frequencies) from the retail tables.

    `workers > 1` normalises in that many processes; they open their own connections, so the retail
    rows must be committed (as they are after an import).
    """
    with gc_paused():
        return _reindex(session, keys, progress, batch_size, workers)


def _reindex(session: Session, keys: KeyRing, progress: Progress | None, batch_size: int,
             workers: int) -> ReindexResult:
    started = clock.now()
    t0 = time.perf_counter()
    hasher = KeyHasher(keys.identifier_hash_key)
    db = IndexDB(session)
    key_writer = _KeyWriter(session, db)
    ix.clear(session)
    terms: Counter[tuple[str, str]] = Counter()
    next_id = 1
    records = 0
    now = clock.now()

    def consume(prepared: Prepared, count: int) -> None:
        nonlocal records, next_id
        first = next_id
        next_id += prepared.count
        db.insert_records(prepared.owner, list(zip(range(first, next_id), prepared.owners, prepared.payloads,
                                                   strict=True)), now)
        key_writer.add(prepared, first)
        records += prepared.count
        terms.update(prepared.terms)
        if progress:
            progress(count)

    ranges = list(_ranges(db, batch_size))
    if workers <= 1:
        for owner, lo, hi, count in ranges:
            consume(prepare_range(session, hasher, owner, lo, hi), count)
    else:
        url = session.get_bind().engine.url.render_as_string(hide_password=False)
        context = multiprocessing.get_context("spawn")  # no inherited connections in the workers
        with ProcessPoolExecutor(workers, mp_context=context, initializer=_worker_init,
                                 initargs=(url, keys.identifier_hash_key)) as pool:
            window: list[tuple[Future[Prepared], int]] = []
            for owner, lo, hi, count in ranges:
                window.append((pool.submit(_worker_prepare, owner, lo, hi), count))
                if len(window) >= workers * 2:
                    future, n = window.pop(0)
                    consume(future.result(), n)
            for future, n in window:
                consume(future.result(), n)
    key_writer.finish()
    ix.write_terms(session, terms)
    if db.postgres:  # ids were assigned here: move the sequence past them
        session.execute(text("SELECT setval(pg_get_serial_sequence('identity_record', 'id'), "
                             "(SELECT coalesce(max(id), 0) + 1 FROM identity_record), false)"))
    seconds = time.perf_counter() - t0
    session.add(IdentityIndexRun(started_at=started, finished_at=clock.now(), records=records,
                                 keys=key_writer.count, seconds=seconds))
    session.flush()
    return ReindexResult(records, key_writer.count, seconds)
