"""Tables of insider detection: scans, alerts (one per employee and day), their evidence, and cases.

A case gathers the alerts of one person while it is open, so serial snooping is seen as one story; an alert's
evidence rows name the exact access events (an audit leaf index for brokered reads, the imported event's id
for the other tools), from which inclusion proofs are computed when an analyst opens the alert.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import BigInteger, Date, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ombud.db import Base, BigIntPK, JSONType, UTCDateTime, str_enum

_EMPLOYEE_FK = "staff_employee.id"


class AlertStatus(StrEnum):
    new = "new"
    assigned = "assigned"
    dismissed = "dismissed"
    escalated = "escalated"


class DismissReason(StrEnum):
    """Why an analyst dismissed an alert; the first two lower the detector's weight for the team (feedback)."""

    legitimate_work = "legitimate_work"  # the access was part of the job, on a reason Ombud did not see
    expected_for_role = "expected_for_role"  # the pattern is normal for this team or role
    duplicate = "duplicate"  # already covered by another alert or case
    insufficient_evidence = "insufficient_evidence"  # suspicious, but nothing to act on


class CaseStatus(StrEnum):
    open = "open"
    escalated = "escalated"
    closed = "closed"


class ScanStatus(StrEnum):
    running = "running"
    finished = "finished"
    failed = "failed"


class InsiderScan(Base):
    """One run of the detectors: when, on which engine, over what, and what it found."""

    __tablename__ = "insider_scan"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    status: Mapped[ScanStatus] = mapped_column(str_enum(ScanStatus, "insider_scan_status"))
    engine: Mapped[str] = mapped_column(String(16))
    since: Mapped[date | None] = mapped_column(Date)
    events: Mapped[int] = mapped_column(Integer, default=0)
    explained_share: Mapped[float | None] = mapped_column(Float)
    findings: Mapped[int] = mapped_column(Integer, default=0)
    alerts_new: Mapped[int] = mapped_column(Integer, default=0)
    #: The parameters and detector weights the scan ran with, and its explanation summary.
    params: Mapped[dict[str, Any]] = mapped_column(JSONType)
    summary: Mapped[dict[str, Any]] = mapped_column(JSONType)
    error: Mapped[str | None] = mapped_column(String(500))


class InsiderCase(Base):
    """The alerts of one employee while the case is open: repeat incidents of one person are one case."""

    __tablename__ = "insider_case"
    __table_args__ = (Index("ix_insider_case_employee_id_status", "employee_id", "status"),)

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    employee_id: Mapped[int] = mapped_column(ForeignKey(_EMPLOYEE_FK, ondelete="CASCADE"))
    status: Mapped[CaseStatus] = mapped_column(str_enum(CaseStatus, "insider_case_status"))
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    max_score: Mapped[float] = mapped_column(Float, default=0.0)


class InsiderAlert(Base):
    """What the detectors found about one employee on one day: a score, plain sentences, the findings."""

    __tablename__ = "insider_alert"
    __table_args__ = (
        UniqueConstraint("employee_id", "day"),
        Index("ix_insider_alert_status_score", "status", "score"),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("insider_case.id", ondelete="CASCADE"), index=True)
    scan_id: Mapped[int] = mapped_column(ForeignKey("insider_scan.id", ondelete="RESTRICT"), index=True)
    employee_id: Mapped[int] = mapped_column(ForeignKey(_EMPLOYEE_FK, ondelete="CASCADE"))
    day: Mapped[date] = mapped_column(Date)
    window_start: Mapped[datetime] = mapped_column(UTCDateTime)
    window_end: Mapped[datetime] = mapped_column(UTCDateTime)
    score: Mapped[float] = mapped_column(Float)
    #: One entry per finding: detector, ref, stat, n, strength, weight, text.
    findings: Mapped[list[dict[str, Any]]] = mapped_column(JSONType)
    explanation: Mapped[str] = mapped_column(Text)
    status: Mapped[AlertStatus] = mapped_column(str_enum(AlertStatus, "insider_alert_status"))
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey(_EMPLOYEE_FK, ondelete="SET NULL"), index=True)
    dismiss_reason: Mapped[DismissReason | None] = mapped_column(str_enum(DismissReason, "insider_dismiss_reason"))
    note: Mapped[str | None] = mapped_column(String(1000))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey(_EMPLOYEE_FK, ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class InsiderAlertEvent(Base):
    """One access event in an alert's evidence (a brokered read's audit leaf, or an imported event)."""

    __tablename__ = "insider_alert_event"
    __table_args__ = (UniqueConstraint("alert_id", "event_ref", "data_class"),)

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    alert_id: Mapped[int] = mapped_column(ForeignKey("insider_alert.id", ondelete="CASCADE"))
    event_ref: Mapped[str] = mapped_column(String(40))  # "a:<leaf index>" or "i:<insider_access_event.id>"
    source: Mapped[str] = mapped_column(String(64))
    audit_index: Mapped[int | None] = mapped_column(BigInteger)
    imported_id: Mapped[int | None] = mapped_column(BigInteger)
    customer_id: Mapped[str] = mapped_column(String(64))
    data_class: Mapped[str] = mapped_column(String(24))
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    decision: Mapped[str] = mapped_column(String(16))
    detectors: Mapped[list[str]] = mapped_column(JSONType)
