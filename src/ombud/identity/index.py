"""The identity index in the database: built from the retail tables, kept current as imports arrive.

One `identity_record` per account (and per credit application that has no account) holds the record's
normalised identifiers; `identity_block_key` holds its blocking keys. Everything is set-based and
batched: a batch of accounts is read with one query per retail table, normalised in memory, and
written with one bulk insert per table. `import_callback` refreshes exactly the accounts an import
batch touched; `reindex` rebuilds everything.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, case, delete, func, insert, select, text, update
from sqlalchemy.orm import Session

from ombud import clock
from ombud.identity.address import normalize_address
from ombud.identity.blocking import KeyHasher, KeyKind, record_keys
from ombud.identity.models import IdentityBlockKey, IdentityIndexRun, IdentityRecord, IdentityTerm
from ombud.identity.normalize import normalize_email, normalize_phone, parse_name
from ombud.identity.record import Identity
from ombud.keys import KeyRing
from ombud.retail.models import Account, Address, CreditApplication, PaymentMethod

Progress = Callable[[int], None]
_CHUNK = 2000


def hasher_for(keys: KeyRing) -> KeyHasher:
    """The blocking-key hasher of this deployment."""
    return KeyHasher(keys.identifier_hash_key)


# ------------------------------------------------------------------------------------ reading rows


def _add_application(ident: Identity, app: Any) -> None:
    ref = f"c{app.id}"
    ident.add("names", parse_name(app.applicant_name), ref)
    ident.add("dobs", app.date_of_birth, ref)
    ident.add("ssns", app.ssn_hash, ref)
    ident.add("emails", normalize_email(app.email), ref)
    ident.add("phones", normalize_phone(app.phone), ref)
    ident.add("addresses", normalize_address(app.line1, app.line2, app.city, app.region, app.postal_code,
                                             app.country), ref)


_APP_COLUMNS = (
    CreditApplication.id, CreditApplication.account_id, CreditApplication.applicant_name,
    CreditApplication.date_of_birth, CreditApplication.ssn_hash, CreditApplication.email, CreditApplication.phone,
    CreditApplication.line1, CreditApplication.line2, CreditApplication.city, CreditApplication.region,
    CreditApplication.postal_code, CreditApplication.country,
)


def account_identities(
    session: Session, account_where: ColumnElement[bool], child_where: Callable[[Any], ColumnElement[bool]]
) -> dict[int, Identity]:
    """Identities of the accounts selected by `account_where` (children selected by `child_where(col)`)."""
    idents: dict[int, Identity] = {}
    for row in session.execute(
        select(Account.id, Account.name, Account.email, Account.phone, Account.date_of_birth).where(account_where)
    ):
        ident = idents[row.id] = Identity()
        ident.add("names", parse_name(row.name), "A")
        ident.add("emails", normalize_email(row.email), "A")
        ident.add("phones", normalize_phone(row.phone), "A")
        ident.add("dobs", row.date_of_birth, "A")
    if not idents:
        return idents
    for row in session.execute(
        select(Address.id, Address.account_id, Address.line1, Address.line2, Address.city, Address.region,
               Address.postal_code, Address.country).where(child_where(Address.account_id))
    ):
        ident = idents.get(row.account_id)
        if ident is not None:
            ident.add("addresses", normalize_address(row.line1, row.line2, row.city, row.region, row.postal_code,
                                                     row.country), f"a{row.id}")
    for row in session.execute(
        select(PaymentMethod.id, PaymentMethod.account_id, PaymentMethod.card_fingerprint, PaymentMethod.last4,
               PaymentMethod.cardholder_name).where(child_where(PaymentMethod.account_id))
    ):
        ident = idents.get(row.account_id)
        if ident is not None:
            ref = f"p{row.id}"
            ident.add_card(row.card_fingerprint, row.last4, ref)
            ident.add("names", parse_name(row.cardholder_name), ref)
    for row in session.execute(select(*_APP_COLUMNS).where(child_where(CreditApplication.account_id))):
        ident = idents.get(row.account_id)
        if ident is not None:
            _add_application(ident, row)
    return idents


def application_identities(session: Session, where: ColumnElement[bool]) -> dict[int, Identity]:
    """Identities of credit applications that have no account."""
    idents: dict[int, Identity] = {}
    for row in session.execute(select(*_APP_COLUMNS).where(where, CreditApplication.account_id.is_(None))):
        ident = idents[row.id] = Identity()
        _add_application(ident, row)
    return idents


# ---------------------------------------------------------------------------------------- writing


@dataclass
class Written:
    records: int = 0
    keys: int = 0


def _write(session: Session, hasher: KeyHasher, idents: dict[int, Identity], owner: Any) -> Written:
    """Insert or replace the records of these owners (account ids or application ids) and their keys."""
    if not idents:
        return Written()
    now = clock.now()
    existing: dict[int, int] = {}
    for chunk in _chunks(list(idents)):
        rows = session.execute(select(owner, IdentityRecord.id).where(owner.in_(chunk))).all()
        existing.update((o, r) for o, r in rows)
    column = owner.key
    new_rows = [{column: oid, "payload": ident.to_payload(), "updated_at": now}
                for oid, ident in idents.items() if oid not in existing]
    record_ids = dict(existing)
    if new_rows:
        result = session.execute(insert(IdentityRecord).returning(
            getattr(IdentityRecord, column), IdentityRecord.id, sort_by_parameter_order=True), new_rows)
        record_ids.update((o, r) for o, r in result)
    if existing:
        session.execute(update(IdentityRecord), [
            {"id": rid, "payload": idents[oid].to_payload(), "updated_at": now} for oid, rid in existing.items()
        ])
        for chunk in _chunks(list(existing.values())):
            session.execute(delete(IdentityBlockKey).where(IdentityBlockKey.record_id.in_(chunk)))
    key_rows = sorted(
        (key, record_ids[oid], kind) for oid, ident in idents.items() for key, kind in record_keys(ident, hasher)
    )
    bulk_insert_keys(session, key_rows)
    return Written(len(idents), len(key_rows))


def is_postgres(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def bulk_insert_payloads(session: Session, rows: list[tuple[int, int, str]], column: str, now: Any) -> None:
    """Insert (id, owner id, payload JSON) rows into an emptied identity_record, by the driver's bulk path."""
    columns = f"id, {column}, payload, updated_at"
    if is_postgres(session):
        raw = session.connection().connection.driver_connection
        with raw.cursor() as cursor, cursor.copy(f"COPY identity_record ({columns}) FROM STDIN") as copy:
            for rid, oid, payload in rows:
                copy.write_row((rid, oid, payload, now))
        return
    stamp = now.replace(tzinfo=None).strftime("%Y-%m-%d %H:%M:%S.%f")  # as UTCDateTime stores it on SQLite
    session.connection().exec_driver_sql(
        f"INSERT INTO identity_record ({columns}) VALUES (?, ?, ?, ?)",
        [(rid, oid, payload, stamp) for rid, oid, payload in rows],
    )


def bulk_insert_keys(session: Session, rows: list[tuple[int, int, int]]) -> None:
    if not rows:
        return
    if is_postgres(session):
        # COPY is several times faster than batched INSERTs for millions of narrow rows.
        raw = session.connection().connection.driver_connection
        with raw.cursor() as cursor, cursor.copy("COPY identity_block_key (key, record_id, kind) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        return
    session.connection().exec_driver_sql("INSERT INTO identity_block_key (key, record_id, kind) VALUES (?, ?, ?)", rows)


def _chunks(items: Sequence[int], size: int = _CHUNK) -> Iterable[list[int]]:
    for start in range(0, len(items), size):
        yield list(items[start : start + size])


# ---------------------------------------------------------------------------- incremental upkeep


def refresh_accounts(session: Session, keys: KeyRing, account_ids: Iterable[int]) -> Written:
    """Rebuild the index records of these accounts from the retail tables."""
    hasher = hasher_for(keys)
    total = Written()
    for chunk in _chunks(sorted(set(account_ids))):
        idents = account_identities(session, Account.id.in_(chunk), lambda col, c=chunk: col.in_(c))
        written = _write(session, hasher, idents, IdentityRecord.account_id)
        total.records += written.records
        total.keys += written.keys
    return total


def refresh_applications(session: Session, keys: KeyRing, application_ids: Iterable[int]) -> Written:
    """Index credit applications: standalone ones get their own record, the others refresh their account."""
    ids = sorted(set(application_ids))
    hasher = hasher_for(keys)
    total = Written()
    accounts: set[int] = set()
    for chunk in _chunks(ids):
        rows = session.execute(
            select(CreditApplication.id, CreditApplication.account_id).where(CreditApplication.id.in_(chunk))
        ).all()
        linked = [r.id for r in rows if r.account_id is not None]
        accounts.update(r.account_id for r in rows if r.account_id is not None)
        if linked:  # an application now tied to an account no longer stands alone
            session.execute(delete(IdentityRecord).where(IdentityRecord.application_id.in_(linked)))
        idents = application_identities(session, CreditApplication.id.in_(chunk))
        written = _write(session, hasher, idents, IdentityRecord.application_id)
        total.records += written.records
        total.keys += written.keys
    more = refresh_accounts(session, keys, accounts)
    return Written(total.records + more.records, total.keys + more.keys)


def _owning_accounts(session: Session, column: Any, owner: Any, ids: list[int]) -> set[int]:
    out: set[int] = set()
    for chunk in _chunks(ids):
        out.update(session.scalars(select(owner).where(column.in_(chunk)).distinct()))
    return out


def apply_import_batch(session: Session, keys: KeyRing, kind: str, ids: list[int]) -> Written:
    """Bring the index up to date after an import batch of one record kind (internal ids)."""
    if not ids:
        return Written()
    if kind == "accounts":
        return refresh_accounts(session, keys, ids)
    if kind == "addresses":
        return refresh_accounts(session, keys, _owning_accounts(session, Address.id, Address.account_id, ids))
    if kind == "payment_methods":
        return refresh_accounts(
            session, keys, _owning_accounts(session, PaymentMethod.id, PaymentMethod.account_id, ids)
        )
    if kind == "credit_applications":
        return refresh_applications(session, keys, ids)
    # Orders point at addresses and cards already indexed with their account; logins, notes, order lines
    # and employees carry no identifiers of the customer.
    return Written()


def import_callback(keys: KeyRing) -> Callable[[Session, str, list[int]], None]:
    """A callback for the importer: `on_batch(session, kind, ids)` inside each batch's transaction."""

    def on_batch(session: Session, kind: str, ids: list[int]) -> None:
        apply_import_batch(session, keys, kind, ids)

    return on_batch


# ------------------------------------------------------------------------------------ full rebuild


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

