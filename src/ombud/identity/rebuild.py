"""The full rebuild of the identity index (`ombud identity reindex`): set-based, batched, optionally parallel.

Accounts (then stand-alone credit applications) are cut into id ranges. Each range is read with one
statement per retail table, normalised, and turned into payloads and blocking keys; the main process
writes the results in order into the emptied tables with the driver's bulk path (COPY on PostgreSQL).
With `workers > 1` the reading and normalising of ranges runs in worker processes, each with its own
connection (they read the retail tables, which the rebuild does not change), so the Python work of
normalising spreads over the cores while the main process writes.
"""

from __future__ import annotations

import json
import multiprocessing
import time
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine, select, text
from sqlalchemy.orm import Session

from ombud import clock
from ombud.db import make_engine
from ombud.identity import index as ix
from ombud.identity.blocking import KeyHasher, record_keys
from ombud.identity.models import IdentityIndexRun
from ombud.keys import KeyRing
from ombud.retail.models import Account, CreditApplication

Progress = Callable[[int], None]


@dataclass
class Prepared:
    """One range, ready to write: (owner id, payload JSON, sorted keys) per record, and its terms."""

    owner: str  # "account_id" or "application_id"
    count: int
    rows: list[tuple[int, str, list[tuple[int, int]]]] = field(default_factory=list)
    terms: Counter[tuple[str, str]] = field(default_factory=Counter)


@dataclass
class ReindexResult:
    records: int
    keys: int
    seconds: float


def prepare_range(session: Session, hasher: KeyHasher, owner: str, lo: int, hi: int) -> Prepared:
    """Read, normalise and key one id range of accounts or of stand-alone applications."""
    if owner == "account_id":
        idents = ix.account_identities(session, Account.id.between(lo, hi), lambda col: col.between(lo, hi))
    else:
        idents = ix.application_identities(session, CreditApplication.id.between(lo, hi))
    prepared = Prepared(owner, len(idents))
    ix.count_terms(prepared.terms, idents.values())
    for oid, ident in idents.items():
        prepared.rows.append((oid, json.dumps(ident.to_payload(), separators=(",", ":")),
                              sorted(record_keys(ident, hasher))))
    return prepared


_worker_state: dict[str, Any] = {}


def _worker_init(url: str, secret: bytes) -> None:
    engine: Engine = make_engine(url)
    _worker_state["engine"] = engine
    _worker_state["hasher"] = KeyHasher(secret)


def _worker_prepare(owner: str, lo: int, hi: int) -> Prepared:
    with Session(_worker_state["engine"]) as session:
        return prepare_range(session, _worker_state["hasher"], owner, lo, hi)


def _ranges(session: Session, batch_size: int) -> Iterator[tuple[str, int, int, int]]:
    """(owner, first id, last id, how many) of every batch: accounts, then stand-alone applications."""
    account_ids = list(session.scalars(select(Account.id).order_by(Account.id)))
    for start in range(0, len(account_ids), batch_size):
        chunk = account_ids[start : start + batch_size]
        yield "account_id", chunk[0], chunk[-1], len(chunk)
    app_ids = list(session.scalars(
        select(CreditApplication.id).where(CreditApplication.account_id.is_(None)).order_by(CreditApplication.id)))
    for start in range(0, len(app_ids), batch_size):
        chunk = app_ids[start : start + batch_size]
        yield "application_id", chunk[0], chunk[-1], len(chunk)


def _write(session: Session, prepared: Prepared, next_id: list[int], now: Any) -> int:
    records = []
    key_rows: list[tuple[int, int, int]] = []
    for oid, payload, keys in prepared.rows:
        rid = next_id[0]
        next_id[0] += 1
        records.append((rid, oid, payload))
        key_rows.extend((key, rid, kind) for key, kind in keys)
    ix.bulk_insert_payloads(session, records, prepared.owner, now)
    key_rows.sort()
    ix.bulk_insert_keys(session, key_rows)
    return len(key_rows)


def reindex(
    session: Session, keys: KeyRing, progress: Progress | None = None, batch_size: int = 5000, workers: int = 1
) -> ReindexResult:
    """Rebuild the whole index (records, keys, term frequencies) from the retail tables.

    `workers > 1` normalises in that many processes; they open their own connections, so the retail
    rows must be committed (as they are after an import).
    """
    started = clock.now()
    t0 = time.perf_counter()
    hasher = KeyHasher(keys.identifier_hash_key)
    ix.clear(session)
    terms: Counter[tuple[str, str]] = Counter()
    next_id = [1]
    records = keys_written = 0
    now = clock.now()

    def consume(prepared: Prepared, count: int) -> None:
        nonlocal records, keys_written
        keys_written += _write(session, prepared, next_id, now)
        records += prepared.count
        terms.update(prepared.terms)
        if progress:
            progress(count)

    ranges = list(_ranges(session, batch_size))
    if workers <= 1:
        for owner, lo, hi, count in ranges:
            consume(prepare_range(session, hasher, owner, lo, hi), count)
    else:
        url = session.get_bind().engine.url.render_as_string(hide_password=False)
        context = multiprocessing.get_context("spawn")  # no inherited connections in the workers
        with ProcessPoolExecutor(workers, mp_context=context, initializer=_worker_init,
                                 initargs=(url, keys.identifier_hash_key)) as pool:
            window: list[tuple[Future[Prepared], int]] = []
            pending = iter(ranges)
            for owner, lo, hi, count in pending:
                window.append((pool.submit(_worker_prepare, owner, lo, hi), count))
                if len(window) >= workers * 2:
                    future, n = window.pop(0)
                    consume(future.result(), n)
            for future, n in window:
                consume(future.result(), n)
    ix.write_terms(session, terms)
    if ix.is_postgres(session):  # ids were assigned here: move the sequence past them
        session.execute(text("SELECT setval(pg_get_serial_sequence('identity_record', 'id'), "
                             "(SELECT coalesce(max(id), 0) + 1 FROM identity_record), false)"))
    seconds = time.perf_counter() - t0
    session.add(IdentityIndexRun(started_at=started, finished_at=clock.now(), records=records, keys=keys_written,
                                 seconds=seconds))
    session.flush()
    return ReindexResult(records, keys_written, seconds)
