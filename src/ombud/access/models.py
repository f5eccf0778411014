"""Tables of the access domain: cases, grants, break-glass, usage, policy versions, reviews.

Broker decisions have no table of their own: each is its `access.read` audit leaf, read through the view
`access_read_event` (ombud.access.events).
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import BigInteger, Boolean, Date, ForeignKey, Index, Integer, SmallInteger, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ombud.db import Base, BigIntPK, JSONType, UTCDateTime, str_enum

_EMPLOYEE_FK = "staff_employee.id"


class CaseType(StrEnum):
    victim_request = "victim_request"
    support_ticket = "support_ticket"
    insider_investigation = "insider_investigation"
    incident = "incident"


class CaseOrigin(StrEnum):
    """Where a case came from: what stands behind its purpose besides the word of whoever reads for it."""

    customer_contact = "customer_contact"  # the customer contacted the retailer (its ticket feed)
    victim_request = "victim_request"  # an identity-theft victim's records request
    manager_assigned = "manager_assigned"  # a manager or overseer opened or assigned it to the reader
    self_opened = "self_opened"  # the reader opened it for themselves, nothing else behind it


class CaseStatus(StrEnum):
    open = "open"
    closed = "closed"


class GrantKind(StrEnum):
    just_in_time = "just_in_time"
    standing = "standing"


class GrantStatus(StrEnum):
    requested = "requested"
    approved = "approved"
    denied = "denied"
    cancelled = "cancelled"
    expired = "expired"
    revoked = "revoked"


class BreakGlassReview(StrEnum):
    pending = "pending"
    justified = "justified"
    unjustified = "unjustified"


class PurposeKind(StrEnum):
    case = "case"
    grant = "grant"
    break_glass = "break_glass"
    #: A victim's records request (``request:<id>``), checked by ombud.access.purposes.
    request = "request"
    none = "none"


class Decision(StrEnum):
    allowed = "allowed"
    masked = "masked"
    denied = "denied"


class RoundStatus(StrEnum):
    open = "open"
    closed = "closed"


class ReviewDecision(StrEnum):
    pending = "pending"
    confirmed = "confirmed"
    revoked = "revoked"


class AccessProfile(Base):
    """Per-employee context for the policies: shift hours, time zone and daily read limit (defaults by role)."""

    __tablename__ = "access_profile"

    employee_id: Mapped[int] = mapped_column(ForeignKey(_EMPLOYEE_FK, ondelete="CASCADE"), primary_key=True)
    daily_limit: Mapped[int | None] = mapped_column(Integer)
    shift_start: Mapped[int] = mapped_column(SmallInteger, default=0)
    shift_end: Mapped[int] = mapped_column(SmallInteger, default=24)
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Case(Base):
    """A purpose: a victim request, support ticket, insider investigation or incident about one customer."""

    __tablename__ = "access_case"
    __table_args__ = (Index("ix_access_case_customer_id_status", "customer_id", "status"),)

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    case_type: Mapped[CaseType] = mapped_column(str_enum(CaseType, "access_case_type"))
    customer_id: Mapped[str] = mapped_column(String(64))
    title: Mapped[str] = mapped_column(String(200))
    status: Mapped[CaseStatus] = mapped_column(str_enum(CaseStatus, "access_case_status"))
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey(_EMPLOYEE_FK, ondelete="SET NULL"), index=True)
    team: Mapped[str | None] = mapped_column(String(100))
    source: Mapped[str | None] = mapped_column(String(100))
    origin: Mapped[CaseOrigin] = mapped_column(str_enum(CaseOrigin, "access_case_origin"))
    #: The retailer's reference of the origin (the contact's ticket id, the victim request's reference).
    origin_ref: Mapped[str | None] = mapped_column(String(100))
    opened_by_id: Mapped[int | None] = mapped_column(ForeignKey(_EMPLOYEE_FK, ondelete="SET NULL"))
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_by_id: Mapped[int | None] = mapped_column(ForeignKey(_EMPLOYEE_FK, ondelete="SET NULL"))
    close_reason: Mapped[str | None] = mapped_column(String(300))


class Grant(Base):
    """Access beyond a role: just-in-time (one customer, time-boxed) or standing (any case, recertified)."""

    __tablename__ = "access_grant"
    __table_args__ = (Index("ix_access_grant_employee_id_status", "employee_id", "status"),)

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    kind: Mapped[GrantKind] = mapped_column(str_enum(GrantKind, "access_grant_kind"))
    employee_id: Mapped[int] = mapped_column(ForeignKey(_EMPLOYEE_FK, ondelete="CASCADE"))
    customer_id: Mapped[str | None] = mapped_column(String(64), index=True)
    data_class: Mapped[str] = mapped_column(String(24))
    justification: Mapped[str] = mapped_column(Text)
    duration_minutes: Mapped[int | None] = mapped_column(Integer)
    status: Mapped[GrantStatus] = mapped_column(str_enum(GrantStatus, "access_grant_status"))
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey(_EMPLOYEE_FK, ondelete="SET NULL"))
    decision_note: Mapped[str | None] = mapped_column(String(500))
    starts_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    ended_by_id: Mapped[int | None] = mapped_column(ForeignKey(_EMPLOYEE_FK, ondelete="SET NULL"))
    end_reason: Mapped[str | None] = mapped_column(String(300))


class BreakGlass(Base):
    """Emergency access: immediate, justified, time-boxed, always raised to security and reviewed afterwards."""

    __tablename__ = "access_break_glass"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    employee_id: Mapped[int] = mapped_column(ForeignKey(_EMPLOYEE_FK, ondelete="CASCADE"), index=True)
    customer_id: Mapped[str] = mapped_column(String(64), index=True)
    classes: Mapped[list[str]] = mapped_column(JSONType)
    justification: Mapped[str] = mapped_column(Text)
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    raised_at: Mapped[datetime] = mapped_column(UTCDateTime)
    review: Mapped[BreakGlassReview] = mapped_column(str_enum(BreakGlassReview, "access_break_glass_review"))
    reviewed_by_id: Mapped[int | None] = mapped_column(ForeignKey(_EMPLOYEE_FK, ondelete="SET NULL"))
    reviewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    review_note: Mapped[str | None] = mapped_column(String(1000))


class ReadTeamLegacy(Base):
    """The team and region of a read recorded before its audit leaf carried them (migration 0009 kept them).

    Since then an ``access.read`` leaf holds the reader's team and region in its detail; the decision row that
    once held them beside the leaf is gone, and this table keeps only what older leaves cannot tell.
    """

    __tablename__ = "access_read_legacy"

    audit_index: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    team: Mapped[str] = mapped_column(String(100))
    region: Mapped[str] = mapped_column(String(50))


class DailyUsage(Base):
    """Broker reads per employee per UTC day, counted atomically for the volume guard."""

    __tablename__ = "access_daily_usage"

    employee_id: Mapped[int] = mapped_column(ForeignKey(_EMPLOYEE_FK, ondelete="CASCADE"), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    reads: Mapped[int] = mapped_column(Integer)


class PolicyVersion(Base):
    """A policy set the broker has run with; a new row (and an audit event) whenever its hash changes."""

    __tablename__ = "access_policy_version"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    digest: Mapped[str] = mapped_column(String(64))
    #: The version this one replaced (0 for the first); unique, so two workers cannot both record one change.
    previous_id: Mapped[int] = mapped_column(BigInteger, unique=True)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime)
    files: Mapped[dict[str, Any]] = mapped_column(JSONType)


class ReviewRound(Base):
    """A recertification round: managers confirm or revoke their reports' standing access."""

    __tablename__ = "access_review_round"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    status: Mapped[RoundStatus] = mapped_column(str_enum(RoundStatus, "access_review_round_status"))
    unused_days: Mapped[int] = mapped_column(Integer)
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime)
    opened_by_id: Mapped[int | None] = mapped_column(ForeignKey(_EMPLOYEE_FK, ondelete="SET NULL"))
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_by_id: Mapped[int | None] = mapped_column(ForeignKey(_EMPLOYEE_FK, ondelete="SET NULL"))


class ReviewItem(Base):
    """One standing grant to confirm or revoke in a round, with its recent use."""

    __tablename__ = "access_review_item"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("access_review_round.id", ondelete="CASCADE"), index=True)
    grant_id: Mapped[int] = mapped_column(ForeignKey("access_grant.id", ondelete="CASCADE"))
    employee_id: Mapped[int] = mapped_column(ForeignKey(_EMPLOYEE_FK, ondelete="CASCADE"))
    reviewer_id: Mapped[int | None] = mapped_column(ForeignKey(_EMPLOYEE_FK, ondelete="SET NULL"), index=True)
    data_class: Mapped[str] = mapped_column(String(24))
    reads_in_window: Mapped[int] = mapped_column(Integer)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    flagged_unused: Mapped[bool] = mapped_column(Boolean)
    decision: Mapped[ReviewDecision] = mapped_column(str_enum(ReviewDecision, "access_review_decision"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey(_EMPLOYEE_FK, ondelete="SET NULL"))
    note: Mapped[str | None] = mapped_column(String(500))
