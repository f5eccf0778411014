"""The identity index in the database: built from the retail tables, kept current as imports arrive.

One `identity_record` per account (and per credit application that has no account) holds the record's
normalised identifiers; `identity_block_key` holds its blocking keys. Everything is set-based and
batched: a batch of accounts is read with one query per retail table, normalised in memory, and
written with one bulk insert per table. `import_callback` refreshes exactly the accounts an import
batch touched; `reindex` rebuilds everything; `ImportUpkeep` picks between them for an import.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from itertools import repeat
from typing import Any

from sqlalchemy import case, delete, func, insert, inspect, select, text
from sqlalchemy.orm import Session

from ombud import clock
from ombud.identity.blocking import KeyHasher, KeyKind, record_key_texts
from ombud.identity.indexdb import IndexDB, chunks, dumps, gc_paused
from ombud.identity.models import IdentityBlockKey, IdentityIndexRun, IdentityRecord, IdentityTerm
from ombud.identity.record import Identity, Parts, compose_sorted, decompose
from ombud.identity.sources import account_sources, changed_sources
from ombud.keys import KeyRing
from ombud.retail.models import Account, CreditApplication

Progress = Callable[[int], None]
#: Owners (accounts or applications) per round of reads and writes in the incremental upkeep.
_CHUNK = 5000


def hasher_for(keys: KeyRing) -> KeyHasher:
    """The blocking-key hasher of this deployment."""
    return KeyHasher(keys.identifier_hash_key)


# ---------------------------------------------------------------------------------------- writing


@dataclass
class Written:
    records: int = 0
    keys: int = 0
    unchanged: int = 0


@dataclass
class _Record:
    """One record's state in an upkeep: the stored version (if any) and the new one."""

    owner: int
    record_id: int | None
    old: Identity | None
    new: Identity


def _hash_rows(hasher: KeyHasher, texts: dict[str, int], record_id: int) -> list[tuple[int, int, int]]:
    return list(zip(hasher.many(texts), repeat(record_id), texts.values()))


def _store(db: IndexDB, hasher: KeyHasher, owner: str, records: list[_Record]) -> Written:
    """Write these records: new ones whole; changed ones as their new payload and the keys that differ."""
    now = clock.now()
    written = Written()
    fresh = [r for r in records if r.record_id is None]
    new_keys: list[tuple[int, int, int]] = []
    gone_keys: list[tuple[int, int]] = []
    inserts: list[tuple[int, int, str]] = []
    for record, new_id in zip(fresh, db.next_record_ids(len(fresh)), strict=True):
        record.record_id = new_id
        inserts.append((new_id, record.owner, dumps(record.new.to_payload())))
        new_keys.extend(_hash_rows(hasher, record_key_texts(record.new), new_id))
    db.insert_records(owner, inserts, now)
    updates: list[tuple[int, str]] = []
    for record in records:
        if record.old is None or record.record_id is None:
            continue
        rid = record.record_id
        updates.append((rid, dumps(record.new.to_payload())))
        # Only the keys that differ are hashed and written: texts are compared before hashing.
        before, after = record_key_texts(record.old), record_key_texts(record.new)
        added = {t: k for t, k in after.items() if t not in before}
        removed = [t for t in before if t not in after]
        new_keys.extend(_hash_rows(hasher, added, rid))
        gone_keys.extend((key, rid) for key in hasher.many(removed))
    db.update_records(updates, now)
    db.delete_keys(gone_keys)
    db.insert_keys(new_keys)
    written.records = len(fresh) + len(updates)
    written.keys = len(new_keys)
    return written


def _merge(db: IndexDB, hasher: KeyHasher, owner: str, changes: dict[int, dict[str, Parts]],
           stored: dict[int, tuple[int, dict[str, Any]]], fresh: dict[int, list[tuple[str, Parts]]]) -> Written:
    """Apply changed sources to stored records; owners with no record yet are built from `fresh` (all sources)."""
    records: list[_Record] = []
    for oid, (rid, payload) in stored.items():
        old = Identity.from_payload(payload)
        sources = decompose(old)
        changed = False
        for ref, parts in changes.get(oid, {}).items():
            if sources.get(ref, ()) != parts:
                changed = True
                if parts:
                    sources[ref] = parts
                else:
                    sources.pop(ref, None)
        if changed:
            records.append(_Record(oid, rid, old, compose_sorted(sources)))
    unchanged = len(stored) - len(records)
    records.extend(_Record(oid, None, None, compose_sorted(srcs)) for oid, srcs in fresh.items() if oid not in stored)
    written = _store(db, hasher, owner, records)
    written.unchanged += unchanged
    return written


def _add(total: Written, part: Written) -> Written:
    total.records += part.records
    total.keys += part.keys
    total.unchanged += part.unchanged
    return total


# ---------------------------------------------------------------------------- incremental upkeep


def refresh_accounts(session: Session, keys: KeyRing, account_ids: Iterable[int]) -> Written:
    """Rebuild the index records of these accounts from every one of their retail rows."""
    db, hasher = IndexDB(session), hasher_for(keys)
    total = Written()
    for chunk in chunks(sorted(set(account_ids)), _CHUNK):
        fresh = account_sources(db, chunk)
        stored = db.records("account_id", fresh)
        changes = {oid: dict(srcs) for oid, srcs in fresh.items()}
        # Sources the record holds that the retail tables no longer give (a row moved or deleted) go too.
        for oid, (_rid, payload) in stored.items():
            for ref in decompose(Identity.from_payload(payload)):
                changes[oid].setdefault(ref, ())
        _add(total, _merge(db, hasher, "account_id", changes, stored, fresh))
    return total


def _merge_accounts(db: IndexDB, hasher: KeyHasher, changes: dict[int, dict[str, Parts]]) -> Written:
    """Merge changed sources into their accounts' records; accounts not yet indexed are read whole."""
    total = Written()
    owners = sorted(changes)
    for chunk in chunks(owners, _CHUNK):
        stored = db.records("account_id", chunk)
        missing = [oid for oid in chunk if oid not in stored]
        fresh = account_sources(db, missing) if missing else {}
        _add(total, _merge(db, hasher, "account_id", changes, stored, fresh))
    return total


def _changes(rows: Iterable[tuple[int | None, str, Parts]]) -> dict[int, dict[str, Parts]]:
    out: dict[int, dict[str, Parts]] = {}
    for oid, ref, parts in rows:
        if oid is not None:
            out.setdefault(oid, {})[ref] = parts
    return out


def refresh_applications(session: Session, keys: KeyRing, application_ids: Iterable[int]) -> Written:
    """Index credit applications: stand-alone ones as records of their own, the others in their account's."""
    db, hasher = IndexDB(session), hasher_for(keys)
    rows = changed_sources(db, "credit_applications", application_ids)
    linked = [int(ref[1:]) for oid, ref, _ in rows if oid is not None]
    # An application now tied to an account no longer stands alone.
    gone = db.records("application_id", linked)
    db.delete_records([rid for rid, _ in gone.values()])
    alone = {int(ref[1:]): [(ref, parts)] for oid, ref, parts in rows if oid is None}
    stored = db.records("application_id", alone)
    changes = {oid: dict(srcs) for oid, srcs in alone.items()}
    total = _merge(db, hasher, "application_id", changes, stored, alone)
    return _add(total, _merge_accounts(db, hasher, _changes(rows)))


def apply_import_batch(session: Session, keys: KeyRing, kind: str, ids: list[int]) -> Written:
    """Bring the index up to date after an import batch of one record kind (internal ids).

    Only the batch's rows are read and normalised; each is merged into its record (an account not yet
    indexed is read whole), and only keys that change are written.
    """
    if not ids:
        return Written()
    if kind == "credit_applications":
        return refresh_applications(session, keys, ids)
    if kind in ("accounts", "addresses", "payment_methods"):
        db = IndexDB(session)
        return _merge_accounts(db, hasher_for(keys), _changes(changed_sources(db, kind, ids)))
    # Orders point at addresses and cards already indexed with their account; logins, notes, order lines
    # and employees carry no identifiers of the customer.
    return Written()


def import_callback(keys: KeyRing) -> Callable[[Session, str, list[int]], None]:
    """A callback for the importer: `on_batch(session, kind, ids)` inside each batch's transaction."""

    def on_batch(session: Session, kind: str, ids: list[int]) -> None:
        with gc_paused():
            apply_import_batch(session, keys, kind, ids)

    return on_batch


class ImportUpkeep:
    """How one import keeps the identity index current (what `ombud import` and the demo use).

    When the index already holds records, each batch is merged in inside the batch's own transaction
    (`import_callback`): the index is never behind what has landed. When it holds none (a first import, or
    a store never indexed), merging row by row would rebuild each account's record once per batch that
    touches it (its addresses, then its cards, ...); instead the rows land without upkeep and `finish`
    builds the whole index once, in bulk, the way `ombud identity reindex` does (term frequencies
    included). That build is one transaction: should it fail or be interrupted, the index stays empty
    and the next import (or `ombud identity reindex`) builds it.
    """

    def __init__(self, sessions: Callable[[], Session], keys: KeyRing, *, workers: int = 1) -> None:
        self.sessions = sessions
        self.keys = keys
        self.workers = workers
        self._sources: int | None = None
        with sessions() as session:
            bind = session.get_bind()
            # A store without the index's tables fails the import's own check, with its own message.
            self.bulk = inspect(bind).has_table(IdentityRecord.__tablename__) and is_empty(session)

    def callbacks(self) -> list[Callable[[Session, str, list[int]], None]]:
        """The import's per-batch callbacks: none when the index is built at the end."""
        return [] if self.bulk else [import_callback(self.keys)]

    def sources(self) -> int:
        """How many records `finish` will build (0 when the batches kept the index current)."""
        if not self.bulk:
            return 0
        if self._sources is None:  # the import has landed by now; counted once, for the bar and the build
            with self.sessions() as session:
                self._sources = count_sources(session)
        return self._sources

    #: Below this many records a build runs in one process (starting workers would cost more than it saves).
    PARALLEL_FROM = 50_000

    def finish(self, progress: Progress | None = None) -> Any:
        """Build the index now if the import left it to the end (its result), else None."""
        if not self.bulk:
            return None
        workers = self.workers if self.sources() >= self.PARALLEL_FROM else 1
        with self.sessions() as session, session.begin():
            return reindex(session, self.keys, progress=progress, workers=workers)


def is_empty(session: Session) -> bool:
    """True when the index holds no record."""
    return session.execute(select(IdentityRecord.id).limit(1)).first() is None


# ------------------------------------------------------------------------------------ full rebuild


def is_postgres(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def clear(session: Session) -> None:
    if is_postgres(session):
        session.execute(text("TRUNCATE identity_block_key, identity_record"))
    else:
        session.execute(delete(IdentityBlockKey))
        session.execute(delete(IdentityRecord))
    session.execute(delete(IdentityTerm))


def count_sources(session: Session) -> int:
    """Accounts plus credit applications with no account: the records a rebuild writes."""
    accounts = session.scalar(select(func.count()).select_from(Account)) or 0
    apps = session.scalar(
        select(func.count()).select_from(CreditApplication).where(CreditApplication.account_id.is_(None))
    ) or 0
    return accounts + apps


def reindex(session: Session, keys: KeyRing, progress: Progress | None = None, batch_size: int = 5000,
            workers: int = 1) -> Any:
    """Rebuild the whole index; see `ombud.identity.rebuild.reindex`."""
    from ombud.identity.rebuild import reindex as rebuild

    return rebuild(session, keys, progress, batch_size, workers)


# --------------------------------------------------------------------------------- term frequencies

#: Term-frequency tables and how a record's values feed them (each record counts a value once).
TERM_TABLES = ("given", "surname", "zip", "city")


def count_terms(terms: Counter[tuple[str, str]], idents: Iterable[Identity]) -> None:
    for ident in idents:
        values = {("given", g) for g in ident.givens() if len(g) > 1}
        values.update(("surname", s) for s in ident.surnames())
        values.update(("zip", z) for z in ident.zips())
        values.update(("city", c) for c in ident.cities())
        terms.update(values)


def write_terms(session: Session, terms: Counter[tuple[str, str]]) -> None:
    """Replace the term-frequency tables."""
    session.execute(delete(IdentityTerm))
    rows = [{"table": t, "value": v[:200], "count": n} for (t, v), n in terms.items() if n > 1]
    for start in range(0, len(rows), 20000):
        session.execute(insert(IdentityTerm), rows[start : start + 20000])


def recount_terms(session: Session, progress: Progress | None = None, batch_size: int = 20000) -> int:
    """Recompute term frequencies from the index itself (after incremental imports); the record count."""
    terms: Counter[tuple[str, str]] = Counter()
    last = 0
    n = 0
    while True:
        rows = session.execute(
            select(IdentityRecord.id, IdentityRecord.payload).where(IdentityRecord.id > last)
            .order_by(IdentityRecord.id).limit(batch_size)
        ).all()
        if not rows:
            break
        count_terms(terms, (Identity.from_payload(r.payload) for r in rows))
        n += len(rows)
        last = rows[-1].id
        if progress:
            progress(len(rows))
    write_terms(session, terms)
    return n


# ------------------------------------------------------------------------------------------- stats


def index_stats(session: Session, giant_block: int = 200) -> dict[str, Any]:
    """Sizes of the index: records, keys per kind, block size distribution, last rebuild."""
    records = session.scalar(select(func.count()).select_from(IdentityRecord)) or 0
    standalone = session.scalar(
        select(func.count()).select_from(IdentityRecord).where(IdentityRecord.application_id.is_not(None))
    ) or 0
    block_sizes = (
        select(IdentityBlockKey.kind, IdentityBlockKey.key, func.count().label("n"))
        .group_by(IdentityBlockKey.kind, IdentityBlockKey.key)
        .subquery()
    )
    kinds = []
    for row in session.execute(
        select(block_sizes.c.kind, func.count(), func.sum(block_sizes.c.n), func.max(block_sizes.c.n),
               func.sum(case((block_sizes.c.n > giant_block, 1), else_=0)))
        .group_by(block_sizes.c.kind).order_by(block_sizes.c.kind)
    ):
        kind, blocks, rows, largest, giants = row
        kinds.append({"kind": KeyKind(kind).name, "blocks": blocks, "keys": int(rows or 0),
                      "largest_block": largest, "giant_blocks": int(giants or 0)})
    last_run = session.scalars(select(IdentityIndexRun).order_by(IdentityIndexRun.id.desc()).limit(1)).first()
    sources = count_sources(session)
    return {
        "records": records,
        "application_records": standalone,
        "source_records": sources,
        "stale": sources != records,
        "keys": sum(k["keys"] for k in kinds),
        "kinds": kinds,
        "terms": dict(session.execute(select(IdentityTerm.table, func.count()).group_by(IdentityTerm.table)).all()),
        "last_reindex": None if last_run is None else {
            "finished_at": last_run.finished_at.isoformat(), "records": last_run.records, "keys": last_run.keys,
            "seconds": round(last_run.seconds, 1),
        },
    }

