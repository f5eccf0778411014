"""Triage of alerts by security analysts: a state machine whose every move, and every read, is on the record.

new -> assigned -> dismissed (with a reason) | escalated; new -> dismissed | escalated; dismissed -> assigned
(reopened). Escalation marks the alert and its case escalated; the incidents domain opens an incident from an
escalated alert (`escalation()` gives it the actors, the window and the evidence events). Until then analysts
see the employee only under a pseudonym.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Final

from sqlalchemy.orm import Session

from ombud import clock
from ombud.audit.events import AuditEvent
from ombud.audit.service import append_event
from ombud.crypto import keyed_hash
from ombud.errors import InvalidInput, InvalidTransition, PolicyDenied
from ombud.insider import service
from ombud.insider.models import AlertStatus, CaseStatus, DismissReason, InsiderAlert, InsiderCase
from ombud.staff.models import Employee, Role

#: Allowed moves: from -> the states it may go to.
MOVES: Final[dict[AlertStatus, frozenset[AlertStatus]]] = {
    AlertStatus.new: frozenset({AlertStatus.assigned, AlertStatus.dismissed, AlertStatus.escalated}),
    AlertStatus.assigned: frozenset({AlertStatus.assigned, AlertStatus.dismissed, AlertStatus.escalated}),
    AlertStatus.dismissed: frozenset({AlertStatus.assigned}),
    AlertStatus.escalated: frozenset(),
}

ANALYST_ROLES: Final = frozenset({Role.security_analyst, Role.admin})


def require_analyst(actor: Employee) -> None:
    """Only security analysts (and admins) triage insider alerts."""
    if actor.role not in ANALYST_ROLES or not actor.active:
        raise PolicyDenied("insider alerts are for security analysts")


def pseudonym(identifier_key: bytes, employee_id: int) -> str:
    """A stable pseudonym of an employee for analysts ("Employee 3f9a1c2b"): the same person, never their name."""
    return "Employee " + keyed_hash(identifier_key, "insider-pseudonym", str(employee_id))[:8]


def revealed(alert: InsiderAlert) -> bool:
    """Whether analysts may see who the employee is: only once the alert is escalated."""
    return alert.status == AlertStatus.escalated


def _audit(session: Session, action: str, actor: Employee, alert: InsiderAlert, detail: dict[str, object]) -> int:
    return append_event(session, AuditEvent(
        action=f"insider.alert.{action}", actor_type="employee", actor_id=actor.external_id,
        subject_type="insider_alert", subject_id=str(alert.id), decision=alert.status.value,
        detail=detail,  # type: ignore[arg-type]
    ))


def transition(session: Session, alert: InsiderAlert, to: AlertStatus, actor: Employee, *,
               detail: dict[str, object] | None = None) -> InsiderAlert:
    """Move the alert to `to` if allowed, stamp it, write the audit leaf; InvalidTransition otherwise."""
    require_analyst(actor)
    if to not in MOVES[alert.status]:
        raise InvalidTransition(f"alert {alert.id} is {alert.status.value}; it cannot become {to.value}")
    before = alert.status
    now = clock.now()
    alert.status = to
    alert.updated_at = now
    if to in (AlertStatus.dismissed, AlertStatus.escalated):
        alert.decided_at, alert.decided_by_id = now, actor.id
    _audit(session, {AlertStatus.assigned: "assign", AlertStatus.dismissed: "dismiss",
                     AlertStatus.escalated: "escalate"}[to], actor, alert,
           {"from": before.value, **(detail or {})})
    session.flush()
    return alert


def assign(session: Session, alert_id: int, actor: Employee, assignee: Employee | None = None) -> InsiderAlert:
    """Assign the alert to an analyst (the actor by default)."""
    require_analyst(actor)
    target = assignee or actor
    if target.role not in ANALYST_ROLES or not target.active:
        raise InvalidInput("alerts are assigned to active security analysts", field="assignee")
    alert = service.get_alert(session, alert_id)
    transition(session, alert, AlertStatus.assigned, actor, detail={"assignee": target.external_id})
    alert.assignee_id = target.id
    return alert


def dismiss(session: Session, alert_id: int, actor: Employee, reason: DismissReason | str,
            note: str | None = None) -> InsiderAlert:
    """Dismiss with one of the reasons (fed back to the detectors' weights); a note up to 1000 characters."""
    try:
        reason = DismissReason(reason)
    except ValueError:
        raise InvalidInput("reason must be one of " + ", ".join(r.value for r in DismissReason),
                           field="reason") from None
    if note is not None and len(note) > 1000:
        raise InvalidInput("a note is at most 1000 characters", field="note")
    alert = service.get_alert(session, alert_id)
    transition(session, alert, AlertStatus.dismissed, actor, detail={"reason": reason.value})
    alert.dismiss_reason, alert.note = reason, note
    return alert


def escalate(session: Session, alert_id: int, actor: Employee, note: str | None = None) -> InsiderAlert:
    """Escalate the alert (and its case): the employee is revealed and an incident may be opened from it."""
    if note is not None and len(note) > 1000:
        raise InvalidInput("a note is at most 1000 characters", field="note")
    alert = service.get_alert(session, alert_id)
    transition(session, alert, AlertStatus.escalated, actor)
    alert.note = note or alert.note
    case = session.get(InsiderCase, alert.case_id)
    if case is not None:
        case.status, case.updated_at = CaseStatus.escalated, clock.now()
    session.flush()
    return alert


def record_read(session: Session, actor: Employee, alert_ids: list[int], *, what: str = "list") -> int:
    """Put an analyst's read of alerts on the record (one leaf naming the alerts read); returns its index."""
    require_analyst(actor)
    return append_event(session, AuditEvent(
        action="insider.alert.read", actor_type="employee", actor_id=actor.external_id,
        subject_type="insider_alert", subject_id=str(alert_ids[0]) if len(alert_ids) == 1 else None,
        detail={"what": what, "alerts": [str(i) for i in alert_ids[:200]], "count": len(alert_ids)},
    ))


@dataclass(frozen=True)
class Escalation:
    """What the incidents domain needs from an escalated alert: who, when, and the exact events."""

    alert_id: int
    case_id: int
    employee_id: int
    employee: str  # directory id
    window_start: datetime
    window_end: datetime
    audit_indexes: tuple[int, ...]  # brokered reads (audit leaves)
    imported_ids: tuple[int, ...]  # insider_access_event ids
    customers: tuple[str, ...]
    explanation: str


def escalation(session: Session, alert_id: int) -> Escalation:
    """The escalated alert's actors, window and evidence events; InvalidTransition if it is not escalated."""
    alert = service.get_alert(session, alert_id)
    if alert.status != AlertStatus.escalated:
        raise InvalidTransition(f"alert {alert_id} is {alert.status.value}, not escalated")
    employee = session.get(Employee, alert.employee_id)
    events = service.alert_events(session, alert_id)
    return Escalation(
        alert_id=alert.id, case_id=alert.case_id, employee_id=alert.employee_id,
        employee=employee.external_id if employee else str(alert.employee_id),
        window_start=alert.window_start, window_end=alert.window_end,
        audit_indexes=tuple(sorted({e.audit_index for e in events if e.audit_index is not None})),
        imported_ids=tuple(sorted({e.imported_id for e in events if e.imported_id is not None})),
        customers=tuple(sorted({e.customer_id for e in events})), explanation=alert.explanation,
    )
