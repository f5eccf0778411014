"""Tables of the incidents domain: incidents, their timeline, exposure scopes, notices, templates, deadlines."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import BigInteger, Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ombud.db import Base, BigIntPK, JSONType, UTCDateTime, str_enum

_EMPLOYEE_FK = "staff_employee.id"
_INCIDENT_FK = "incident.id"


class IncidentKind(StrEnum):
    insider = "insider"  # staff looked at or took customer data
    leaked_export = "leaked_export"
    vendor = "vendor"
    other = "other"


class IncidentStatus(StrEnum):
    open = "open"  # being investigated; exposure not computed yet
    scoped = "scoped"  # exposure computed (and recomputable)
    approved = "approved"  # a privacy officer approved the notices of the current scope
    notifying = "notifying"  # notices queued; deadlines tracked
    closed = "closed"


class NoticeStatus(StrEnum):
    queued = "queued"  # written to the outbox (email) or waiting to be printed (letter)
    sent = "sent"
    bounced = "bounced"
    failed = "failed"
    printed = "printed"  # a letter's PDF produced for the print run


class NoticeChannel(StrEnum):
    email = "email"
    letter = "letter"


class DeadlineKind(StrEnum):
    individuals = "individuals"
    regulator = "regulator"


class Incident(Base):
    """A breach or suspected breach: who (actors) and when (window), discovered when, and where it stands."""

    __tablename__ = "incident"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    kind: Mapped[IncidentKind] = mapped_column(str_enum(IncidentKind, "incident_kind"))
    status: Mapped[IncidentStatus] = mapped_column(str_enum(IncidentStatus, "incident_status"))
    description: Mapped[str] = mapped_column(Text)
    #: Employee directory ids (audit actor ids) whose accesses are in scope; empty for incidents not by staff.
    actors: Mapped[list[str]] = mapped_column(JSONType)
    window_start: Mapped[datetime] = mapped_column(UTCDateTime)
    window_end: Mapped[datetime] = mapped_column(UTCDateTime)
    #: The legal clock runs from here.
    discovered_at: Mapped[datetime] = mapped_column(UTCDateTime)
    source_alert_id: Mapped[int | None] = mapped_column(BigInteger, unique=True)
    owner_id: Mapped[int | None] = mapped_column(ForeignKey(_EMPLOYEE_FK, ondelete="SET NULL"), index=True)
    opened_by_id: Mapped[int | None] = mapped_column(ForeignKey(_EMPLOYEE_FK, ondelete="SET NULL"))
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    #: Notice wording the retailer writes for this incident (the template places it under the headings).
    what_happened: Mapped[str] = mapped_column(Text, default="")
    what_we_are_doing: Mapped[str] = mapped_column(Text, default="")
    law_enforcement_delay: Mapped[bool] = mapped_column(Boolean, default=False)
    current_scope_id: Mapped[int | None] = mapped_column(BigInteger)
    approved_scope_id: Mapped[int | None] = mapped_column(BigInteger)
    approved_by_id: Mapped[int | None] = mapped_column(ForeignKey(_EMPLOYEE_FK, ondelete="SET NULL"))
    approved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: The notice wording version (NoticeTemplate) the approval was of; sending renders exactly this one.
    approved_template_id: Mapped[int | None] = mapped_column(BigInteger)
    notices_sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class IncidentEntry(Base):
    """The incident's timeline: every transition, scope, approval, sending and note, with its audit leaf."""

    __tablename__ = "incident_entry"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey(_INCIDENT_FK, ondelete="CASCADE"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    kind: Mapped[str] = mapped_column(String(40))
    employee_id: Mapped[int | None] = mapped_column(ForeignKey(_EMPLOYEE_FK, ondelete="SET NULL"))
    text: Mapped[str] = mapped_column(Text, default="")
    audit_index: Mapped[int | None] = mapped_column(BigInteger)


class IncidentScope(Base):
    """One computation of an incident's exposure, against the log as verified and signed at `tree_size`."""

    __tablename__ = "incident_scope"
    __table_args__ = (UniqueConstraint("incident_id", "version"),)

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey(_INCIDENT_FK, ondelete="CASCADE"), index=True)
    version: Mapped[int] = mapped_column(Integer)
    computed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    computed_by_id: Mapped[int | None] = mapped_column(ForeignKey(_EMPLOYEE_FK, ondelete="SET NULL"))
    actors: Mapped[list[str]] = mapped_column(JSONType)
    window_start: Mapped[datetime] = mapped_column(UTCDateTime)
    window_end: Mapped[datetime] = mapped_column(UTCDateTime)
    #: The signed checkpoint every row's leaves are proved against, and what the verification found.
    tree_size: Mapped[int] = mapped_column(BigInteger)
    root_hash: Mapped[str] = mapped_column(String(64))
    verification: Mapped[str] = mapped_column(String(300))
    reads_scanned: Mapped[int] = mapped_column(BigInteger)
    imported_scanned: Mapped[int] = mapped_column(BigInteger)
    customers: Mapped[int] = mapped_column(Integer)
    rows: Mapped[int] = mapped_column(Integer)
    by_jurisdiction: Mapped[dict[str, Any]] = mapped_column(JSONType)
    diff: Mapped[dict[str, Any] | None] = mapped_column(JSONType)


class Exposure(Base):
    """One customer x item shown unmasked in a scope: when first and last, how often, and the events behind it."""

    __tablename__ = "incident_exposure"
    __table_args__ = (
        UniqueConstraint("scope_id", "customer_id", "item", "source"),
        Index("ix_incident_exposure_customer_id", "customer_id"),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    scope_id: Mapped[int] = mapped_column(ForeignKey("incident_scope.id", ondelete="CASCADE"))
    customer_id: Mapped[str] = mapped_column(String(64))
    item: Mapped[str] = mapped_column(String(100))
    data_class: Mapped[str] = mapped_column(String(32))
    source: Mapped[str] = mapped_column(String(64))
    jurisdiction: Mapped[str] = mapped_column(String(16))
    first_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_at: Mapped[datetime] = mapped_column(UTCDateTime)
    events: Mapped[int] = mapped_column(Integer)
    #: Audit leaf indexes (brokered reads) and imported event ids behind this row.
    leaves: Mapped[list[int]] = mapped_column(JSONType)
    imported: Mapped[list[int]] = mapped_column(JSONType)


class Notice(Base):
    """One customer's notice of one incident over one channel; the outbox message is its email."""

    __tablename__ = "incident_notice"
    __table_args__ = (UniqueConstraint("incident_id", "customer_id", "channel"),)

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey(_INCIDENT_FK, ondelete="CASCADE"), index=True)
    scope_id: Mapped[int] = mapped_column(ForeignKey("incident_scope.id", ondelete="CASCADE"))
    customer_id: Mapped[str] = mapped_column(String(64), index=True)
    channel: Mapped[NoticeChannel] = mapped_column(str_enum(NoticeChannel, "incident_notice_channel"))
    jurisdiction: Mapped[str] = mapped_column(String(16))
    status: Mapped[NoticeStatus] = mapped_column(str_enum(NoticeStatus, "incident_notice_status"))
    items: Mapped[list[str]] = mapped_column(JSONType)
    dedupe_key: Mapped[str] = mapped_column(String(200), unique=True)
    outbox_id: Mapped[int | None] = mapped_column(BigInteger)
    #: The notice wording version it was rendered with (None: queued before wording was versioned).
    template_id: Mapped[int | None] = mapped_column(BigInteger)
    sends: Mapped[int] = mapped_column(Integer, default=1)
    queued_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class IncidentDeadline(Base):
    """A legal deadline of an incident, computed once from the discovery date and the rules, then tracked."""

    __tablename__ = "incident_deadline"
    __table_args__ = (UniqueConstraint("incident_id", "jurisdiction", "kind"),)

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey(_INCIDENT_FK, ondelete="CASCADE"), index=True)
    jurisdiction: Mapped[str] = mapped_column(String(16))
    kind: Mapped[DeadlineKind] = mapped_column(str_enum(DeadlineKind, "incident_deadline_kind"))
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    customers: Mapped[int] = mapped_column(Integer)
    basis: Mapped[str] = mapped_column(String(300))
    met_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reminded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    escalated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


#: The owner key of the retailer-wide default wording (an incident's own versions use "incident:<id>").
DEFAULT_TEMPLATE_OWNER = "default"


class NoticeTemplate(Base):
    """One saved version of notice wording: an incident's own, or the retailer's default for every incident.

    Versions are never edited: a change is a new version, audited with who and when. An approval names the version
    it approved, and the notices are rendered with exactly that one.
    """

    __tablename__ = "incident_notice_template"
    __table_args__ = (UniqueConstraint("owner", "version"),)

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    #: "default" or "incident:<id>" (a key rather than a nullable id, so versions are unique for the default too).
    owner: Mapped[str] = mapped_column(String(40))
    incident_id: Mapped[int | None] = mapped_column(ForeignKey(_INCIDENT_FK, ondelete="CASCADE"), index=True)
    version: Mapped[int] = mapped_column(Integer)
    subject: Mapped[str] = mapped_column(Text)
    body_text: Mapped[str] = mapped_column(Text)
    body_html: Mapped[str | None] = mapped_column(Text)
    note: Mapped[str] = mapped_column(String(300), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey(_EMPLOYEE_FK, ondelete="SET NULL"))
    audit_index: Mapped[int | None] = mapped_column(BigInteger)
