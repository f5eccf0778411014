"""Export what a scan reads from the store to Parquet: the log's brokered reads, imported events, and facts.

Brokered reads come from the audit log itself (`audit_event`, action ``access.read``), never from a copy; one
row per (leaf, data class read), the classes from the fields the read asked for. Imported events come from
`insider_access_event`. Rows stream from the database in batches into Arrow (Polars for the per-batch
reshaping), so memory stays bounded and nothing is done row by row in Python beyond the driver's fetch.
Employees' and customers' surnames, postcodes, addresses and emails leave only as keyed hashes.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq
from sqlalchemy import inspect, text
from sqlalchemy.orm import Session

from ombud.access.classes import FIELDS
from ombud.crypto import keyed_hash
from ombud.insider.frame import TABLES, conform
from ombud.staff.hr import postcode_hash

BATCH = 200_000
_FIELD_CLASS = {name: spec.data_class.value for name, spec in FIELDS.items()}
_DECISION = {"allow": "allow", "partial": "partial", "deny": "deny"}
_LETTERS = re.compile(r"[^a-z]")
Progress = Callable[[str, int], None]


def _epoch(value: Any) -> int | None:
    """Seconds since the epoch of a stored time (an aware datetime, or SQLite's UTC text)."""
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return int(value.timestamp())


def surname_of(name: str | None) -> str | None:
    """The surname of a display name in one comparable form ("Smith, Jo" and "Jo Smith" alike)."""
    if not name:
        return None
    folded = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode().lower().strip()
    part = folded.split(",")[0] if "," in folded else (folded.split() or [""])[-1]
    letters = _LETTERS.sub("", part)
    return letters or None


def _key(key: bytes, kind: str, value: str | None) -> str | None:
    return keyed_hash(key, kind, value) if value else None


def _rows(session: Session, sql: str, params: dict[str, Any] | None = None) -> Iterator[list[Any]]:
    result = session.execute(text(sql), params or {}).yield_per(BATCH)
    yield from result.partitions(BATCH)


def _has(session: Session, table: str) -> bool:
    return inspect(session.connection()).has_table(table)


class _Writer:
    """Appends batches to one Parquet file of an input table (an empty file when nothing comes)."""

    def __init__(self, directory: Path, name: str) -> None:
        self.name = name
        self.path = directory / f"{name}.parquet"
        self.writer = pq.ParquetWriter(self.path, TABLES[name])
        self.rows = 0

    def write(self, table: pa.Table) -> None:
        if table.num_rows:
            self.writer.write_table(conform(self.name, table))
            self.rows += table.num_rows

    def close(self) -> int:
        self.writer.close()
        return self.rows


def _broker_events(session: Session, out: _Writer, since: datetime | None, progress: Progress | None) -> None:
    sql = (
        "SELECT e.idx, e.at, s.id, e.customer_id, e.subject_type, e.subject_id, e.fields, e.decision "
        "FROM audit_event e JOIN staff_employee s ON e.actor_type = 'employee' AND s.external_id = e.actor_id "
        "WHERE e.action = 'access.read' AND e.customer_id IS NOT NULL"
        + (" AND e.at >= :since" if since else "") + " ORDER BY e.idx"
    )
    for batch in _rows(session, sql, {"since": since} if since else None):
        frame = pl.DataFrame(
            {
                "audit_idx": [r[0] for r in batch],
                "at_s": [_epoch(r[1]) for r in batch],
                "employee_id": [str(r[2]) for r in batch],
                "customer_id": [r[3] for r in batch],
                "purpose_kind": [r[4] or "none" for r in batch],
                "subject_id": [r[5] for r in batch],
                "fields": [r[6] for r in batch],
                "decision": [_DECISION.get(r[7] or "deny", "deny") for r in batch],
            },
            schema_overrides={"audit_idx": pl.Int64, "at_s": pl.Int64, "subject_id": pl.String},
        )
        frame = (
            frame.with_columns(pl.col("fields").str.json_decode(pl.List(pl.String)).alias("field"))
            .explode("field")
            .with_columns(pl.col("field").replace_strict(_FIELD_CLASS, default="other").alias("data_class"))
            .unique(["audit_idx", "data_class"], keep="first", maintain_order=True)
            .with_columns(
                pl.format("a:{}", pl.col("audit_idx")).alias("event_id"),
                pl.lit("broker").alias("source"),
                pl.when(pl.col("purpose_kind") == "case").then(pl.col("subject_id").cast(pl.Int64, strict=False))
                .otherwise(None).alias("case_id"),
                pl.lit(None, pl.String).alias("ticket_ref"),
                pl.lit(0, pl.Int64).alias("row_id"),
            )
        )
        out.write(frame.to_arrow())
        if progress:
            progress("brokered reads", len(batch))


def _imported_events(session: Session, out: _Writer, since: datetime | None, progress: Progress | None) -> None:
    if not _has(session, "insider_access_event"):
        return
    sql = (
        "SELECT id, source_system, employee_id, customer_id, data_class, at, ticket_ref, break_glass "
        "FROM insider_access_event" + (" WHERE at >= :since" if since else "") + " ORDER BY id"
    )
    for batch in _rows(session, sql, {"since": since} if since else None):
        table = pa.table({
            "row_id": pa.array([0] * len(batch), pa.int64()),
            "event_id": [f"i:{r[0]}" for r in batch],
            "source": [r[1] for r in batch],
            "audit_idx": pa.nulls(len(batch), pa.int64()),
            "employee_id": [str(r[2]) for r in batch],
            "customer_id": [r[3] for r in batch],
            "data_class": [r[4] for r in batch],
            "at_s": pa.array([_epoch(r[5]) for r in batch], pa.int64()),
            "decision": ["allow"] * len(batch),
            "purpose_kind": ["break_glass" if r[7] else "ticket" if r[6] else "none" for r in batch],
            "case_id": pa.nulls(len(batch), pa.int64()),
            "ticket_ref": [r[6] for r in batch],
        })
        out.write(table)
        if progress:
            progress("imported events", len(batch))


def _number_rows(path: Path) -> int:
    """Give the events file's rows their unique row ids (0, 1, ...) once every batch is written."""
    table = pq.read_table(path)
    table = table.set_column(0, "row_id", pa.array(range(table.num_rows), pa.int64()))
    pq.write_table(table, path)
    return table.num_rows


def _employees(session: Session, key: bytes) -> pa.Table:
    has_postcode = "home_postcode_hash" in {c["name"] for c in inspect(session.connection()).get_columns(
        "staff_employee")}
    sql = ("SELECT id, team, role, hired_on, left_on, name, email, "
           + ("home_postcode_hash" if has_postcode else "NULL") + " FROM staff_employee")
    rows = session.execute(text(sql)).all()

    def day(value: Any) -> int | None:
        if value is None:
            return None
        if isinstance(value, str):
            value = datetime.fromisoformat(value).date()
        return value.toordinal() - 719163  # days since 1970-01-01

    return pa.Table.from_pylist([{
        "employee_id": str(r[0]), "team": r[1], "role": str(r[2]), "hired_day": day(r[3]), "left_day": day(r[4]),
        "surname_key": _key(key, "surname", surname_of(r[5])), "postcode_key": r[7], "address_key": None,
        "email_key": _key(key, "email", (r[6] or "").strip().lower() or None),
    } for r in rows], schema=TABLES["employees"])


def _customers(session: Session, key: bytes, out: _Writer) -> None:
    sql = (
        "SELECT a.external_id, a.name, a.email, d.postal_code, d.country, d.line1 "
        "FROM retail_account a LEFT JOIN retail_address d ON d.account_id = a.id ORDER BY a.id"
    )
    for batch in _rows(session, sql):
        out.write(pa.Table.from_pylist([{
            "customer_id": r[0],
            "surname_key": _key(key, "surname", surname_of(r[1])),
            "postcode_key": postcode_hash(key, r[3], r[4]),
            "address_key": _key(key, "address", f"{(r[5] or '').strip().lower()}|{(r[3] or '')[:5]}")
            if r[5] else None,
            "email_key": _key(key, "email", (r[2] or "").strip().lower() or None),
        } for r in batch], schema=TABLES["customers"]))


def _simple(session: Session, out: _Writer, table: str, sql: str, shape: Callable[[list[Any]], dict[str, Any]]) -> None:
    if not _has(session, table):
        return
    for batch in _rows(session, sql):
        out.write(pa.Table.from_pylist([shape(r) for r in batch], schema=TABLES[out.name]))


def export(session: Session, directory: Path, *, identifier_key: bytes, since: datetime | None = None,
           feedback: pa.Table | None = None, progress: Progress | None = None) -> dict[str, int]:
    """Write every input table of a scan into `directory`; returns rows written per table."""
    directory.mkdir(parents=True, exist_ok=True)
    counts: dict[str, int] = {}
    events = _Writer(directory, "events")
    try:
        _broker_events(session, events, since, progress)
        _imported_events(session, events, since, progress)
    finally:
        events.close()
    counts["events"] = _number_rows(events.path)
    pq.write_table(_employees(session, identifier_key), directory / "employees.parquet")
    customers = _Writer(directory, "customers")
    try:
        _customers(session, identifier_key, customers)
    finally:
        counts["customers"] = customers.close()
    specs: list[tuple[str, str, str, Callable[[list[Any]], dict[str, Any]]]] = [
        ("contacts", "retail_support_contact",
         "SELECT c.ticket_ref, a.external_id, c.employee_id, c.team, c.opened_at, c.initiated_by "
         "FROM retail_support_contact c JOIN retail_account a ON a.id = c.account_id",
         lambda r: {"ticket_ref": r[0], "customer_id": r[1], "employee_id": None if r[2] is None else str(r[2]),
                    "team": r[3], "opened_s": _epoch(r[4]), "initiated_by": r[5]}),
        ("cases", "access_case",
         "SELECT id, case_type, customer_id, opened_by_id, opened_at, source FROM access_case",
         lambda r: {"case_id": r[0], "case_type": r[1], "customer_id": r[2],
                    "opened_by": None if r[3] is None else str(r[3]), "opened_s": _epoch(r[4]), "source": r[5]}),
        ("reviews", "retail_review",
         "SELECT a.external_id, v.seller_id, v.rating, v.reviewed_at FROM retail_review v "
         "JOIN retail_account a ON a.id = v.account_id",
         lambda r: {"customer_id": r[0], "seller_id": str(r[1]), "rating": r[2], "reviewed_s": _epoch(r[3])}),
        ("orders", "retail_order",
         "SELECT a.external_id, o.placed_at, o.status FROM retail_order o JOIN retail_account a ON a.id = o.account_id "
         "WHERE o.status IN ('cancelled', 'returned')",
         lambda r: {"customer_id": r[0], "placed_s": _epoch(r[1]), "status": r[2]}),
    ]
    for name, table, sql, shape in specs:
        out = _Writer(directory, name)
        try:
            _simple(session, out, table, sql, shape)
        finally:
            counts[name] = out.close()
    pq.write_table(conform("feedback", feedback) if feedback is not None else TABLES["feedback"].empty_table(),
                   directory / "feedback.parquet")
    return counts
