"""Writing the access domain's events to the audit log (references only, never personal data)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime

from sqlalchemy.orm import Session

from ombud.audit.batch import CanonicalDetail
from ombud.audit.events import AuditEvent, DetailValue
from ombud.audit.service import append_event
from ombud.staff.models import Employee


def actor_of(employee: Employee | None) -> tuple[str, str]:
    """(actor_type, actor_id) of whoever acts: an employee by directory id, else the system."""
    if employee is None:
        return "system", "ombud.access"
    return "employee", employee.external_id


def record(
    session: Session,
    action: str,
    actor: Employee | None,
    *,
    customer_id: str | None = None,
    subject_type: str | None = None,
    subject_id: int | str | None = None,
    fields: Iterable[str] = (),
    purpose: str | None = None,
    decision: str | None = None,
    detail: Mapping[str, DetailValue] | None = None,
    at: datetime | None = None,
) -> int:
    """Append one audit event in the caller's transaction; returns its leaf index."""
    actor_type, actor_id = actor_of(actor)
    event = AuditEvent(
        action=action,
        actor_type=actor_type,
        actor_id=actor_id,
        customer_id=customer_id,
        subject_type=subject_type,
        subject_id=None if subject_id is None else str(subject_id),
        fields=tuple(fields),
        purpose=purpose,
        decision=decision,
        # A detail filled from a template (the broker's reads) keeps its checked canonical form; others are copied.
        detail=detail if type(detail) is CanonicalDetail else dict(detail or {}),
        at=at,
    )
    return append_event(session, event)
