"""The broker's hot path at the store: prepared SQL on the session's own DB-API connection.

Every read runs these few statements, so they skip SQLAlchemy's statement building (profiling showed it was
most of a read's cost) and talk to the driver directly, in the session's transaction, like the audit log's
append path. The less frequent reads (grants, break-glass, record lists) stay in the ORM; the broker tests run
on both stores.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy.orm import Session

from ombud.access.models import CaseStatus, CaseType


@dataclass(frozen=True)
class Store:
    """The DB-API connection under a session's transaction and the SQL for its dialect."""

    dbapi: Any
    sqlite: bool

    def one(self, sql: str, params: tuple[Any, ...]) -> tuple[Any, ...] | None:
        cursor = self.dbapi.cursor()
        try:
            cursor.execute(sql if self.sqlite else sql.replace("?", "%s"), params)
            return cursor.fetchone()
        finally:
            cursor.close()

    def all(self, sql: str, params: tuple[Any, ...]) -> list[tuple[Any, ...]]:
        cursor = self.dbapi.cursor()
        try:
            cursor.execute(sql if self.sqlite else sql.replace("?", "%s"), params)
            return list(cursor.fetchall())
        finally:
            cursor.close()

    def time(self, value: datetime) -> Any:
        """A UTC time as the store keeps it (naive text on SQLite, like ombud.db.UTCDateTime)."""
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None).isoformat(sep=" ", timespec="microseconds") if self.sqlite else value

    def read_time(self, value: Any) -> datetime | None:
        if value is None:
            return None
        if isinstance(value, str):
            value = datetime.fromisoformat(value)
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def store(session: Session) -> Store:
    """The store under the session (flushing pending ORM changes first, so the SQL sees them)."""
    if session.new or session.dirty or session.deleted:
        session.flush()
    conn = session.connection()
    return Store(conn.connection.dbapi_connection, conn.dialect.name == "sqlite")


@dataclass(frozen=True)
class CaseFacts:
    """What the purpose check needs of a case."""

    id: int
    case_type: CaseType
    customer_id: str
    status: CaseStatus
    assignee_id: int | None
    team: str | None
    opened_by_id: int | None = None


def case_facts(db: Store, case_id: int) -> CaseFacts | None:
    """A case's type, customer, status and assignment."""
    row = db.one("SELECT case_type, customer_id, status, assignee_id, team FROM access_case WHERE id = ?", (case_id,))
    if row is None:
        return None
    return CaseFacts(case_id, CaseType(row[0]), row[1], CaseStatus(row[2]), row[3], row[4])


_BUMP = (
    "INSERT INTO access_daily_usage (employee_id, day, reads) VALUES (?, ?, 1) "
    "ON CONFLICT (employee_id, day) DO UPDATE SET reads = access_daily_usage.reads + 1 RETURNING reads"
)


def bump_usage(db: Store, employee_id: int, day: date) -> int:
    """Count one more read for the employee today (atomic upsert); returns today's count."""
    row = db.one(_BUMP, (employee_id, day.isoformat() if db.sqlite else day))
    assert row is not None
    return int(row[0])


def profile(db: Store, employee_id: int) -> tuple[int | None, int, int, str] | None:
    """(daily_limit, shift_start, shift_end, timezone) of the employee's access profile, if they have one."""
    row = db.one("SELECT daily_limit, shift_start, shift_end, timezone FROM access_profile WHERE employee_id = ?",
                 (employee_id,))
    return None if row is None else (row[0], int(row[1]), int(row[2]), row[3])


def standing_classes(db: Store, employee_id: int, now: datetime) -> tuple[str, ...]:
    """Data classes of the employee's standing grants in force now."""
    rows = db.all(
        "SELECT data_class, expires_at FROM access_grant "
        "WHERE employee_id = ? AND kind = 'standing' AND status = 'approved'",
        (employee_id,),
    )
    live = {cls for cls, expires in rows if expires is None or now < (db.read_time(expires) or now)}
    return tuple(sorted(live))


_LOCATE = (
    "SELECT retail_account.id, (SELECT retail_address.country FROM retail_address "
    "WHERE retail_address.account_id = retail_account.id ORDER BY retail_address.created_at DESC LIMIT 1) "
    "FROM retail_account WHERE retail_account.external_id = ?"
)


def locate(db: Store, customer_id: str) -> tuple[int, str | None] | None:
    """(account row id, country of the newest address), or None when the customer is unknown."""
    row = db.one(_LOCATE, (customer_id,))
    return None if row is None else (int(row[0]), row[1])


_ACCOUNT_FIELDS = ("name", "email", "phone")


def account_values(db: Store, account_id: int, names: tuple[str, ...]) -> dict[str, Any]:
    """Plain account fields (name, email, phone) of one account."""
    columns = ", ".join(f"retail_account.{n}" for n in names)
    row = db.one(f"SELECT {columns} FROM retail_account WHERE retail_account.id = ?", (account_id,))
    assert row is not None
    return dict(zip(names, row, strict=True))


def simple_fields(names: tuple[str, ...]) -> tuple[str, ...] | None:
    """The fields when all are plain account columns (the common read), else None."""
    return names if all(n in _ACCOUNT_FIELDS for n in names) else None


_INSERT_DECISION = (
    "INSERT INTO access_decision (at, employee_id, team, region, customer_id, purpose_kind, purpose_id, case_type, "
    "decision, allowed_mask, masked_mask, fields, policy_ids, reason, audit_index) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)


def insert_decision(db: Store, values: tuple[Any, ...]) -> None:
    """Store one decision row; values in the column order above (lists for fields and policy ids)."""
    at, *rest = values
    rest[10] = json.dumps(rest[10], separators=(",", ":"))
    rest[11] = json.dumps(rest[11], separators=(",", ":"))
    sql = _INSERT_DECISION if db.sqlite else _INSERT_DECISION.replace("?", "%s")
    cursor = db.dbapi.cursor()
    try:
        cursor.execute(sql, (db.time(at), *rest))
    finally:
        cursor.close()
