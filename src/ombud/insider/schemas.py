"""Pydantic shapes of insider alerts for the API (the employee pseudonymised until escalation)."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, Field

from ombud.insider.models import AlertStatus, DismissReason


class FindingRead(BaseModel):
    detector: str
    ref: str
    stat: float
    n: int
    strength: float = Field(description="How far past its threshold the detector's statistic is, 0-1.")
    weight: float = Field(description="The detector's weight from analysts' earlier outcomes, 0-1.")
    text: str
    continued: bool = Field(False, description="Continues a finding of the same kind within the episode.")
    day: str | None = Field(None, description="For a continuation added to the alert: the day it was found.")


class AlertRead(BaseModel):
    id: int
    case_id: int
    day: date
    employee: str = Field(description="A pseudonym until the alert is escalated, then the directory id.")
    revealed: bool
    score: float
    status: AlertStatus
    assignee: str | None
    dismiss_reason: DismissReason | None
    window_start: datetime
    window_end: datetime
    explanation: str
    findings: list[FindingRead]


class AlertPage(BaseModel):
    items: list[AlertRead]
    total: int


class EvidenceRead(BaseModel):
    event: str = Field(description='"a:<audit leaf index>" for a brokered read, "i:<id>" for an imported event.')
    source: str
    audit_index: int | None
    imported_id: int | None
    customer_id: str
    data_class: str
    at: datetime
    decision: str
    detectors: list[str]
    leaf_hash: str | None = None
    proof: list[str] | None = Field(None, description="RFC 9162 inclusion proof (base64) in the checkpoint's tree.")


class AlertDetail(AlertRead):
    events: list[EvidenceRead]
    checkpoint: str | None = Field(None, description="The signed checkpoint note the proofs lead to.")
    tree_size: int | None = None
    root_hash: str | None = None


class AssignBody(BaseModel):
    assignee: str | None = Field(None, max_length=320, description="Another analyst; default: yourself.")


class DismissBody(BaseModel):
    reason: DismissReason
    note: str | None = Field(None, max_length=1000)


class EscalateBody(BaseModel):
    note: str | None = Field(None, max_length=1000)


class EscalationRead(BaseModel):
    """What an incident is opened from: the actor, the window and the exact events."""

    alert_id: int
    case_id: int
    employee_id: int
    employee: str
    window_start: datetime
    window_end: datetime
    audit_indexes: list[int]
    imported_ids: list[int]
    customers: list[str]
    explanation: str
