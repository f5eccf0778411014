"""Broker decisions as the reports read them: a projection of the audit log, never a second copy.

A broker decision is recorded once, as its ``access.read`` audit leaf. The view ``access_read_event`` (created
by migration 0009 on both stores) spells each such leaf out in the columns reports want: the reader (directory
id and row id), their team and region at the time, the customer, the purpose, the decision in the broker's words
(allowed / masked / denied), the classes shown and masked, the fields, the policies and the reason. Every reader
of decisions — the decisions page and API, customer transparency, the minimisation report and review rounds —
queries this view, so none of them can disagree with the log, and a read writes nothing but its leaf.

Leaves written before migration 0009 do not carry the reader's team and region; the migration kept those of
the old decision rows in ``access_read_legacy``, which the view falls back to.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import BigInteger, Column, MetaData, String, Table, Text, case, func, select, type_coerce
from sqlalchemy.orm import Session

from ombud.access.classes import DataClass
from ombud.access.models import Decision, PurposeKind
from ombud.db import UTCDateTime
from ombud.staff.models import Employee

#: The audit action of a broker decision (what insider detection and incidents read in ``audit_event``).
READ_ACTION = "access.read"

#: The view, declared for queries only (its own metadata: no model creates it; migration 0009 does).
VIEW = Table(
    "access_read_event",
    MetaData(),
    Column("audit_index", BigInteger, primary_key=True),
    Column("at", UTCDateTime),
    Column("employee", String(100)),  # the reader's directory id (audit_event.actor_id)
    Column("employee_id", BigInteger),
    Column("team", String(100)),
    Column("region", String(50)),
    Column("customer_id", String(64)),
    Column("purpose_kind", String(24)),
    Column("purpose_id", BigInteger),
    Column("case_type", String(24)),
    Column("decision", String(24)),
    Column("classes_allowed", Text),  # JSON arrays, as the leaf holds them
    Column("classes_masked", Text),
    Column("fields", Text),
    Column("policy_ids", Text),
    Column("reason", Text),
)

_CLASS_ORDER = {cls: i for i, cls in enumerate(DataClass)}


@lru_cache(maxsize=4096)
def _names(text: str | None) -> tuple[str, ...]:
    if not text:
        return ()
    value = json.loads(text)
    return tuple(value) if isinstance(value, list) else ()


@lru_cache(maxsize=4096)
def _classes(text: str | None) -> tuple[DataClass, ...]:
    known = [DataClass(c) for c in _names(text) if c in DataClass.__members__]
    return tuple(sorted(known, key=_CLASS_ORDER.__getitem__))


@dataclass(frozen=True)
class AccessEvent:
    """One broker decision, read from its audit leaf."""

    audit_index: int
    at: datetime
    employee: str | None
    employee_id: int | None
    team: str
    region: str
    #: None for the opening of a victim's evidence file (field ``evidence``, purpose ``request:<id>``).
    customer_id: str | None
    purpose_kind: PurposeKind
    purpose_id: int | None
    case_type: str | None
    decision: Decision
    classes_allowed: tuple[DataClass, ...]
    classes_masked: tuple[DataClass, ...]
    fields: tuple[str, ...]
    policy_ids: tuple[str, ...]
    reason: str | None

    @property
    def purpose(self) -> str:
        """The purpose as the broker names it: ``case:12``, ``grant:5``, ``break_glass:3`` or ``none``."""
        if self.purpose_kind is PurposeKind.none:
            return "none"
        return f"{self.purpose_kind.value}:{self.purpose_id}"


def _event(row: Any) -> AccessEvent:
    return AccessEvent(
        audit_index=row.audit_index, at=row.at, employee=row.employee, employee_id=row.employee_id,
        team=row.team or "", region=row.region or "", customer_id=row.customer_id,
        purpose_kind=PurposeKind(row.purpose_kind), purpose_id=row.purpose_id, case_type=row.case_type,
        decision=Decision(row.decision), classes_allowed=_classes(row.classes_allowed),
        classes_masked=_classes(row.classes_masked), fields=_names(row.fields), policy_ids=_names(row.policy_ids),
        reason=row.reason,
    )


def _directory_id(session: Session, employee_id: int) -> str | None:
    employee = session.get(Employee, employee_id)
    return None if employee is None else employee.external_id


def query(
    *, employee: str | None = None, customer_id: str | None = None, decision: Decision | None = None,
    shown_only: bool = False,
) -> Any:
    """The select over the view with these filters (no order, no limit): for pages that sort and page it."""
    stmt = select(VIEW)
    if employee is not None:
        stmt = stmt.where(VIEW.c.employee == employee)
    if customer_id:
        stmt = stmt.where(VIEW.c.customer_id == customer_id)
    if decision is not None:
        stmt = stmt.where(VIEW.c.decision == decision.value)
    if shown_only:  # something was shown unmasked: not refused, and at least one class allowed
        stmt = stmt.where(VIEW.c.decision != Decision.denied.value, VIEW.c.classes_allowed != "[]")
    return stmt


def rows_to_events(rows: Any) -> list[AccessEvent]:
    """AccessEvent objects of rows selected from the view."""
    return [_event(r) for r in rows]


def recent(
    session: Session, *, limit: int = 50, offset: int = 0, employee_id: int | None = None,
    customer_id: str | None = None, decision: Decision | None = None,
) -> list[AccessEvent]:
    """The broker's latest decisions, newest first (log order)."""
    employee = None
    if employee_id is not None:
        employee = _directory_id(session, employee_id)
        if employee is None:
            return []
    stmt = query(employee=employee, customer_id=customer_id, decision=decision)
    stmt = stmt.order_by(VIEW.c.audit_index.desc()).limit(min(max(limit, 1), 500)).offset(max(offset, 0))
    return rows_to_events(session.execute(stmt))


def get(session: Session, audit_index: int) -> AccessEvent | None:
    """The decision recorded at this leaf, or None when the leaf is not a broker decision."""
    row = session.execute(select(VIEW).where(VIEW.c.audit_index == audit_index)).first()
    return None if row is None else _event(row)


def shown_to_staff(session: Session, customer_id: str, *, limit: int = 500) -> list[AccessEvent]:
    """Decisions that showed some of this customer's data unmasked, newest first."""
    stmt = query(customer_id=customer_id, shown_only=True).order_by(VIEW.c.at.desc(), VIEW.c.audit_index.desc())
    return rows_to_events(session.execute(stmt.limit(min(max(limit, 1), 5000))))


@dataclass
class Usage:
    """Reads that showed a class, and the last of them."""

    reads: int = 0
    last_at: datetime | None = None


def usage_by_employee(session: Session, since: datetime) -> dict[int, dict[DataClass, Usage]]:
    """Reads that showed each class (allowed, not masked) per employee since a time, set-wise in the store."""
    columns = []
    for cls in DataClass:
        # The leaf's class list is a JSON array of class names: a quoted name matches that class only.
        hit = VIEW.c.classes_allowed.like(f'%"{cls.value}"%')
        columns.append(func.sum(case((hit, 1), else_=0)).label(f"n_{cls.value}"))
        columns.append(type_coerce(func.max(case((hit, VIEW.c.at), else_=None)), UTCDateTime).label(
            f"t_{cls.value}"))
    rows = session.execute(
        select(VIEW.c.employee_id, *columns)
        .where(VIEW.c.at >= since, VIEW.c.employee_id.is_not(None), VIEW.c.decision != Decision.denied.value)
        .group_by(VIEW.c.employee_id)
    ).all()
    out: dict[int, dict[DataClass, Usage]] = {}
    for row in rows:
        mapping = row._mapping
        out[int(row[0])] = {
            cls: Usage(int(mapping[f"n_{cls.value}"] or 0), mapping[f"t_{cls.value}"]) for cls in DataClass
        }
    return out
