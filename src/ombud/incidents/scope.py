"""Scoping an incident: verify the audit log, then compute exactly who was exposed, store it, show what changed.

The order matters and is the point: a signed checkpoint is made of everything committed, the whole log is
verified against its checkpoints (``ombud.audit.verify.verify_log``), and only then are the actors' reads read
back, set-wise (one indexed query, then Polars). A log that fails verification is refused, with the first
problem named, and the refusal is recorded on the incident.
"""

from __future__ import annotations

import base64
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import polars as pl
from sqlalchemy import insert, inspect, select
from sqlalchemy.orm import Session

from ombud import clock
from ombud.audit import checkpoint as checkpoints
from ombud.audit import merkle, tree
from ombud.audit.models import AuditEntry
from ombud.audit.service import raw_connection, sqlite_time
from ombud.audit.verify import recompute_leaf, verify_log
from ombud.context import Context
from ombud.db import transaction
from ombud.errors import Conflict, InvalidInput, NotFound
from ombud.incidents import exposure as exp
from ombud.incidents import rules as rules_mod
from ombud.incidents.models import DeadlineKind, Exposure, Incident, IncidentDeadline, IncidentScope, IncidentStatus
from ombud.incidents.service import TRANSITIONS, audit, get_incident, note_entry, transition
from ombud.staff.models import Employee

_CHUNK = 900  # ids per IN list (SQLite allows 999 parameters per statement by default)


class LogTampered(Conflict):
    """The audit log failed verification; no exposure can be claimed from it."""


@dataclass(frozen=True)
class VerifiedLog:
    tree_size: int
    root_hash: bytes
    message: str


def verify_and_sign(ctx: Context) -> VerifiedLog:
    """Sign a checkpoint of everything committed (its own transaction), then verify the whole log against it."""
    with transaction(ctx.sessions) as session:
        signed = checkpoints.create_checkpoint(session, ctx.keys, ctx.settings).checkpoint
        size, root = signed.tree_size, bytes(signed.root_hash)
    with transaction(ctx.sessions) as session:
        report = verify_log(session, [checkpoints.verifier(ctx.keys, ctx.settings)], ctx.settings.audit_origin)
    if not report.ok:
        first = min(report.problems, key=lambda p: p.sort_key()) if report.problems else None
        why = first.message if first else "verification failed"
        raise LogTampered(f"the audit log fails verification ({report.problem_count} problem(s)); first: {why}",
                          field="audit_log")
    return VerifiedLog(size, root, f"verified {report.events:,} events and {report.checkpoints} checkpoint(s) "
                                   f"in {report.seconds:.2f}s; signed at size {size:,}")


# --- reading the events --------------------------------------------------------------------------------------


def _chunks(values: Sequence[str], size: int = _CHUNK) -> Iterable[Sequence[str]]:
    for i in range(0, len(values), size):
        yield values[i:i + size]


def read_events(session: Session, actors: Sequence[str], start: datetime, end: datetime, tree_size: int
                ) -> pl.DataFrame:
    """The actors' brokered reads in [start, end) among the first `tree_size` leaves (columns of READ_SCHEMA)."""
    if not actors:
        return pl.DataFrame(schema=exp.READ_SCHEMA)
    dbapi, dialect = raw_connection(session)
    mark = "?" if dialect.is_sqlite else "%s"
    bounds: tuple[Any, Any] = (sqlite_time(start.astimezone(UTC)), sqlite_time(end.astimezone(UTC))) \
        if dialect.is_sqlite else (start, end)
    columns: list[list[Any]] = [[], [], [], [], [], []]
    cursor = dbapi.cursor()
    try:
        for part in _chunks(list(actors)):
            cursor.execute(
                "SELECT idx, at, customer_id, fields, decision, detail FROM audit_event "
                f"WHERE actor_id IN ({', '.join([mark] * len(part))}) AND action = 'access.read' "
                f"AND at >= {mark} AND at < {mark} AND idx < {mark}",
                (*part, *bounds, tree_size),
            )
            while rows := cursor.fetchmany(50_000):
                for column, values in zip(columns, zip(*rows, strict=True), strict=True):
                    column.extend(values)
    finally:
        cursor.close()
    frame = pl.DataFrame(
        {"idx": columns[0], "at": columns[1], "customer_id": columns[2], "fields": columns[3],
         "decision": columns[4], "detail": columns[5]},
        schema_overrides={"idx": pl.Int64, "customer_id": pl.String, "fields": pl.String, "decision": pl.String,
                          "detail": pl.String},
        strict=False,
    )
    return frame.with_columns(_as_utc(frame, "at"))


def _as_utc(frame: pl.DataFrame, name: str) -> pl.Expr:
    dtype = frame.schema[name]
    if dtype == pl.String:  # SQLite keeps naive UTC text
        return pl.col(name).str.to_datetime(time_unit="us").dt.replace_time_zone("UTC")
    if dtype == pl.Null:
        return pl.col(name).cast(pl.Datetime("us", "UTC"))
    if isinstance(dtype, pl.Datetime) and dtype.time_zone is None:
        return pl.col(name).dt.replace_time_zone("UTC").dt.cast_time_unit("us")
    return pl.col(name).dt.convert_time_zone("UTC").dt.cast_time_unit("us")


IMPORTED_TABLE = "insider_access_event"


def read_imported(session: Session, actors: Sequence[str], start: datetime, end: datetime) -> pl.DataFrame:
    """Access events imported from the retailer's other tools for the actors in [start, end) (may be none)."""
    if not actors or not inspect(session.connection()).has_table(IMPORTED_TABLE):
        return pl.DataFrame(schema=exp.IMPORTED_SCHEMA)
    dbapi, dialect = raw_connection(session)
    mark = "?" if dialect.is_sqlite else "%s"
    bounds: tuple[Any, Any] = (sqlite_time(start.astimezone(UTC)), sqlite_time(end.astimezone(UTC))) \
        if dialect.is_sqlite else (start, end)
    rows: list[tuple[Any, ...]] = []
    cursor = dbapi.cursor()
    try:
        for part in _chunks(list(actors)):
            cursor.execute(
                f"SELECT i.id, i.source_system, i.customer_id, i.data_class, i.at FROM {IMPORTED_TABLE} i "
                "JOIN staff_employee e ON e.id = i.employee_id "
                f"WHERE e.external_id IN ({', '.join([mark] * len(part))}) AND i.at >= {mark} AND i.at < {mark}",
                (*part, *bounds),
            )
            rows.extend(cursor.fetchall())
    finally:
        cursor.close()
    frame = pl.DataFrame(rows, schema=["id", "source_system", "customer_id", "data_class", "at"], orient="row",
                         strict=False)
    return frame.with_columns(pl.col("id").cast(pl.Int64), pl.col("source_system").cast(pl.String),
                              pl.col("customer_id").cast(pl.String), pl.col("data_class").cast(pl.String),
                              _as_utc(frame, "at"))


def jurisdictions(session: Session, customer_ids: Sequence[str]) -> dict[str, str]:
    """Each customer's jurisdiction from their address: the newest billing address, else the newest shipping one."""
    from ombud.retail.models import Account, Address

    out: dict[str, str] = {}
    rules = rules_mod.load_rules()
    for part in _chunks(list(customer_ids)):
        rows = session.execute(
            select(Account.external_id, Address.kind, Address.country, Address.region, Address.created_at)
            .join(Address, Address.account_id == Account.id, isouter=True)
            .where(Account.external_id.in_(part))
        ).all()
        best: dict[str, tuple[Any, ...]] = {}
        for external_id, kind, country, region, created in rows:
            if kind is None:
                continue
            rank = (1 if str(getattr(kind, "value", kind)) == "billing" else 0, created)
            if external_id not in best or rank > best[external_id][0]:
                best[external_id] = (rank, country, region)
        for customer_id in part:
            hit = best.get(customer_id)
            out[customer_id] = rules_mod.jurisdiction_of(hit[1], hit[2], rules) if hit else rules_mod.DEFAULT
    return out


# --- computing and storing a scope ----------------------------------------------------------------------------


def _key(row: dict[str, Any]) -> tuple[str, str, str]:
    return (row["customer_id"], row["item"], row["source"])


def _previous_rows(session: Session, scope_id: int | None) -> dict[tuple[str, str, str], tuple[Any, ...]]:
    if scope_id is None:
        return {}
    rows = session.execute(
        select(Exposure.customer_id, Exposure.item, Exposure.source, Exposure.first_at, Exposure.last_at,
               Exposure.events).where(Exposure.scope_id == scope_id)
    ).all()
    return {(r[0], r[1], r[2]): (r[3], r[4], r[5]) for r in rows}


def refresh_deadlines(session: Session, incident: Incident, counts: dict[str, int]) -> None:
    """Compute the incident's deadlines from its discovery date and these customer counts; keep what was met."""
    sent = dict.fromkeys(counts, incident.notices_sent_at) if incident.notices_sent_at else None
    wanted = {(d.jurisdiction, d.kind): d for d in rules_mod.deadlines(counts, incident.discovered_at,
                                                                       notices_sent_at=sent)}
    existing = {(row.jurisdiction, row.kind.value): row for row in session.scalars(
        select(IncidentDeadline).where(IncidentDeadline.incident_id == incident.id))}
    for key, row in existing.items():
        if key not in wanted and row.met_at is None:
            session.delete(row)
    for key, deadline in wanted.items():
        row = existing.get(key)
        if row is None:
            session.add(IncidentDeadline(
                incident_id=incident.id, jurisdiction=deadline.jurisdiction, kind=DeadlineKind(deadline.kind),
                due_at=deadline.due_at, customers=deadline.customers, basis=deadline.basis[:300]))
        else:
            row.due_at, row.customers, row.basis = deadline.due_at, deadline.customers, deadline.basis[:300]
    session.flush()


def store_scope(session: Session, incident: Incident, frame: pl.DataFrame, verified: VerifiedLog,
                by: Employee | None, *, reads_scanned: int, imported_scanned: int) -> IncidentScope:
    """Write a computed exposure as the incident's new scope, with its difference from the previous one."""
    customers = frame.get_column("customer_id").unique().to_list() if frame.height else []
    places = jurisdictions(session, customers)
    counts = Counter(places.values())
    previous_id = incident.current_scope_id
    version = (session.scalar(select(IncidentScope.version).where(IncidentScope.incident_id == incident.id)
                              .order_by(IncidentScope.version.desc()).limit(1)) or 0) + 1
    scope = IncidentScope(
        incident_id=incident.id, version=version, computed_at=clock.now(), computed_by_id=by.id if by else None,
        actors=list(incident.actors), window_start=incident.window_start, window_end=incident.window_end,
        tree_size=verified.tree_size, root_hash=verified.root_hash.hex(), verification=verified.message[:300],
        reads_scanned=reads_scanned, imported_scanned=imported_scanned, customers=len(customers),
        rows=frame.height, by_jurisdiction=dict(sorted(counts.items())), diff=None,
    )
    session.add(scope)
    session.flush()
    records = [
        {**row, "scope_id": scope.id, "jurisdiction": places[row["customer_id"]]}
        for row in frame.to_dicts()
    ]
    for i in range(0, len(records), 5000):
        session.execute(insert(Exposure), records[i:i + 5000])
    if previous_id is not None:
        new = {_key(r): (r["first_at"], r["last_at"], r["events"]) for r in records}
        change = exp.diff(_previous_rows(session, previous_id), new)
        scope.diff = {
            "previous_version": version - 1, "added": len(change.added), "removed": len(change.removed),
            "changed": len(change.changed), "customers_added": change.customers_added[:200],
            "customers_removed": change.customers_removed[:200],
            "sample_added": [list(k) for k in change.added[:50]],
            "sample_removed": [list(k) for k in change.removed[:50]],
        }
    incident.current_scope_id = scope.id
    refresh_deadlines(session, incident, dict(counts))
    index = audit(session, "incident.scope", by, incident.id, detail={
        "version": version, "tree_size": verified.tree_size, "customers": len(customers), "rows": frame.height,
    })
    summary = f"Scope v{version}: {len(customers):,} customer(s), {frame.height:,} exposed item(s); {verified.message}"
    if frame.height:
        lists = Counter(src for src in frame.get_column("source").to_list() if src.startswith(DECLARED_SOURCE))
        if lists:
            summary += "; declared: " + ", ".join(f"{src.partition(':')[2] or src} ({n:,} row(s))"
                                                  for src, n in sorted(lists.items()))
    if scope.diff is not None:
        d = scope.diff
        summary += f"; against v{version - 1}: +{d['added']} −{d['removed']} ~{d['changed']}"
    note_entry(session, incident, "scope", by, summary, index)
    if incident.status is not IncidentStatus.scoped or incident.approved_scope_id is not None:
        incident.approved_scope_id = None
        transition(session, incident, IncidentStatus.scoped, by, f"scope v{version}")
    session.flush()
    return scope


def compute(session: Session, incident: Incident, tree_size: int) -> tuple[pl.DataFrame, int, int]:
    """The incident's exposure as a frame, and how many reads and imported events were scanned."""
    reads = read_events(session, incident.actors, incident.window_start, incident.window_end, tree_size)
    imported = read_imported(session, incident.actors, incident.window_start, incident.window_end)
    return exp.exposure(reads, imported), reads.height, imported.height


def scope_incident(ctx: Context, incident_id: int, by_id: int | None,
                   declared: pl.DataFrame | None = None) -> IncidentScope:
    """Verify the log, compute the exposure, store it as the incident's new scope (or record the refusal).

    `declared` (from `read_declared`) adds exposure the log cannot show: a leaked export, a vendor's breach.
    Without one, the declared rows of the current scope are kept (a change of window or actors does not drop a
    declared list); a new list replaces the old. An incident with no actors consults no log and is scoped from its
    declared list alone.
    """
    with transaction(ctx.sessions) as session:
        incident = get_incident(session, incident_id)
        if IncidentStatus.scoped not in TRANSITIONS[incident.status]:
            raise Conflict(f"a {incident.status.value} incident cannot be scoped", field="status")
        has_actors = bool(incident.actors)
        if declared is None:
            declared = declared_rows(session, incident.current_scope_id)
    if not has_actors and declared is None:
        raise InvalidInput("an incident without actors is scoped from a declared list (a CSV of customer_id, "
                           "data_class)", field="declared")
    verified = VerifiedLog(0, b"", "no actors: the exposure is the declared list")
    if has_actors:
        try:
            verified = verify_and_sign(ctx)
        except LogTampered as exc:
            with transaction(ctx.sessions) as session:
                incident = get_incident(session, incident_id)
                by = session.get(Employee, by_id) if by_id else None
                index = audit(session, "incident.scope.refused", by, incident.id,
                              detail={"reason": exc.message[:300]})
                note_entry(session, incident, "scope_refused", by, exc.message, index)
            raise
    with transaction(ctx.sessions) as session:
        incident = get_incident(session, incident_id, lock=True)
        by = session.get(Employee, by_id) if by_id else None
        frame, reads, imported = compute(session, incident, verified.tree_size)
        if declared is not None:
            frame = pl.concat([frame, declared]).sort(list(exp.KEY))
        return store_scope(session, incident, frame, verified, by, reads_scanned=reads, imported_scanned=imported)


DECLARED_SOURCE = "declared"
#: A declared list holds at most this many lines (a larger breach is declared in parts, or by the CLI in several).
MAX_DECLARED_LINES = 2_000_000


def declared_source(name: str) -> str:
    """The source of a declared list's rows: "declared:" and the list's file name, so the scope shows its origin."""
    clean = "".join(c if c.isalnum() or c in "._- " else "_" for c in Path(name or "list.csv").name).strip()
    return f"{DECLARED_SOURCE}:{clean or 'list.csv'}"[:64]


def declared_rows(session: Session, scope_id: int | None) -> pl.DataFrame | None:
    """The declared rows of a stored scope (None when it has none)."""
    if scope_id is None:
        return None
    rows = session.execute(select(
        Exposure.customer_id, Exposure.item, Exposure.data_class, Exposure.source, Exposure.first_at,
        Exposure.last_at, Exposure.events).where(Exposure.scope_id == scope_id,
                                                 Exposure.source.like(f"{DECLARED_SOURCE}%"))).all()
    if not rows:
        return None
    return pl.DataFrame([{"customer_id": r[0], "item": r[1], "data_class": r[2], "source": r[3], "first_at": r[4],
                          "last_at": r[5], "events": r[6], "leaves": [], "imported": []} for r in rows],
                        schema=exp.OUT_SCHEMA)


def read_declared(path: str, window: tuple[datetime, datetime]) -> pl.DataFrame:
    """A declared exposure list file (CSV: customer_id, data_class[, first_at, last_at]) as exposure rows."""
    with open(path, newline="", encoding="utf-8") as handle:
        return parse_declared(handle, window, Path(path).name)


def parse_declared(lines: Iterable[str], window: tuple[datetime, datetime], name: str) -> pl.DataFrame:
    """A declared exposure list (CSV: customer_id, data_class[, first_at, last_at]) as exposure rows.

    InvalidInput names the line and column of the first bad value; nothing is stored from a bad list.
    """
    import csv

    from ombud.access.cases import check_customer_id
    from ombud.errors import OmbudError

    source = declared_source(name)
    rows: dict[tuple[str, str], list[Any]] = {}
    try:
        reader = csv.DictReader(lines)
        missing = {"customer_id", "data_class"} - set(reader.fieldnames or ())
        if missing:
            raise InvalidInput(f"{name}: the header (line 1) lacks {', '.join(sorted(missing))}", field="declared")
        for line, raw in enumerate(reader, start=2):
            if line > MAX_DECLARED_LINES:
                raise InvalidInput(f"{name}: more than {MAX_DECLARED_LINES:,} lines", field="declared")
            try:
                if None in raw:
                    raise InvalidInput("more values than the header has columns", field="columns")
                customer = check_customer_id(raw.get("customer_id") or "")
                cls = (raw.get("data_class") or "").strip().lower()
                if not cls.replace("_", "").isalnum() or len(cls) > 32:
                    raise InvalidInput("a data class is a word like contact, address, video", field="data_class")
                first = _declared_time(raw.get("first_at"), window[0], "first_at")
                last = _declared_time(raw.get("last_at"), window[1], "last_at")
                if last < first:
                    raise InvalidInput("last_at is before first_at", field="last_at")
            except OmbudError as exc:
                raise InvalidInput(f"{name}, line {line}, {exc.field}: {exc.message}", field="declared") from None
            row = rows.setdefault((customer, cls), [first, last, 0])
            row[0], row[1], row[2] = min(row[0], first), max(row[1], last), row[2] + 1
    except csv.Error as exc:
        raise InvalidInput(f"{name}: not a CSV file ({exc})", field="declared") from None
    if not rows:
        raise InvalidInput(f"{name}: no customers listed", field="declared")
    return pl.DataFrame(
        [{"customer_id": c, "item": cls, "data_class": cls, "source": source, "first_at": v[0],
          "last_at": v[1], "events": v[2], "leaves": [], "imported": []} for (c, cls), v in rows.items()],
        schema=exp.OUT_SCHEMA,
    )


def _declared_time(value: str | None, default: datetime, field: str) -> datetime:
    if not value or not value.strip():
        return default
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        raise InvalidInput(f"{value!r} is not an ISO 8601 time", field=field) from None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


# --- reading a scope back -------------------------------------------------------------------------------------


def current_scope(session: Session, incident: Incident) -> IncidentScope | None:
    return session.get(IncidentScope, incident.current_scope_id) if incident.current_scope_id else None


def get_scope(session: Session, incident: Incident, version: int | None = None) -> IncidentScope:
    """A scope of the incident by version (the current one by default); NotFound when there is none."""
    if version is None:
        scope = current_scope(session, incident)
    else:
        scope = session.scalar(select(IncidentScope).where(IncidentScope.incident_id == incident.id,
                                                           IncidentScope.version == version))
    if scope is None:
        raise NotFound("the incident has no such scope (run a scope first)", field="version")
    return scope


def exposure_frame(session: Session, scope: IncidentScope, customer_id: str | None = None) -> pl.DataFrame:
    """A stored scope's rows as a frame (one customer's when given)."""
    query = select(Exposure).where(Exposure.scope_id == scope.id).order_by(Exposure.customer_id, Exposure.item)
    if customer_id is not None:
        query = query.where(Exposure.customer_id == customer_id)
    rows = [
        {"customer_id": r.customer_id, "item": r.item, "data_class": r.data_class, "source": r.source,
         "jurisdiction": r.jurisdiction, "first_at": r.first_at, "last_at": r.last_at, "events": r.events,
         "leaves": list(r.leaves), "imported": list(r.imported)}
        for r in session.scalars(query)
    ]
    schema = {**exp.OUT_SCHEMA, "jurisdiction": pl.String}
    frame = pl.DataFrame(rows, schema=schema) if rows else pl.DataFrame(schema=schema)
    return frame.select("customer_id", "item", "data_class", "source", "jurisdiction", "first_at", "last_at",
                        "events", "leaves", "imported")


def export(frame: pl.DataFrame, path: str, fmt: str) -> None:
    """Write a scope's rows as CSV (lists joined by spaces) or Parquet (lists kept)."""
    if fmt == "parquet":
        frame.write_parquet(path)
    elif fmt == "csv":
        frame.with_columns(
            pl.col("leaves").cast(pl.List(pl.String)).list.join(" "),
            pl.col("imported").cast(pl.List(pl.String)).list.join(" "),
        ).write_csv(path)
    else:
        raise ValueError(f"unknown export format {fmt!r}")


def _stored_row(session: Session, index: int) -> tuple[Any, ...]:
    dbapi, dialect = raw_connection(session)
    cursor = dbapi.cursor()
    try:
        cursor.execute("SELECT idx, at, action, actor_type, actor_id, customer_id, subject_type, subject_id, fields, "
                       f"purpose, decision, detail FROM audit_event WHERE idx = {'?' if dialect.is_sqlite else '%s'}",
                       (index,))
        return tuple(cursor.fetchone())
    finally:
        cursor.close()


@dataclass(frozen=True)
class LeafProof:
    index: int
    leaf_hash: str
    proof: list[str]
    verified: bool


def proofs(session: Session, scope: IncidentScope, customer_id: str, *, limit: int = 200) -> list[LeafProof]:
    """Inclusion proofs of the leaves behind a customer's exposure, against the scope's signed checkpoint."""
    leaves: set[int] = set()
    found = False
    for (values,) in session.execute(select(Exposure.leaves).where(Exposure.scope_id == scope.id,
                                                                   Exposure.customer_id == customer_id)):
        found = True
        leaves.update(values)
    if not found:
        raise NotFound(f"customer {customer_id} is not in this scope", field="customer_id")
    if not leaves:  # declared or imported exposure only: no audit leaf to prove
        return []
    root = bytes.fromhex(scope.root_hash)
    get_nodes = tree.node_source(session)
    out = []
    for index in sorted(leaves)[:limit]:
        entry = session.get(AuditEntry, index)
        if entry is None:
            raise LogTampered(f"audit event {index} behind this exposure is gone", field="audit_log")
        leaf_hash = recompute_leaf(_stored_row(session, index))
        path = merkle.inclusion_proof(index, scope.tree_size, get_nodes)
        # The leaf is recomputed from the stored columns, so an edit since the scope shows as unverified.
        ok = leaf_hash == bytes(entry.leaf_hash) and merkle.verify_inclusion(leaf_hash, index, scope.tree_size,
                                                                             path, root)
        out.append(LeafProof(index, base64.b64encode(leaf_hash).decode(),
                             [base64.b64encode(h).decode() for h in path], ok))
    return out
