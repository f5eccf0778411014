"""Tables of the victim-requests domain: the request, its evidence, verification, matches, declines, timeline.

Personal data of the requester (identifiers, contact, what they know, the agency they authorise, uploaded
files) is stored encrypted with the field-encryption key (AES-256-GCM, a context per column); the few values
the store must compare (email, SSN, name with date of birth) are kept as keyed hashes; card numbers only as
keyed fingerprints with their last four digits.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from ombud.db import Base, BigIntPK, JSONType, UTCDateTime, str_enum
from ombud.victim_requests.states import Channel, DeclineGround, Status

_EMPLOYEE_FK = "staff_employee.id"
_REQUEST_FK = "victim_request.id"

__all__ = [
    "Channel", "DeclineGround", "DeclineState", "EvidenceKind", "MatchVerdict", "RequestDecline", "RequestEvent",
    "RequestEvidence", "RequestMatch", "RequestVerification", "Status", "SubjectKind", "VictimRequest",
]


class SubjectKind(StrEnum):
    account = "account"
    payment_method = "payment_method"
    credit_application = "credit_application"


class MatchVerdict(StrEnum):
    fraud = "fraud"
    own = "own"
    unrelated = "unrelated"


class EvidenceKind(StrEnum):
    government_id = "government_id"
    ftc_report = "ftc_report"
    police_report = "police_report"
    affidavit = "affidavit"
    letter = "letter"
    other = "other"


class DeclineState(StrEnum):
    proposed = "proposed"
    confirmed = "confirmed"
    rejected = "rejected"


class VictimRequest(Base):
    """One records request of an identity-theft victim, with its 30-day clock."""

    __tablename__ = "victim_request"
    __table_args__ = (
        Index("ix_victim_request_status_due_at", "status", "due_at"),
        Index("ix_victim_request_received_at", "received_at"),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    reference: Mapped[str] = mapped_column(String(20), unique=True)
    status: Mapped[Status] = mapped_column(str_enum(Status, "victim_request_status"))
    channel: Mapped[Channel] = mapped_column(str_enum(Channel, "victim_request_channel"))
    #: When the request reached the designated channel (for a letter: the day it arrived, not the day typed in).
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)
    #: received_at + 30 days, end of that local day in the designated channel's zone; computed once, never moved.
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    entered_at: Mapped[datetime] = mapped_column(UTCDateTime)
    status_changed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    escalated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    overdue_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: The highest reminder day already sent (0: none).
    reminders_sent: Mapped[int] = mapped_column(Integer, default=0)
    #: When the sweep next has something to do for this request (a reminder, the escalation, the due date);
    #: None once the clock has stopped. The sweep reads only rows whose time has come (indexed).
    next_check_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    entered_by_id: Mapped[int | None] = mapped_column(ForeignKey(_EMPLOYEE_FK, ondelete="SET NULL"))
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey(_EMPLOYEE_FK, ondelete="SET NULL"), index=True)
    team: Mapped[str | None] = mapped_column(String(100))
    #: Encrypted JSON: the victim's own identifiers (names, emails, phones, addresses, date of birth, SSN).
    identifiers_enc: Mapped[bytes] = mapped_column(LargeBinary)
    #: Encrypted JSON: how to reach the requester (name, email, phone, postal address).
    contact_enc: Mapped[bytes] = mapped_column(LargeBinary)
    #: Encrypted JSON: what the requester knows and chose to give (dates, account or transaction numbers, account).
    known_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    #: Encrypted JSON: a law-enforcement agency the victim authorises to receive the records.
    agency_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    #: Cards the victim named: keyed fingerprint and last four digits only.
    cards: Mapped[list[dict[str, str]]] = mapped_column(JSONType)
    email_hash: Mapped[str | None] = mapped_column(String(32), index=True)
    ssn_hash: Mapped[str | None] = mapped_column(String(32), index=True)
    name_dob_hash: Mapped[str | None] = mapped_column(String(32), index=True)
    #: The most recent earlier request by the same person: a repeat is linked, never refused or merged.
    previous_request_id: Mapped[int | None] = mapped_column(ForeignKey(_REQUEST_FK, ondelete="SET NULL"))
    status_token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    idempotency_key: Mapped[str | None] = mapped_column(String(80), unique=True)


class RequestEvidence(Base):
    """An uploaded document: government ID, FTC or police report, affidavit, a mailed letter's scan."""

    __tablename__ = "victim_request_evidence"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey(_REQUEST_FK, ondelete="CASCADE"), index=True)
    kind: Mapped[EvidenceKind] = mapped_column(str_enum(EvidenceKind, "victim_request_evidence_kind"))
    #: Sniffed from the bytes (application/pdf, image/jpeg, image/png), never taken from the name.
    content_type: Mapped[str] = mapped_column(String(40))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    filename_enc: Mapped[bytes] = mapped_column(LargeBinary)
    data_enc: Mapped[bytes] = mapped_column(LargeBinary)
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime)
    #: None when the requester uploaded it.
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey(_EMPLOYEE_FK, ondelete="SET NULL"))


class RequestVerification(Base):
    """A verifier's decision on the requester's identity, and its recorded basis."""

    __tablename__ = "victim_request_verification"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey(_REQUEST_FK, ondelete="CASCADE"), index=True)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey(_EMPLOYEE_FK, ondelete="SET NULL"))
    decided_at: Mapped[datetime] = mapped_column(UTCDateTime)
    confident: Mapped[bool] = mapped_column(Boolean)
    basis: Mapped[list[str]] = mapped_column(JSONType)
    note: Mapped[str | None] = mapped_column(Text)


class RequestMatch(Base):
    """An account, card or credit application discovery found for the request, and the agent's verdict on it."""

    __tablename__ = "victim_request_match"
    __table_args__ = (UniqueConstraint("request_id", "subject_kind", "subject_id"),)

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey(_REQUEST_FK, ondelete="CASCADE"), index=True)
    subject_kind: Mapped[SubjectKind] = mapped_column(str_enum(SubjectKind, "victim_request_subject_kind"))
    #: The retailer's own id of the account, payment method or credit application.
    subject_id: Mapped[str] = mapped_column(String(64))
    #: The account the subject belongs to (the customer the broker reads), when it has one.
    account_ref: Mapped[str | None] = mapped_column(String(64))
    probability: Mapped[float | None] = mapped_column(Float)
    suggested: Mapped[str | None] = mapped_column(String(40))
    #: Encrypted JSON: discovery's summary, signals and explanation (its words quote the victim's identifiers).
    explanation_enc: Mapped[bytes] = mapped_column(LargeBinary)
    found_at: Mapped[datetime] = mapped_column(UTCDateTime)
    verdict: Mapped[MatchVerdict | None] = mapped_column(str_enum(MatchVerdict, "victim_request_match_verdict"))
    note: Mapped[str | None] = mapped_column(Text)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey(_EMPLOYEE_FK, ondelete="SET NULL"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class RequestDecline(Base):
    """A decline on one statutory ground: proposed by one person, confirmed by a different privacy officer."""

    __tablename__ = "victim_request_decline"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey(_REQUEST_FK, ondelete="CASCADE"), index=True)
    ground: Mapped[DeclineGround] = mapped_column(str_enum(DeclineGround, "victim_request_decline_ground"))
    explanation: Mapped[str] = mapped_column(Text)
    state: Mapped[DeclineState] = mapped_column(str_enum(DeclineState, "victim_request_decline_state"))
    proposed_by_id: Mapped[int | None] = mapped_column(ForeignKey(_EMPLOYEE_FK, ondelete="SET NULL"))
    proposed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    reviewed_by_id: Mapped[int | None] = mapped_column(ForeignKey(_EMPLOYEE_FK, ondelete="SET NULL"))
    reviewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    review_note: Mapped[str | None] = mapped_column(Text)


class RequestEvent(Base):
    """One line of a request's timeline (each with the audit leaf that records it)."""

    __tablename__ = "victim_request_event"
    __table_args__ = (UniqueConstraint("request_id", "dedupe_key"),)

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey(_REQUEST_FK, ondelete="CASCADE"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    kind: Mapped[str] = mapped_column(String(40))
    from_status: Mapped[str | None] = mapped_column(String(24))
    to_status: Mapped[str | None] = mapped_column(String(24))
    actor_type: Mapped[str] = mapped_column(String(16))
    actor_id: Mapped[str] = mapped_column(String(100))
    detail: Mapped[dict[str, Any]] = mapped_column(JSONType)
    audit_index: Mapped[int | None] = mapped_column(BigInteger)
    #: Set for things that must happen once (a reminder of day 10, the escalation): the sweep's idempotency.
    dedupe_key: Mapped[str | None] = mapped_column(String(64))
