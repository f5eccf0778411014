"""The broker's hot path at the store: prepared SQL on the session's own DB-API connection.

Every read runs these few statements, so they skip SQLAlchemy's statement building (profiling showed it was
most of a read's cost) and talk to the driver directly, in the session's transaction, like the audit log's
append path. A read's facts — today's count (bumped), the purpose (case, grant or break-glass), the customer
(row, country, plain fields), the employee's profile and standing grants — come back from ONE statement on
PostgreSQL (the count's upsert rides in a data-modifying CTE) and two on SQLite (which has none). Nothing is
cached between reads: every fact is read fresh in the read's own transaction, so a case closed or a grant
revoked a moment ago refuses the very next read.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.orm import Session

from ombud.access.models import CaseStatus, CaseType, GrantKind, GrantStatus
from ombud.audit.service import sqlite_time


@dataclass(slots=True)
class Store:
    """The DB-API connection under a session's transaction and the SQL for its dialect."""

    dbapi: Any
    sqlite: bool
    _last_time: tuple[datetime, Any] | None = None

    def one(self, sql: str, params: tuple[Any, ...]) -> tuple[Any, ...] | None:
        cursor = self.dbapi.cursor()
        try:
            cursor.execute(sql if self.sqlite else sql.replace("?", "%s"), params)
            return cursor.fetchone()
        finally:
            cursor.close()

    def time(self, value: datetime) -> Any:
        """A UTC time as the store keeps it (naive text on SQLite, like ombud.db.UTCDateTime)."""
        last = self._last_time
        if last is not None and last[0] is value:  # a read stores its one time twice: convert it once
            return last[1]
        stored = value if value.tzinfo is UTC else value.astimezone(UTC)
        if self.sqlite:
            stored = sqlite_time(stored)  # the log's own conversion, which keeps the last one for the leaf
        self._last_time = (value, stored)
        return stored

    def read_time(self, value: Any) -> datetime | None:
        if value is None:
            return None
        if isinstance(value, str):
            value = datetime.fromisoformat(value)
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


_STORE_KEY = "ombud.access.store"


def store(session: Session) -> Store:
    """The store under the session (flushing pending ORM changes first, so the SQL sees them).

    Kept in the session's info for the rest of its innermost transaction (the connection does not change within
    one). A savepoint begun since is another transaction: asking the session for its connection is what emits the
    SAVEPOINT, so the SQL here lands inside it and its rollback takes it back.
    """
    session.flush()  # returns at once when nothing is pending
    transaction = session.get_nested_transaction() or session.get_transaction()
    kept = session.info.get(_STORE_KEY)
    if kept is not None and transaction is not None and kept[0] is transaction:
        return kept[1]  # type: ignore[no-any-return]
    conn = session.connection()
    found = Store(conn.connection.dbapi_connection, conn.dialect.name == "sqlite")
    session.info[_STORE_KEY] = (session.get_nested_transaction() or session.get_transaction(), found)
    return found


@dataclass(slots=True)
class CaseFacts:
    """What the purpose check needs of a case."""

    id: int
    case_type: CaseType
    customer_id: str
    status: CaseStatus
    assignee_id: int | None
    team: str | None
    opened_by_id: int | None = None
    origin: str = ""


@dataclass(slots=True)
class GrantFacts:
    """What the purpose check needs of a just-in-time grant (the attributes grants.purpose_problem reads)."""

    id: int
    employee_id: int
    kind: GrantKind
    customer_id: str | None
    data_class: str
    status: GrantStatus
    starts_at: datetime | None
    expires_at: datetime | None


@dataclass(slots=True)
class BreakGlassFacts:
    """What the purpose check needs of a break-glass (the attributes breakglass.purpose_problem reads)."""

    id: int
    employee_id: int
    customer_id: str
    classes: tuple[str, ...]
    expires_at: datetime
    ended_at: datetime | None


@dataclass(slots=True)
class ReadFacts:
    """Everything a read needs from the store, read in the read's transaction."""

    reads_today: int
    case: CaseFacts | None
    grant: GrantFacts | None
    break_glass: BreakGlassFacts | None
    account_id: int | None
    country: str | None
    #: name, email and phone of the account (used when a read asks only for these plain fields).
    plain: dict[str, Any]
    #: (daily_limit, shift_start, shift_end, timezone) of the employee's access profile, if any.
    profile: tuple[int | None, int, int, str] | None
    standing: tuple[str, ...]


_CASE_TYPES = {member.value: member for member in CaseType}
_CASE_STATUSES = {member.value: member for member in CaseStatus}
_BUMP = (
    "INSERT INTO access_daily_usage (employee_id, day, reads) VALUES (?, ?, 1) "
    "ON CONFLICT (employee_id, day) DO UPDATE SET reads = access_daily_usage.reads + 1 RETURNING reads"
)
# One row whatever exists: every lookup is a LEFT JOIN on a key (NULL when the purpose is of another kind).
_FACTS_COLUMNS = (
    "c.case_type, c.customer_id, c.status, c.assignee_id, c.team, "
    "g.employee_id, g.kind, g.customer_id, g.data_class, g.status, g.starts_at, g.expires_at, "
    "b.employee_id, b.customer_id, b.classes, b.expires_at, b.ended_at, "
    "a.id, (SELECT ad.country FROM retail_address ad WHERE ad.account_id = a.id "
    "ORDER BY ad.created_at DESC LIMIT 1), a.name, a.email, a.phone, "
    "p.daily_limit, p.shift_start, p.shift_end, p.timezone, "
    "(SELECT {agg} FROM access_grant sg WHERE sg.employee_id = ? AND sg.kind = 'standing' "
    "AND sg.status = 'approved' AND (sg.expires_at IS NULL OR sg.expires_at > ?)), c.origin "
)
_FACTS_JOINS = (
    "LEFT JOIN access_case c ON c.id = ? "
    "LEFT JOIN access_grant g ON g.id = ? "
    "LEFT JOIN access_break_glass b ON b.id = ? "
    "LEFT JOIN retail_account a ON a.external_id = ? "
    "LEFT JOIN access_profile p ON p.employee_id = ?"
)
_FACTS_SQLITE = (
    "SELECT " + _FACTS_COLUMNS.format(agg="group_concat(sg.data_class, ',')") + "FROM (SELECT 1) AS one "
    + _FACTS_JOINS
)
_FACTS_POSTGRES = (
    "WITH u AS (" + _BUMP.replace("?", "%s") + ") "
    "SELECT " + _FACTS_COLUMNS.format(agg="string_agg(sg.data_class, ',')").replace("?", "%s") + ", u.reads "
    "FROM u " + _FACTS_JOINS.replace("?", "%s")
)


def read_facts(
    db: Store, employee_id: int, now: datetime, customer_id: str, *, case_id: int | None = None,
    grant_id: int | None = None, break_glass_id: int | None = None,
) -> ReadFacts:
    """Count one more read for the employee today (atomic upsert) and load the read's facts with it."""
    cursor = db.dbapi.cursor()
    try:
        if db.sqlite:
            cursor.execute(_BUMP, (employee_id, now.date().isoformat()))
            reads_today = int(cursor.fetchone()[0])
            cursor.execute(_FACTS_SQLITE, (employee_id, db.time(now), case_id, grant_id, break_glass_id,
                                           customer_id, employee_id))
            row = cursor.fetchone()
        else:
            cursor.execute(_FACTS_POSTGRES, (employee_id, now.date(), employee_id, now, case_id, grant_id,
                                             break_glass_id, customer_id, employee_id))
            row = cursor.fetchone()
            reads_today = int(row[-1])
    finally:
        cursor.close()
    case = grant = glass = None
    if case_id is not None and row[0] is not None:
        case = CaseFacts(case_id, _CASE_TYPES[row[0]], row[1], _CASE_STATUSES[row[2]], row[3], row[4],
                         origin=row[27])
    if grant_id is not None and row[5] is not None:
        grant = GrantFacts(grant_id, row[5], GrantKind(row[6]), row[7], row[8], GrantStatus(row[9]),
                           db.read_time(row[10]), db.read_time(row[11]))
    if break_glass_id is not None and row[12] is not None:
        classes = row[14] if isinstance(row[14], list) else json.loads(row[14])
        glass = BreakGlassFacts(break_glass_id, row[12], row[13], tuple(classes), db.read_time(row[15]),
                                db.read_time(row[16]))
    profile = None if row[23] is None else (row[22], int(row[23]), int(row[24]), row[25])  # shift_start: NOT NULL
    standing = tuple(sorted(set(row[26].split(",")))) if row[26] else ()
    return ReadFacts(
        reads_today=reads_today, case=case, grant=grant, break_glass=glass,
        account_id=None if row[17] is None else int(row[17]), country=row[18],
        plain={"name": row[19], "email": row[20], "phone": row[21]}, profile=profile, standing=standing,
    )


def count_read(db: Store, employee_id: int, now: datetime) -> int:
    """Count one more read for the employee today (atomic upsert); today's count, this one included."""
    row = db.one(_BUMP, (employee_id, now.date().isoformat() if db.sqlite else now.date()))
    assert row is not None  # an upsert with RETURNING always returns its row
    return int(row[0])


def case_facts(db: Store, case_id: int) -> CaseFacts | None:
    """A case's type, customer, status and assignment."""
    row = db.one("SELECT case_type, customer_id, status, assignee_id, team, origin FROM access_case WHERE id = ?",
                 (case_id,))
    if row is None:
        return None
    return CaseFacts(case_id, CaseType(row[0]), row[1], CaseStatus(row[2]), row[3], row[4], origin=row[5])


_PLAIN_FIELDS = frozenset({"name", "email", "phone"})


def plain_only(names: tuple[str, ...]) -> bool:
    """True when every field is a plain account column (the common read): ReadFacts.plain has them all."""
    return _PLAIN_FIELDS.issuperset(names)
