"""Writing the victim-requests domain's events to the audit log: references only, never personal data."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal

from sqlalchemy.orm import Session

from ombud.audit.events import AuditEvent, DetailValue
from ombud.audit.service import append_event
from ombud.staff.models import Employee

#: Who acts: an employee, the requester (through the portal or their status link), or the system.
Actor = Employee | Literal["victim"] | None


def actor_of(actor: Actor) -> tuple[str, str]:
    """(actor_type, actor_id) of whoever acts."""
    if actor is None:
        return "system", "ombud.victim_requests"
    if actor == "victim":
        return "victim", "requester"
    return "employee", actor.external_id


def purpose_of(request_id: int) -> str:
    """The purpose text every read and action for a request carries."""
    return f"request:{request_id}"


def record(
    session: Session, action: str, actor: Actor, request_id: int, *, detail: Mapping[str, DetailValue] | None = None,
    customer_id: str | None = None, fields: tuple[str, ...] = (), decision: str | None = None,
) -> int:
    """Append one audit event about a request in the caller's transaction; returns its leaf index."""
    actor_type, actor_id = actor_of(actor)
    return append_event(session, AuditEvent(
        action=action, actor_type=actor_type, actor_id=actor_id, customer_id=customer_id,
        subject_type="victim_request", subject_id=str(request_id), fields=fields,
        purpose=purpose_of(request_id), decision=decision, detail=dict(detail or {}),
    ))
